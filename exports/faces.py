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

    Issue 27: the search is most of a badge photo's CPU. It runs in two passes: a coarse one over the picture at
    COARSE_SIDE in steps of COARSE_STEP finds where the faces are (a badge's face is large), then each face is
    measured again at DETECT_SIDE, in fine steps, only in a window around it and only at sizes near it: the box
    is within a few pixels of what one fine search of the whole picture gives, for two thirds of its CPU (82
    instead of 127 ms a picture on the test pictures, bench/face_search.py)."""
    grey, scale = _grey(image, COARSE_SIDE)
    least = max(24, round(min(grey.shape) * max(min_share, COARSE_SHARE)))
    found = _classifier().detectMultiScale(grey, scaleFactor=max(step, COARSE_STEP), minNeighbors=6,
                                           minSize=(least, least))
    boxes = [(x / scale, y / scale, w / scale, h / scale) for x, y, w, h in (found if len(found) else [])]
    if not boxes:
        return []
    fine, fine_scale = _grey(image, DETECT_SIDE)
    boxes = sorted((_measure(fine, fine_scale, box, step) for box in boxes), key=lambda b: -b[2] * b[3])
    largest = boxes[0][2]
    return [b for b in boxes if b[2] >= largest * SAME_PERSON_SHARE]


COARSE_SIDE = 1000  # px: where faces are is found at this size at most
COARSE_SHARE = 0.06  # of the shorter side: the smallest face looked for in the coarse pass
COARSE_STEP = 1.10
WINDOW = 0.6  # of a face's size: the margin around it where it is measured again


def _grey(image: Image.Image, side: int):
    """The picture in equalised grey at `side` px at most (as numpy), and its scale."""
    import cv2
    import numpy

    scale = min(1.0, side / max(image.size))
    small = image.convert("L")
    if scale < 1.0:
        small = small.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    return cv2.equalizeHist(numpy.asarray(small)), scale


def _measure(grey, scale: float, box: tuple[float, float, float, float], step: float) -> tuple[int, int, int, int]:
    """A face found by the coarse pass measured again in the fine picture, around where it was; the coarse box
    when the fine search there finds nothing."""
    x, y, w, h = (v * scale for v in box)
    margin = w * WINDOW
    left, top = max(0, int(x - margin)), max(0, int(y - margin))
    right, bottom = min(grey.shape[1], int(x + w + margin)), min(grey.shape[0], int(y + h + margin))
    found = _classifier().detectMultiScale(grey[top:bottom, left:right], scaleFactor=step, minNeighbors=6,
                                           minSize=(round(w * 0.75), round(w * 0.75)),
                                           maxSize=(round(w * 1.35), round(w * 1.35)))
    if len(found):
        fx, fy, fw, fh = max(found, key=lambda f: f[2] * f[3])
        x, y, w, h = fx + left, fy + top, fw, fh
    return round(x / scale), round(y / scale), round(w / scale), round(h / scale)


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
