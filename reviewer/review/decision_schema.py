"""The SQLite schema of the decision store.

* ``meta``: key-value facts about the file, such as when it was created.
* ``annotation_files``: one row per annotation file the store has seen, with
  its resolved path, its content hash and the last pair selected in it.
* ``events``: an append-only log. A ``decide`` row records a decision with its
  evidence. An ``undo`` row names the ``decide`` row it cancels. Triggers
  reject UPDATE and DELETE, so no decision is ever overwritten.
* ``active_decisions``: the ``decide`` rows that no ``undo`` row cancels.
* ``current_decisions``: the latest active decision of each
  (annotation file, unordered aid pair).

Aids are stored as text, and ``aid_low`` / ``aid_high`` hold the pair's two
aids in ``pair_key`` order. Times are ISO 8601 UTC text.
"""

#: ``PRAGMA user_version``; bump it and add a migration when the layout changes.
SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a decision store (ASCII "WRvw"), to tell it from other SQLite files.
APPLICATION_ID = 0x57527677

#: Statements separated by ";" at the end of a line (the trigger bodies keep theirs inline).
SCHEMA_SQL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE annotation_files (
    file_id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    first_opened_at TEXT NOT NULL,
    last_opened_at TEXT NOT NULL,
    last_aid_a TEXT,
    last_aid_b TEXT
);
CREATE TABLE events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES annotation_files (file_id),
    aid_low TEXT NOT NULL,
    aid_high TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('decide', 'undo')),
    undoes INTEGER UNIQUE REFERENCES events (event_id),
    created_at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    aid_a TEXT,
    aid_b TEXT,
    decision TEXT CHECK (decision IN ('match', 'nomatch', 'notcomp')),
    confidence TEXT CHECK (confidence IN ('doubtless', 'sure', 'unsure', 'guessing')),
    tags TEXT,
    note TEXT,
    threshold REAL,
    fg_weighting INTEGER,
    score REAL,
    score_foreground REAL,
    score_background REAL,
    background_share REAL,
    background_share_unweighted REAL,
    model_a TEXT,
    model_reason_a TEXT,
    model_b TEXT,
    model_reason_b TEXT,
    preset TEXT,
    config TEXT,
    engine_version TEXT,
    CHECK ((kind = 'undo') = (undoes IS NOT NULL)),
    CHECK ((kind = 'decide') = (decision IS NOT NULL AND confidence IS NOT NULL))
);
CREATE INDEX events_pair ON events (file_id, aid_low, aid_high);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE VIEW active_decisions AS
    SELECT * FROM events AS d
    WHERE d.kind = 'decide'
        AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = d.event_id);
CREATE VIEW current_decisions AS
    SELECT * FROM active_decisions AS d
    WHERE d.event_id = (
        SELECT max(o.event_id) FROM active_decisions AS o
        WHERE o.file_id = d.file_id AND o.aid_low = d.aid_low AND o.aid_high = d.aid_high
    );
"""
