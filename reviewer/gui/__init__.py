"""Qt widgets of the reviewer: thin wiring of controls and views to the review session.

Start it with ``reviewer.gui.app.run_gui``.
"""
