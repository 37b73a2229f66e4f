"""Faces on badge photos: found with OpenCV's Haar cascade that ships inside opencv-python-headless (nothing is
downloaded), and the 3x4 crop an ID photo has around one face: the head about 70 % of the height, the eyes in
the upper half, the face centred across.

`frame_face` is used where a photo is stored (bot/photos.py: the badge JPEG is cut around the face) and
`count_faces` where badges are printed (exports/badges.py: a badge without exactly one face is listed for a fix).
"""

from __future__ import annotations

import threading

from PIL import Image

CASCADE = "haarcascade_frontalface_alt2.xml"  # fewer false faces than "default" on clothes and backgrounds
DETECT_SIDE = 1200  # px: photos are searched at this size at most (more finds smaller faces, slower)
MIN_FACE_SHARE = 0.04  # of the picture's shorter side: smaller "faces" are background noise
SAME_PERSON_SHARE = 0.45  # faces smaller than this share of the largest are not counted as another person
HEAD_SHARE = 0.64  # of the photo's height for the head as the face box implies it (with hair: about 70 %)
HEAD_PER_FACE = 1.40  # a detected face box (brows to chin) is about this share of the head's height
EYES_AT = 0.45  # of the photo's height from its top: the eyes in the upper half
EYES_IN_FACE = 0.40  # of the face box's height from its top
RATIO = 3 / 4  # width / height of the photo

_local = threading.local()


def _classifier():
    classifier = getattr(_local, "classifier", None)
    if classifier is None:
        import cv2

        classifier = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
        if classifier.empty():
            raise RuntimeError(f"OpenCV's {CASCADE} is missing from the installed opencv-python-headless")
        _local.classifier = classifier
    return classifier


def find_faces(image: Image.Image, *, min_share: float = MIN_FACE_SHARE,
               step: float = 1.08) -> list[tuple[int, int, int, int]]:
    """The faces of a picture as (left, top, width, height) in its pixels, largest first; faces much smaller
    than the largest (people far behind) are left out. Faces under `min_share` of the shorter side are not looked
    for; `step` is the scale between two searches (larger: faster, coarser).

    Large faces first (issue 27): an ID photo's face is 40-60 % of the picture, and the whole search, down to
    faces of 4 %, cost 300-400 ms on it. So a first search on a small copy looks for faces of a fifth of the
    picture or more (14 ms). When it finds one, only faces that could still count (SAME_PERSON_SHARE of it,
    with a margin so that a face near that size keeps the windows that vote for it) matter: a face over half
    the picture's width was covered by that search already; otherwise they are searched for on a copy where
    they are still FACE_PX px or more. Without a large face, or should the second search's largest be
    smaller than the first's suggested, the whole search as before."""
    image = image.convert("L")  # once: every search reads it
    side = min(image.size) * min(1.0, DETECT_SIDE / max(image.size))
    boxes = _large_faces(image, step) if side * LARGE_FACE_SHARE > max(24, round(side * min_share)) else None
    if boxes is None:
        boxes = search_all(image, min_share=min_share, step=step)
    if not boxes:
        return []
    largest = boxes[0][2]
    return [b for b in boxes if b[2] >= largest * SAME_PERSON_SHARE]


LARGE_FACE_SHARE = 0.2  # of the shorter side: what the first, cheap search looks for
FIRST_SIDE = 128  # px: the shorter side of the first search's copy (a fifth of it: 26 px faces; 160 cost 23 % more)
FACE_PX = 40  # px: the smallest face that counts, on the second search's copy
SEARCH_MARGIN = 0.8  # the second search goes this far below the smallest face that still counts


def search_all(image: Image.Image, *, min_share: float = MIN_FACE_SHARE,
               step: float = 1.08) -> list[tuple[int, int, int, int]]:
    """The whole search: every face of `min_share` of the shorter side or more, on the picture (grey) at
    DETECT_SIDE at most; in its pixels, largest first, none left out."""
    scale = min(1.0, DETECT_SIDE / max(image.size))
    return _detect(image, scale, step, max(24, round(min(image.size) * scale * min_share)))


def _large_faces(image: Image.Image, step: float) -> list[tuple[int, int, int, int]] | None:
    """The faces that count when the (grey) picture has a large one, in its pixels, largest first; None when it
    has none (or the two searches disagree): the caller then searches everything."""
    first_scale = min(1.0, FIRST_SIDE / min(image.size))
    least = round(min(image.size) * first_scale * LARGE_FACE_SHARE)
    first = _detect(image, first_scale, step, least)
    if not first:
        return None
    floor = first[0][2] * SAME_PERSON_SHARE * SEARCH_MARGIN  # in the picture's pixels
    if floor * first_scale >= least:  # the face is so large that the first search covered every face that counts
        return first
    scale = min(1.0, DETECT_SIDE / max(image.size), FACE_PX / floor)
    found = _detect(image, scale, step, max(24, round(floor * scale)))
    if not found or found[0][2] * SAME_PERSON_SHARE < floor:
        return None  # the largest came out smaller: faces that count may lie below this search
    return found


def _detect(image: Image.Image, scale: float, step: float, least: int) -> list[tuple[int, int, int, int]]:
    """The cascade's faces on the grey picture at `scale` (histogram equalised), of at least `least` px there;
    in the picture's pixels, largest first."""
    import cv2
    import numpy

    if scale < 1.0:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    grey = cv2.equalizeHist(numpy.asarray(image))
    found = _classifier().detectMultiScale(grey, scaleFactor=step, minNeighbors=6, minSize=(least, least))
    return sorted((tuple(round(int(v) / scale) for v in box) for box in (found if len(found) else [])),
                  key=lambda b: -b[2] * b[3])


BADGE_FACE_SHARE = 0.25  # a framed badge's face is a third of its width or more: smaller ones are not looked for


def count_faces(image: Image.Image) -> int:
    """Faces on an already framed badge photo (a quick search: only faces of a framed photo's size)."""
    return len(find_faces(image, min_share=BADGE_FACE_SHARE, step=1.15))


def face_box(width: int, height: int, face: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The 3:4 region (left, top, right, bottom) of a width x height picture framing `face` as an ID photo;
    None when the picture is too small around the face for such a frame (the caller keeps its own crop)."""
    x, y, w, h = face
    crop_h = h * HEAD_PER_FACE / HEAD_SHARE
    crop_w = crop_h * RATIO
    if crop_w > width or crop_h > height:  # not enough picture around the face: as large as fits
        crop_h = min(height, width / RATIO)
        crop_w = crop_h * RATIO
        if crop_h < h * HEAD_PER_FACE:  # the head would not fit whole
            return None
    eyes = y + h * EYES_IN_FACE
    left = min(max(0.0, x + w / 2 - crop_w / 2), width - crop_w)
    top = min(max(0.0, eyes - crop_h * EYES_AT), height - crop_h)
    return round(left), round(top), round(left + crop_w), round(top + crop_h)


def frame_face(image: Image.Image) -> tuple[tuple[int, int, int, int] | None, int]:
    """(the 3:4 region framing the one face, the number of faces found); the region is None unless exactly
    one face was found and the picture has room for the frame."""
    faces = find_faces(image)
    if len(faces) != 1:
        return None, len(faces)
    return face_box(image.width, image.height, faces[0]), 1
