"""HotSpotter-style matching engine. This package imports no Qt.

Vocabulary, kept from HotSpotter and Wildbook IA so that readers of either can
follow along:

annotation, annot
    One animal in one photo: an image, a bounding box, a rotation ``theta`` and
    a species. ``aid`` is its id in the annotation file.
name
    The individual an annotation shows (``IBEIS_PZ_1281``). Unknown is ``None``.
chip
    The annotation box cut out of the photo by one affine warp, rotated by
    ``-theta`` and scaled so that its longer side is 700 px.
kpts
    Keypoints, an (N, 6) float32 array of ``x, y, iv11, iv21, iv22, ori`` in chip
    pixels. ``[[iv11, 0], [iv21, iv22]]`` maps the unit circle onto the
    keypoint's ellipse.
vecs
    SIFT descriptors, an (N, 128) uint8 array, one row per keypoint.
probchip
    Foreground probability map of a chip, (H, W) float32 in [0, 1].
fgweight
    Per-keypoint foreground weight in [0, 1]: the probchip averaged over the
    keypoint's ellipse under a Gaussian window.
fm, fs
    Feature matches and their scores. ``fm`` is (M, 2) int with rows
    ``(index into kpts of chip A, index into kpts of chip B)``; ``fs`` is (M,)
    float32.
K, Knorm
    Number of nearest neighbours kept as matches, and number of further
    neighbours used to normalise them (the ratio test, LNBNN).
LNBNN
    Local naive Bayes nearest neighbour: ``fs = d(normaliser) - d(match)``.
sver
    Spatial verification: affine hypotheses from single correspondences, then
    homography refinement. It returns the inlier subset of ``fm``.
"""
