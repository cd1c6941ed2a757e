"""Start the reviewer window, interactively or to save one offscreen screenshot."""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.errors import AnnotationFileError, PairsFileError, ReviewerError
from reviewer.engine.pipeline import Matcher
from reviewer.gui.settings import WindowSettings
from reviewer.render.qt_compat import check_qt_bindings, route_qt_messages
from reviewer.review.decisions import DecisionStore, DecisionStoreError
from reviewer.review.pairs import load_pairs_csv, merge_pairs, named_pairs
from reviewer.review.paths import default_decisions_path
from reviewer.review.session import ReviewSession

log = logging.getLogger(__name__)

#: Window size in screenshot mode, and the initial size on screen.
WINDOW_SIZE_PX = (1600, 1000)
#: Maximum wait for the ranking, then for the first pair's result, before the screenshot.
SCREENSHOT_TIMEOUT_S = 600
#: Event processing before the screenshot: a first wait, then rounds until no widget moves.
SETTLE_FIRST_WAIT_MS = 200
SETTLE_ROUND_MS = 50
SETTLE_MAX_ROUNDS = 20

_app: QApplication | None = None  # the application run_gui created, kept alive here


def build_session(
    annotations: Path,
    pairs_csv: Path | None = None,
    decisions: Path | None = None,
    reviewer: str = "",
    include_named: bool = True,
) -> ReviewSession:
    """Load the annotations and the pairs to review.

    Pairs from ``pairs_csv`` come first, in file order, because the user asked
    for them; then every pair of named annotations of one species. A pairs file
    that cannot be read becomes a load problem in the window, not an error.

    With ``decisions``, the session records decisions in that file, under the
    name ``reviewer``. Without it, the session records none.

    With ``include_named`` False, only the CSV pairs are listed, as when a
    ranking is about to put its candidates first (``ReviewSession.show_ranking``).

    Raises
    ------
    AnnotationFileError
        The annotation file is missing or is not a COCO annotation file.
    DecisionStoreError
        The decision file is unreadable, locked or not a decision file.
    """
    annots = load_annotations(annotations)
    store = DecisionStore(decisions) if decisions is not None else None
    problems = list(annots.problems)
    csv_pairs = []
    if pairs_csv is not None:
        try:
            csv_pairs, csv_problems = load_pairs_csv(pairs_csv, annots)
            problems += csv_problems
        except PairsFileError as err:
            log.error("%s", err)
            problems.append(str(err))
    pairs = merge_pairs(csv_pairs, named_pairs(annots)) if include_named else csv_pairs
    log.info("Review session: %d pairs, %d load problems", len(pairs), len(problems))
    return ReviewSession(annots, pairs, problems, store=store, reviewer=reviewer)


def _check_query(session: ReviewSession, query: int | str) -> None:
    """Raise ``ReviewerError`` when ``query`` is not an aid of the session's file.

    The check is cheap, so a mistyped aid is reported before the window opens.
    """
    try:
        session.annots.get(query)
    except KeyError as err:
        raise ReviewerError(err.args[0]) from None


