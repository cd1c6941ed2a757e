"""Main window: wires the review session to the pair list, the controls and the views.

The window stores no review state of its own. Controls write to the
``ReviewSession``, and the session's events trigger every redraw. The heavy
path runs in ``MatchRunner``'s worker thread and hands results to the session.
A one-vs-many ranking runs in ``RankRunner``'s worker thread. While it runs,
it owns the progress bar and the status line, and its result replaces the pair list.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from reviewer.engine.pipeline import Matcher
from reviewer.engine.scoring import ScoreConfig
from reviewer.gui.decision_panel import DecisionController, DecisionPanel
from reviewer.gui.export_dialog import run_export_dialog
from reviewer.gui.flags_panel import FlagsPanel
from reviewer.gui.panels import (
    ERROR_STYLE,
    ChipHeader,
    ColorBarWidget,
    ScoreControls,
    ScorePanel,
)
from reviewer.gui.rank_runner import RankRequest, RankRunner
from reviewer.gui.ranking import RankController
from reviewer.gui.settings import WindowSettings
from reviewer.gui.shortcuts import ShortcutsDialog, install_actions
from reviewer.gui.views import PairViews
from reviewer.gui.worker import MatchRunner
from reviewer.render.qt_compat import check_qt_bindings
from reviewer.render.text import no_fgweights_text
from reviewer.review.session import ReviewSession

log = logging.getLogger(__name__)

#: Steps of the progress bar.
PROGRESS_STEPS = 1000
#: Change of the mask threshold per key press of threshold up or down.
THRESHOLD_KEY_STEP = 0.05


class MainWindow(QMainWindow):
    """Review of the annotation pairs of one annotation file."""

    def __init__(
        self,
        session: ReviewSession,
        matcher: Matcher,
        parent: QWidget | None = None,
        settings: WindowSettings | None = None,
    ):
        super().__init__(parent)
        check_qt_bindings()
        self.session = session
        self.settings = settings  # None: remember nothing, as in tests and screenshots
        self.runner = MatchRunner(matcher, self)
        self.ranker = RankRunner(matcher, self)
        self._matching = False  # True while a match of the selected pair runs
        self.setWindowTitle(f"Match reviewer: {session.annots.path.name}")
        self._build()
        self._fill_pair_list()
        self.ranking = RankController(session, self.ranker, self.progress, self)
        self._connect()
        self.decisions = DecisionController(session, self.decision_panel, self.pair_list, self)
        self.decisions.message.connect(self._show_message)
        self.actions = install_actions(self, self._action_handlers(), self.views.layers.actions)
        self._build_file_menu()
        self._restore_settings()

    # Layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        self.pair_list = QListWidget()
        self.decision_panel = DecisionPanel()
        self.problems = QPlainTextEdit()
        self.problems.setReadOnly(True)
        self.problems.setMaximumHeight(120)
        self.problems_box = QGroupBox()
        QVBoxLayout(self.problems_box).addWidget(self.problems)
        self.controls = ScoreControls()
        self.numbers = ScorePanel()
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.status = QLabel()
        self.status.setWordWrap(True)
        # Not "Match": that word records a decision (M), and this button records none.
        self.match_button = QPushButton("Run matching")
        self.match_button.setToolTip("Run matching for the selected pair again")
        self.cancel_button = QPushButton("Cancel")

        buttons = QHBoxLayout()
        buttons.addWidget(self.match_button)
        buttons.addWidget(self.cancel_button)
        left = QWidget()
        column = QVBoxLayout(left)
        self.pairs_title = QLabel()
        column.addWidget(self.pairs_title)
        column.addWidget(self.pair_list, 2)
        column.addWidget(self.decision_panel)
        column.addWidget(self.problems_box)
        column.addWidget(self.controls)
        column.addWidget(self.numbers)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addLayout(buttons)

        self.header = ChipHeader()
        self.flags = FlagsPanel()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.views = PairViews()
        self.colorbar = ColorBarWidget()
        right = QWidget()
        centre = QVBoxLayout(right)
        centre.addWidget(self.header)
        centre.addWidget(self.flags)
        centre.addWidget(self.error)
        centre.addWidget(self.views, 1)
        centre.addWidget(self.colorbar)

        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 1270])
        self.setCentralWidget(splitter)
        self._set_busy(False)

    def _build_file_menu(self) -> None:
        """Put File → Export figure… and File → Quit first in the menu bar."""
        self.export_action = QAction("Export figure…", self)
        self.export_action.setObjectName("export_figure")
        self.export_action.setStatusTip("Write the selected pair's figure and its JSON sidecar")
        self.export_action.triggered.connect(self._export_figure)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setStatusTip("Close the window; every recorded decision is already saved")
        self.quit_action.triggered.connect(self.close)
        self.addAction(self.quit_action)  # so Ctrl+Q works while the menu is closed
        menu = QMenu("&File", self)
        menu.addAction(self.export_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        existing = self.menuBar().actions()
        if existing:
            self.menuBar().insertMenu(existing[0], menu)
        else:
            self.menuBar().addMenu(menu)

    def _fill_pair_list(self) -> None:
        self.pair_list.blockSignals(True)  # the session's selection is set after the list
        self.pair_list.clear()
        self.pair_list.blockSignals(False)
        self.pairs_title.setText(f"<b>Pairs ({len(self.session.pairs)})</b>")
        for pair in self.session.pairs:
            item = QListWidgetItem(pair.label)
            item.setToolTip(f"source: {pair.source}")
            self.pair_list.addItem(item)
        if not self.session.pairs:
            self.status.setText(
                "No pairs to review: the file has no two named annotations of one species. "
                "Give a pairs CSV with columns aid_a,aid_b."
            )
        problems = self.session.problems
        self.problems_box.setTitle(f"Problems ({len(problems)})")
        self.problems.setPlainText("\n".join(problems))
        self.problems.setStyleSheet("QPlainTextEdit { color: #7a3e00; background: #fff8e1; }")
        self.problems_box.setVisible(bool(problems))

    def _connect(self) -> None:
        self.pair_list.currentRowChanged.connect(self._on_row_changed)
        self.controls.threshold_changed.connect(self._on_threshold)
        self.controls.weighting_changed.connect(self._on_weighting)
        self.match_button.clicked.connect(self._start_current)
        self.cancel_button.clicked.connect(self._cancel)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self.session.set_result)
        self.runner.failed.connect(self.session.set_error)
        self.runner.cancelled.connect(self._on_cancelled)
        self.ranking.message.connect(self._show_message)
        self.ranking.busy_changed.connect(self._update_buttons)
        self.session.events.pairs.connect(self._on_pairs)
        self.session.events.selection.connect(self._on_selection)
        self.session.events.result.connect(self._on_result)
        self.session.events.score_config.connect(self._on_score_config)

    def _action_handlers(self) -> dict:
        """Keyboard action name -> function; the layer toggles are the views' own actions."""
        handlers = self.decisions.handlers()
        handlers["leave_field"] = self.pair_list.setFocus
        handlers["threshold_up"] = lambda: self._step_threshold(THRESHOLD_KEY_STEP)
        handlers["threshold_down"] = lambda: self._step_threshold(-THRESHOLD_KEY_STEP)
        handlers["toggle_weighting"] = self.controls.weighting.click
        handlers["toggle_mask_mode"] = self._toggle_mask_mode
        handlers["fit_views"] = self.views.fit
        handlers["show_shortcuts"] = self.show_shortcuts
        handlers["rank_candidates"] = self.ranking.ask
        return handlers

    def show_shortcuts(self) -> None:
        """Open the Help -> Shortcuts dialog."""
        ShortcutsDialog(self).exec()

    def start_ranking(self, query: int | str, top: int = 10) -> None:
        """Rank ``query`` in the worker and list its best ``top`` candidates when it ends."""
        self.ranking.start(RankRequest(query, top))

    # Controls -> session ----------------------------------------------------------------

    def _step_threshold(self, delta: float) -> None:
        self.session.threshold = min(max(round(self.session.threshold + delta, 2), 0.0), 1.0)

    def _toggle_mask_mode(self) -> None:
        mode = self.views.masks.mode
        mode.setCurrentIndex((mode.currentIndex() + 1) % mode.count())

    def _on_row_changed(self, row: int) -> None:
        self.session.index = row

    def _on_threshold(self, threshold: float) -> None:
        self.session.threshold = threshold

    def _on_weighting(self, on: bool) -> None:
        self.session.fg_weighting = on

    def _start_current(self) -> None:
        pair = self.session.current
        if pair is None:
            return
        if not self.ranker.busy:
            self.progress.setValue(0)
            self.status.setText(f"Matching aid {pair.a.aid} vs aid {pair.b.aid} …")
        self._set_busy(True)
        self.runner.start(pair)

    def _cancel(self) -> None:
        """Stop what runs: the ranking and the selected pair's match."""
        self.ranking.cancel()
        self.runner.cancel()

    # Session and runner -> widgets ------------------------------------------------------

    def _on_selection(self, index: int) -> None:
        if self.pair_list.currentRow() != index:
            self.pair_list.blockSignals(True)
            self.pair_list.setCurrentRow(index)
            self.pair_list.blockSignals(False)
        self._show_current()
        has_outcome = self.session.result() is not None or self.session.error() is not None
        if self.session.current is not None and not has_outcome:
            self._start_current()
        elif not self.ranker.busy:
            self.progress.setValue(PROGRESS_STEPS if self.session.result() else 0)

    def _on_result(self, key: tuple[str, str]) -> None:
        self._mark_pair(key)
        current = self.session.current
        if current is not None and key == current.key:
            self._set_busy(False)
            if not self.ranker.busy:
                self.progress.setValue(PROGRESS_STEPS if self.session.result(key) else 0)
                self.status.setText("")
            self._show_current()

    def _on_pairs(self) -> None:
        self._fill_pair_list()
        self.decisions.refresh()

    def _on_score_config(self, config: ScoreConfig) -> None:
        self.controls.show_state(config.threshold, config.fg_weighting)
        self._show_score()

    def show_unexpected_error(self, err: BaseException) -> None:
        """Show an error that escaped a callback, without its traceback (the log has it)."""
        text = f"Unexpected error ({type(err).__name__}: {err}). The log has the traceback."
        self._show_message(text, True)

    def _show_message(self, text: str, is_error: bool) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if is_error else "")

    def _on_progress(self, fraction: float, message: str) -> None:
        if self.ranker.busy:
            return
        self.progress.setValue(round(fraction * PROGRESS_STEPS))
        self.status.setText(message)

    def _on_cancelled(self, key: tuple[str, str]) -> None:
        self._set_busy(False)
        if self.ranker.busy:
            return
        self.progress.setValue(0)
        self.status.setText(
            f"Matching aid {key[0]} vs aid {key[1]} was cancelled. "
            "Press Run matching to start it again."
        )

    # Drawing -----------------------------------------------------------------------------

    def _show_current(self) -> None:
        """Redraw everything for the selected pair: result, error or nothing yet."""
        pair, match, error = self.session.current, self.session.result(), self.session.error()
        self.header.show_pair(pair, match)
        self.flags.show_pair(pair)
        has_fgweights = match is None or match.fg_weighting
        self.controls.set_weighting_available(
            has_fgweights, "" if has_fgweights else no_fgweights_text(match)
        )
        self.error.setVisible(error is not None)
        if error is not None:
            self.error.setText(
                f"aid {pair.a.aid} vs aid {pair.b.aid} could not be matched: {error}"
            )
        if match is None:
            self.views.clear()
            self.numbers.show_score(None, None)
            return
        try:
            self.views.show_match(match, self.session.current_score())
        except Exception as err:  # noqa: BLE001 -- a drawing bug must not close the window
            self._show_unexpected("drawing the pair", err)
        self._show_score()

    def _show_score(self) -> None:
        """Re-score the selected pair live and redraw what depends on the score."""
        match = self.session.result()
        score = self.session.current_score()
        config = self.session.score_config
        self.colorbar.show_state(
            match.fg_weighting if match else True, config.threshold, config.fg_weighting
        )
        if match is None or score is None:
            return
        self.numbers.show_score(match, score)
        self.flags.show_score(match, score)
        try:
            self.views.show_score(score)
        except Exception as err:  # noqa: BLE001 -- a drawing bug must not close the window
            self._show_unexpected("redrawing the score", err)

    def _export_figure(self) -> None:
        written = run_export_dialog(
            self, self.session, self.runner.matcher.config, self.flags.warn_share_limit
        )
        if written is not None:
            self.status.setText(f"Wrote {written.figure} and {written.sidecar.name}")

    def _show_unexpected(self, task: str, err: Exception) -> None:
        log.exception("Unexpected error while %s", task)
        self.error.setText(
            f"Unexpected error while {task} ({type(err).__name__}: {err}). "
            "The log has the traceback."
        )
        self.error.show()

    def _mark_pair(self, key: tuple[str, str]) -> None:
        """Colour a pair's list entry red when it failed, with the reason as tooltip."""
        for row, pair in enumerate(self.session.pairs):
            if pair.key != key:
                continue
            item = self.pair_list.item(row)
            error = self.session.error(key)
            item.setForeground(QBrush(QColor("#c00000")) if error else QBrush())
            item.setToolTip(error or f"source: {pair.source}")

    def _set_busy(self, matching: bool) -> None:
        self._matching = matching
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.cancel_button.setEnabled(self._matching or self.ranker.busy)
        self.match_button.setEnabled(not self._matching and self.session.current is not None)

    # Closing ------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        """Apply the stored threshold, weighting, toggles and confidence."""
        if self.settings is None:
            return
        settings = self.settings
        threshold, weighting = settings.threshold(), settings.fg_weighting()
        if threshold is not None:
            self.session.threshold = threshold
        if weighting is not None:
            self.session.fg_weighting = weighting
        for name, action in self.views.layers.actions.items():
            if settings.toggle(name) is not None:
                action.setChecked(settings.toggle(name))
        self.views.masks.mode.setCurrentText(settings.text("mask_mode") or "")
        self.decision_panel.set_confidence(settings.text("confidence") or "")

    def _save_settings(self) -> None:
        settings = self.settings
        settings.save_window(self, self.splitter)
        settings.set_scoring(self.session.threshold, self.session.fg_weighting)
        for name, action in self.views.layers.actions.items():
            settings.set_toggle(name, action.isChecked())
        settings.set_text("mask_mode", self.views.masks.mode.currentText())
        settings.set_text("confidence", self.decision_panel.confidence())
        settings.set_text("reviewer", self.session.reviewer)
        settings.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 -- Qt override
        """Stop the worker, store the settings and detach from the session."""
        if not self.runner.shutdown():
            log.warning("The matching worker did not stop within 30 s of closing the window")
        if not self.ranker.shutdown():
            log.warning("The ranking worker did not stop within 30 s of closing the window")
        if self.settings is not None:
            self._save_settings()
        self.decisions.disconnect_session()
        self.session.events.selection.disconnect(self._on_selection)
        self.session.events.result.disconnect(self._on_result)
        self.session.events.score_config.disconnect(self._on_score_config)
        self.session.events.pairs.disconnect(self._on_pairs)
        super().closeEvent(event)
