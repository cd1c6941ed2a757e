"""Errors that reach the user.

Each message names the file or value at fault and says what to do, so that the
GUI and the command line can show ``str(error)`` as it is, without a traceback.
"""


class ReviewerError(Exception):
    """Base class for errors whose message is written for the user."""


class AnnotationFileError(ReviewerError):
    """The annotation file is missing, unreadable or not COCO JSON."""


class ImageLoadError(ReviewerError):
    """An image file is missing, unreadable or not a decodable image."""


class BBoxError(ReviewerError):
    """An annotation's box does not overlap its image, or has no area."""


class ModelLoadError(ReviewerError):
    """A background model file is missing, corrupt or of the wrong architecture."""


class PairsFileError(ReviewerError):
    """A pairs CSV file is missing or malformed."""


class Cancelled(Exception):  # noqa: N818 -- a signal, not an error
    """Raised inside long work when the user cancels it."""