def run_gui(
    annotations: Path | None = None,
    pairs_csv: Path | None = None,
    screenshot: Path | None = None,
    matcher: Matcher | None = None,
    decisions: Path | None = None,
    reviewer: str | None = None,
    query: int | str | None = None,
    top: int = 10,
) -> int:
    """Show the reviewer window for an annotation file.

    Parameters
    ----------
    annotations : Path, optional
        COCO annotation file. Default: the file opened last, when it still
        exists, else the bundled demo. Screenshots default to the demo.
    pairs_csv : Path, optional
        CSV file with columns ``aid_a,aid_b``; its pairs are listed first.
    screenshot : Path, optional
        Work offscreen: wait for the ranking when there is a ``query``, select
        the first pair, wait for its result or error, save a PNG of the whole
        window to this path and return.
    matcher : Matcher, optional
        Shared heavy-path engine; default ``Matcher()``.
    decisions : Path, optional
        Decision file; default ``default_decisions_path(annotations)``. A
        screenshot opens the default file only when it exists, so it never
        creates one.
    reviewer : str, optional
        Name stored with each decision; default the name used last, else the
        login name.
    query : int or str, optional
        Review this annotation against its ``top`` best candidates from
        one-vs-many ranking, followed by the ``pairs_csv`` pairs; the named
        pairs are left out. The ranking starts once the window is open, which
        shows its progress and can cancel it.
    top : int
        How many candidates of ``query`` to list.

    Returns
    -------
    int
        The exit code: 0 on success, 1 when the screenshot could not be written,
        2 when the annotation file or the decision file is unusable or ``query``
        is not an aid of the file, and for a screenshot also when the ranking
        failed. Interactively, the Qt event loop's code.
    """
    from reviewer.gui.main_window import MainWindow  # imports pyqtgraph, so only when needed

    app = _application(offscreen=screenshot is not None)
    settings = WindowSettings() if screenshot is None else None  # screenshots remember nothing
    annotations = _annotations_to_open(annotations, settings)
    decisions = _decisions_to_open(annotations, decisions, screenshot is not None)
    reviewer = reviewer or (settings.text("reviewer") if settings else None) or _login_name()
    matcher = matcher or Matcher()
    session = None
    try:
        session = build_session(
            Path(annotations),
            Path(pairs_csv) if pairs_csv else None,
            decisions=decisions,
            reviewer=reviewer,
            include_named=query is None,
        )
        if query is not None:
            _check_query(session, query)
    except ReviewerError as err:
        if session is not None and session.store is not None:
            session.store.close()
        # Reported once: on stderr offscreen, else logged and shown in a dialog.
        if screenshot is not None:
            sys.stderr.write(f"error: {err}\n")
        else:
            log.error("%s", err)
            QMessageBox.critical(None, _error_title(err, query), str(err))
        return 2

    if settings is not None:
        settings.set_last_file(annotations)
    window = MainWindow(session, matcher, settings=settings)
    if settings is None or not settings.restore_window(window, window.splitter):
        window.resize(*WINDOW_SIZE_PX)
    window.show()
    restore_hook = _route_callback_errors(window)
    if query is not None:
        window.start_ranking(query, top)  # the ranking selects rank 1 when it lists pairs
    elif session.pairs:
        session.index = 0 if screenshot is not None else session.resume_index()
    if screenshot is None:
        try:
            return app.exec()
        finally:
            restore_hook()
            if session.store is not None:
                session.store.close()

    try:
        if query is not None and not _wait_for_ranking(window):
            return 2
        if session.index < 0 and session.pairs:
            session.index = 0
        _wait_for_outcome(window)
        return _save_screenshot(window, Path(screenshot))
    finally:
        restore_hook()
        window.close()


def _route_callback_errors(window) -> Callable[[], None]:
    """Log errors that escape Qt callbacks and show them in the window; return the undo.

    Qt hands such an error to ``sys.excepthook``. Without this hook it would
    reach only stderr, and the reviewer would not know why a view stopped
    updating.
    """
    previous = sys.excepthook

    def hook(exc_type, err, traceback) -> None:
        if not issubclass(exc_type, Exception):  # KeyboardInterrupt, SystemExit
            previous(exc_type, err, traceback)
            return
        log.error("Unexpected error in a window callback", exc_info=(exc_type, err, traceback))
        window.show_unexpected_error(err)

    sys.excepthook = hook
    return lambda: setattr(sys, "excepthook", previous)


def _annotations_to_open(annotations: Path | None, settings: WindowSettings | None) -> Path:
    """Return the given file, else the file opened last, else the bundled demo."""
    if annotations is not None:
        return Path(annotations)
    last = settings.last_file() if settings is not None else None
    if last is not None:
        log.info("Opening the annotation file used last: %s", last)
        return last
    return DEMO_ANNOTATIONS


def _decisions_to_open(annotations: Path, decisions: Path | None, screenshot: bool) -> Path | None:
    """Return the decision file to open. A screenshot opens only a file that exists."""
    if decisions is not None:
        return Path(decisions)
    default = default_decisions_path(annotations)
    if screenshot and not default.is_file():
        return None
    log.info("Decisions go to %s", default)
    return default


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment or the user database
        return ""


def _error_title(err: ReviewerError, query: int | str | None) -> str:
    if isinstance(err, AnnotationFileError):
        return "Cannot open the annotation file"
    if isinstance(err, DecisionStoreError):
        return "Cannot open the decision file"
    return f"Cannot rank aid {query}" if query is not None else "Cannot open the review"


def _application(offscreen: bool) -> QApplication:
    """Return the running QApplication, or create one (offscreen for screenshots)."""
    global _app
    check_qt_bindings()
    route_qt_messages()
    existing = QApplication.instance()
    if existing is not None:
        if not isinstance(existing, QApplication):
            raise RuntimeError(
                "A QGuiApplication without widgets is already running; "
                "start the GUI in a fresh process."
            )
        return existing
    argv = ["reviewer", "-platform", "offscreen"] if offscreen else ["reviewer"]
    _app = QApplication(argv)
    return _app


