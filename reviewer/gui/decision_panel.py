"""The decision panel and the controller that connects it to the review session.

``DecisionPanel`` only collects input (decision buttons, confidence, tags,
note, reviewer name, undo) and shows the selected pair's decision.
``DecisionController`` turns its signals and the keyboard actions into
``ReviewSession`` calls, and keeps the pair list's decision marks current.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.engine.errors import ReviewerError
from reviewer.gui.shortcuts import key_text
from reviewer.review.pairs import Pair
from reviewer.review.records import (
    CONFIDENCES,
    DECISION_TEXT,
    DECISIONS,
    KNOWN_TAGS,
    DecisionRecord,
    split_tags,
)
from reviewer.review.session import ReviewSession

log = logging.getLogger(__name__)

#: Confidence selected before the reviewer picks one.
DEFAULT_CONFIDENCE = "sure"
#: List text of a pair without a decision.
OPEN_TEXT = "open"


def pair_item_text(pair: Pair, record: DecisionRecord | None) -> str:
    """Return a pair's list entry: its state in brackets, then its label."""
    state = DECISION_TEXT[record.decision] if record is not None else OPEN_TEXT
    return f"[{state}] {pair.label}"


class DecisionPanel(QGroupBox):
    """Input of one decision about the selected pair."""

    decide_requested = Signal(str)  # one of DECISIONS
    undo_requested = Signal()
    reviewer_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Decision", parent)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QLabel()
        self.buttons = {
            decision: QPushButton(f"{DECISION_TEXT[decision]} ({key_text(f'decide_{decision}')})")
            for decision in DECISIONS
        }
        self.confidence_group = QButtonGroup(self)
        self.confidence_buttons = {}
        for number, name in enumerate(CONFIDENCES, start=1):
            button = QRadioButton(f"{number} {name}")
            self.confidence_group.addButton(button, number)
            self.confidence_buttons[name] = button
        self.tag_boxes = {tag: QCheckBox(tag) for tag in KNOWN_TAGS}
        self.other_tags = QLineEdit()
        self.other_tags.setPlaceholderText(f"other tags, comma-separated ({key_text('edit_tags')})")
        self.note = QLineEdit()
        self.note.setPlaceholderText(f"note ({key_text('edit_note')})")
        self.reviewer = QLineEdit()
        self.reviewer.setPlaceholderText("your name")
        self.undo_button = QPushButton(f"Undo ({key_text('undo')})")
        self._layout_widgets()
        self._set_tooltips()

        for decision, button in self.buttons.items():
            button.clicked.connect(lambda _=False, d=decision: self.decide_requested.emit(d))
        self.undo_button.clicked.connect(self.undo_requested)
        self.reviewer.editingFinished.connect(
            lambda: self.reviewer_changed.emit(self.reviewer.text().strip())
        )
        self.set_confidence(DEFAULT_CONFIDENCE)
        self.show_decision(None)

    def _layout_widgets(self) -> None:
        buttons = QHBoxLayout()
        for button in self.buttons.values():
            buttons.addWidget(button)
        confidence = QGridLayout()
        for k, button in enumerate(self.confidence_buttons.values()):
            confidence.addWidget(button, k // 2, k % 2)
        tags = QHBoxLayout()
        for box in self.tag_boxes.values():
            tags.addWidget(box)
        tags.addStretch(1)
        form = QFormLayout()
        form.addRow("confidence:", confidence)
        form.addRow("tags:", tags)
        form.addRow("", self.other_tags)
        form.addRow("note:", self.note)
        form.addRow("reviewer:", self.reviewer)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.undo_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(bottom)

    def _set_tooltips(self) -> None:
        after = "Fill confidence, tags and note first: the decision records them, then "
        after += "selects the next open pair."
        tips = {
            "match": "The two annotations show the same individual. ",
            "nomatch": "The two annotations show different individuals. ",
            "notcomp": "The pair cannot be compared (can't tell). ",
        }
        for decision, button in self.buttons.items():
            button.setToolTip(tips[decision] + after)
        self.tag_boxes["photobomb"].setToolTip(
            f"A second animal in the box made the match ({key_text('tag_photobomb')})"
        )
        self.tag_boxes["scenerymatch"].setToolTip(
            f"The score comes from shared scenery, not the animal ({key_text('tag_scenerymatch')})"
        )
        self.reviewer.setToolTip("Stored with every decision")
        self.undo_button.setToolTip("Undo the latest decision and select its pair")

    # Input --------------------------------------------------------------------------------

    def confidence(self) -> str:
        """Return the selected confidence."""
        return CONFIDENCES[self.confidence_group.checkedId() - 1]

    def set_confidence(self, name: str) -> None:
        """Select a confidence; unknown names are ignored."""
        if name in self.confidence_buttons:
            self.confidence_buttons[name].setChecked(True)

    def toggle_tag(self, tag: str) -> None:
        """Switch a known tag on or off."""
        self.tag_boxes[tag].toggle()

    def tags(self) -> tuple[str, ...]:
        """Return the checked tags, then the free-text tags, without repeats."""
        checked = [tag for tag, box in self.tag_boxes.items() if box.isChecked()]
        return tuple(dict.fromkeys(checked + list(split_tags(self.other_tags.text()))))

    def note_text(self) -> str:
        """Return the note without surrounding whitespace."""
        return self.note.text().strip()

    # Display ------------------------------------------------------------------------------

    def show_decision(self, record: DecisionRecord | None) -> None:
        """Show the selected pair's decision and load its tags and note for editing.

        An open pair starts with no tags and an empty note; the confidence
        stays as the reviewer left it.
        """
        if record is None:
            self.state.setText("<b>open</b>: no decision yet")
            tags, note = (), ""
        else:
            when = record.decided_at[:16].replace("T", " ")
            self.state.setText(f"<b>{escape(record.summary)}</b> · {escape(when)} UTC")
            self.set_confidence(record.confidence)
            tags, note = record.tags, record.note
        for tag, box in self.tag_boxes.items():
            box.setChecked(tag in tags)
        self.other_tags.setText(", ".join(t for t in tags if t not in self.tag_boxes))
        self.note.setText(note)

    def show_progress(self, decided: int, total: int) -> None:
        """Show how many pairs of the list are decided."""
        self.progress.setText(f"{decided} of {total} pairs decided")

    def set_available(self, available: bool, reason: str = "") -> None:
        """Enable the panel, or disable it and show why no decision can be recorded."""
        for widget in self.findChildren(QWidget):
            widget.setEnabled(available)
        self.state.setEnabled(True)
        if not available:
            self.state.setText(escape(reason))


class DecisionController(QObject):
    """Records decisions from the panel and the keyboard, and marks the pair list.

    After each decision the next open pair is selected, so a review runs on
    the decision keys alone.
    """

    message = Signal(str, bool)  # (text for the status line, True when it reports an error)

    def __init__(
        self,
        session: ReviewSession,
        panel: DecisionPanel,
        pair_list: QListWidget,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session, self.panel, self.pair_list = session, panel, pair_list
        panel.decide_requested.connect(self.decide)
        panel.undo_requested.connect(self.undo)
        panel.reviewer_changed.connect(self._on_reviewer)
        panel.reviewer.setText(session.reviewer)
        for field in (panel.other_tags, panel.note, panel.reviewer):
            field.returnPressed.connect(pair_list.setFocus)  # so the single keys work again
        session.events.decision.connect(self._on_decision)
        session.events.selection.connect(self._on_selection)
        if not session.can_decide:
            panel.set_available(False, "No decision file is open, so decisions cannot be saved.")
        self.refresh()

    def handlers(self) -> dict[str, Callable[[], None]]:
        """Keyboard action name -> function, for every decision and navigation action."""
        handlers = {f"decide_{d}": (lambda d=d: self.decide(d)) for d in DECISIONS}
        for name in CONFIDENCES:
            handlers[f"confidence_{name}"] = lambda name=name: self.panel.set_confidence(name)
        for tag in KNOWN_TAGS:
            handlers[f"tag_{tag}"] = lambda tag=tag: self.panel.toggle_tag(tag)
        handlers["edit_tags"] = self.panel.other_tags.setFocus
        handlers["edit_note"] = self.panel.note.setFocus
        handlers["undo"] = self.undo
        handlers["next_pair"] = lambda: self.session.step(1)
        handlers["previous_pair"] = lambda: self.session.step(-1)
        handlers["next_undecided"] = self.select_next_undecided
        return handlers

    def decide(self, decision: str) -> None:
        """Record a decision about the selected pair, then select the next open pair."""
        if self.session.current is None or not self.session.can_decide:
            return
        try:
            record = self.session.decide(
                decision, self.panel.confidence(), self.panel.tags(), self.panel.note_text()
            )
        except (ReviewerError, ValueError) as err:
            log.error("The decision was not saved: %s", err)
            self.message.emit(f"The decision was not saved: {err}", True)
            return
        self.message.emit(
            f"Saved: aid {record.aid_a} vs aid {record.aid_b}: {record.summary}", False
        )
        self.select_next_undecided()

    def undo(self) -> None:
        """Undo the latest decision and select its pair."""
        try:
            undone = self.session.undo()
        except ReviewerError as err:
            log.error("Undo failed: %s", err)
            self.message.emit(f"Undo failed: {err}", True)
            return
        if undone is None:
            self.message.emit("Nothing to undo.", False)
        else:
            self.message.emit(
                f"Undone: aid {undone.aid_a} vs aid {undone.aid_b}: {undone.summary}", False
            )

    def select_next_undecided(self) -> None:
        """Select the next open pair, or report that every pair is decided."""
        index = self.session.next_undecided()
        if index < 0:
            self.message.emit(f"All {len(self.session.pairs)} pairs are decided.", False)
        else:
            self.session.index = index

    def refresh(self) -> None:
        """Redraw every list entry, the progress and the selected pair's decision."""
        for row, pair in enumerate(self.session.pairs):
            self.pair_list.item(row).setText(pair_item_text(pair, self.session.decision(row)))
        self._show_selected()

    def disconnect_session(self) -> None:
        """Stop listening to the session, before the widgets go away."""
        self.session.events.decision.disconnect(self._on_decision)
        self.session.events.selection.disconnect(self._on_selection)

    def _on_decision(self, key: tuple[str, str]) -> None:
        self.refresh()

    def _on_selection(self, index: int) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        self.panel.show_progress(self.session.num_decided, len(self.session.pairs))
        if self.session.can_decide:
            self.panel.show_decision(self.session.decision())

    def _on_reviewer(self, name: str) -> None:
        self.session.reviewer = name
