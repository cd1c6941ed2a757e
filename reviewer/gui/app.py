"""Start the reviewer window, interactively or to save one offscreen screenshot."""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.errors import AnnotationFileError, PairsFileError, ReviewerError
from reviewer.engine.pipeline import Matcher, ProgressCallback
from reviewer.gui.settings import WindowSettings
from reviewer.render.qt_compat import check_qt_bindings, route_qt_messages
from reviewer.review.decisions import DecisionStore, DecisionStoreError
from reviewer.review.pairs import Pair, load_pairs_csv, merge_pairs, named_pairs, ranked_pairs
from reviewer.review.paths import default_decisions_path
from reviewer.review.session import ReviewSession

log = logging.getLogger(__name__)

#: Window size in screenshot mode, and the initial size on screen.
WINDOW_SIZE_PX = (1600, 1000)
#: Maximum wait for the first pair's result before the screenshot is taken anyway.
SCREENSHOT_TIMEOUT_S = 600
#: Event processing before the screenshot: a first wait, then rounds until no widget moves.
SETTLE_FIRST_WAIT_MS = 200
SETTLE_ROUND_MS = 50
SETTLE_MAX_ROUNDS = 20

_app: QApplication | None = None  # the application run_gui created, kept alive here


def build_session(
    annotations: Path,
    pairs_csv: Path | None = None,
    query: int | str | None = None,
    top: int = 10,
    matcher: Matcher | None = None,
    progress: ProgressCallback | None = None,
    decisions: Path | None = None,
    reviewer: str = "",
) -> ReviewSession:
    """Load the annotations and the pairs to review.

    Pairs from ``pairs_csv`` come first, in file order, because the user asked
    for them; then every pair of named annotations of one species. A pairs file
    that cannot be read becomes a load problem in the window, not an error.

    With ``decisions``, the session records decisions in that file, under the
    name ``reviewer``. Without it, the session records none.

    With ``query``, each pair is the query and one of its ``top`` best
    candidates from one-vs-many ranking, in rank order. The CSV pairs follow,
    and the named pairs are left out. The ranking runs here, on the calling
    thread, so call this before the window opens or from a worker.

    Raises
    ------
    AnnotationFileError
        The annotation file is missing or is not a COCO annotation file.
    DecisionStoreError
        The decision file is unreadable, locked or not a decision file.
    ReviewerError
        ``query`` is not an aid of the file, or its photo or box is unusable.
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
    if query is None:
        pairs = merge_pairs(csv_pairs, named_pairs(annots))
    else:
        rank_pairs, rank_problems = _rank_pairs(annots, query, top, matcher, progress)
        problems += rank_problems
        pairs = merge_pairs(rank_pairs, csv_pairs)
    log.info("Review session: %d pairs, %d load problems", len(pairs), len(problems))
    return ReviewSession(annots, pairs, problems, store=store, reviewer=reviewer)


def _rank_pairs(annots, query, top, matcher, progress) -> tuple[list[Pair], list[str]]:
    """Rank the query against its species and return its best candidates as pairs."""
    from reviewer.engine.vsmany import rank_aid  # imports pyflann only when ranking

    try:
        result = rank_aid(annots, query, matcher or Matcher(), progress=progress)
    except KeyError as err:
        raise ReviewerError(err.args[0]) from None
    problems = list(result.warnings)
    if not result.candidates:
        problems.append(f"aid {query}: no candidate passed spatial verification")
    candidates = [candidate.annot for candidate in result.candidates[:top]]
    return ranked_pairs(result.query, candidates), problems


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
        Work offscreen: select the first pair, wait for its result or error,
        save a PNG of the whole window to this path and return.
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
        one-vs-many ranking. The ranking runs before the window opens and
        reports its progress on stderr.

    Returns
    -------
    int
        The exit code: 0 on success, 1 when the screenshot could not be written,
        2 when the annotation file or the decision file is unusable. Interactively,
        the Qt event loop's code.
    """
    from reviewer.gui.main_window import MainWindow  # imports pyqtgraph, so only when needed

    app = _application(offscreen=screenshot is not None)
    settings = WindowSettings() if screenshot is None else None  # screenshots remember nothing
    annotations = _annotations_to_open(annotations, settings)
    decisions = _decisions_to_open(annotations, decisions, screenshot is not None)
    reviewer = reviewer or (settings.text("reviewer") if settings else None) or _login_name()
    matcher = matcher or Matcher()
    try:
        session = build_session(
            Path(annotations),
            Path(pairs_csv) if pairs_csv else None,
            query=query,
            top=top,
            matcher=matcher,
            progress=_stderr_progress(query) if query is not None else None,
            decisions=decisions,
            reviewer=reviewer,
        )
    except ReviewerError as err:
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
    if session.pairs:
        session.index = 0 if screenshot is not None else session.resume_index()
    if screenshot is None:
        try:
            return app.exec()
        finally:
            if session.store is not None:
                session.store.close()

    try:
        _wait_for_outcome(window)
        return _save_screenshot(window, Path(screenshot))
    finally:
        window.close()


def _stderr_progress(query: int | str) -> ProgressCallback:
    """Return a progress callback that writes a line to stderr at every tenth of the work."""
    last_step = -1

    def report(fraction: float, message: str) -> None:
        nonlocal last_step
        step = int(10 * fraction)
        if step != last_step:
            last_step = step
            sys.stderr.write(f"ranking aid {query}: {100 * fraction:3.0f}% {message}\n")

    return report


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


def _save_screenshot(window, path: Path) -> int:
    """Render the window and save it as PNG; return 0 on success, else 1."""
    _settle(window)
    image = window.grab()
    if path.parent and not path.parent.is_dir():
        sys.stderr.write(
            f"error: cannot write screenshot {path}: folder {path.parent} does not exist\n"
        )
        return 1
    if not image.save(str(path), "PNG"):
        sys.stderr.write(
            f"error: cannot write screenshot {path}; check that the folder is writable\n"
        )
        return 1
    log.info("Saved screenshot %s (%dx%d px)", path, image.width(), image.height())
    return 0