def _wait_for_outcome(window) -> None:
    """Process events until the selected pair has a result, an error or was cancelled."""
    session = window.session
    if session.current is None:
        return
    key = session.current.key
    if session.result(key) is not None or session.error(key) is not None:
        return

    loop = QEventLoop()

    def on_result(result_key) -> None:
        if result_key == key:
            loop.quit()

    timeout = QTimer(loop)  # owned by the loop, so it dies with it
    timeout.setSingleShot(True)
    timeout.timeout.connect(loop.quit)
    session.events.result.connect(on_result)
    window.runner.cancelled.connect(loop.quit)
    timeout.start(SCREENSHOT_TIMEOUT_S * 1000)
    loop.exec()
    session.events.result.disconnect(on_result)
    window.runner.cancelled.disconnect(loop.quit)
    if session.result(key) is None and session.error(key) is None:
        log.warning("No result for aid %s vs aid %s within %d s", *key, SCREENSHOT_TIMEOUT_S)


def _wait_for_ranking(window) -> bool:
    """Process events until the window's ranking ends.

    Returns False when the ranking failed, was cancelled or timed out. The
    reason goes to stderr, as an offscreen run has no status line to read.
    """
    # The ranking cannot have ended yet: its end arrives as a queued signal,
    # which only this event loop delivers.
    outcome: list[tuple[bool, str]] = []
    loop = QEventLoop()

    def on_ended(ranked: bool, message: str) -> None:
        outcome.append((ranked, message))
        loop.quit()

    timeout = QTimer(loop)  # owned by the loop, so it dies with it
    timeout.setSingleShot(True)
    timeout.timeout.connect(loop.quit)
    window.ranking.ended.connect(on_ended)
    timeout.start(SCREENSHOT_TIMEOUT_S * 1000)
    loop.exec()
    window.ranking.ended.disconnect(on_ended)
    if not outcome:
        sys.stderr.write(f"error: the ranking timed out after {SCREENSHOT_TIMEOUT_S} s\n")
        return False
    ranked, message = outcome[0]
    if not ranked:
        sys.stderr.write(f"error: {message}\n")
    return ranked


def _settle(window) -> None:
    """Process events until the window's layout is stable, so the grab shows the final sizes.

    Text set with the result changes size hints, and layouts resize in later
    event rounds. The layout counts as stable when no child widget's geometry
    changed over one round, and the wait ends after ``SETTLE_MAX_ROUNDS`` rounds anyway.
    """
    _wait_ms(SETTLE_FIRST_WAIT_MS)
    before = _geometries(window)
    for _ in range(SETTLE_MAX_ROUNDS):
        _wait_ms(SETTLE_ROUND_MS)
        after = _geometries(window)
        if after == before:
            return
        before = after
    log.debug("The window layout still changed after %d rounds", SETTLE_MAX_ROUNDS)


def _wait_ms(duration_ms: int) -> None:
    """Run the event loop for ``duration_ms``, then handle what is still pending."""
    loop = QEventLoop()
    QTimer.singleShot(duration_ms, loop.quit)
    loop.exec()
    QApplication.processEvents()


def _geometries(window) -> list[tuple[int, int, int, int]]:
    widgets = [window, *window.findChildren(QWidget)]
    return [widget.geometry().getRect() for widget in widgets]


#: Screenshot file suffix -> Qt image format.
SCREENSHOT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP"}


def _save_screenshot(window, path: Path) -> int:
    """Render the window and save it in the format its suffix names; return 0 on success, else 1."""
    image_format = SCREENSHOT_FORMATS.get(path.suffix.lower())
    if image_format is None:
        sys.stderr.write(
            f"error: cannot write screenshot {path}: the name must end in .png, .jpg or .bmp\n"
        )
        return 1
    _settle(window)
    image = window.grab()
    if path.parent and not path.parent.is_dir():
        sys.stderr.write(
            f"error: cannot write screenshot {path}: folder {path.parent} does not exist\n"
        )
        return 1
    if not image.save(str(path), image_format):
        sys.stderr.write(
            f"error: cannot write screenshot {path}; check that the folder is writable\n"
        )
        return 1
    log.info("Saved screenshot %s (%dx%d px)", path, image.width(), image.height())
    return 0
