"""Drawing of match figures, shared by the GUI views and file export.

This package may import Qt (QtGui for painting, QtWidgets only for the scene
items in ``items``) but never pyqtgraph, so that export works without a
display. The main entry point is ``reviewer.render.figure.export_match_figure``.
"""
