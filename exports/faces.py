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
    for; `step` is the scale between two searches (larger: faster, coarser)."""
    import cv2
    import numpy

    scale = min(1.0, DETECT_SIDE / max(image.size))
    small = image.convert("L")
    if scale < 1.0:
        small = small.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    grey = cv2.equalizeHist(numpy.asarray(small))
    least = max(24, round(min(small.size) * min_share))
    found = _classifier().detectMultiScale(grey, scaleFactor=step, minNeighbors=6, minSize=(least, least))
    boxes = sorted(((round(x / scale), round(y / scale), round(w / scale), round(h / scale))
                    for x, y, w, h in (found if len(found) else [])), key=lambda b: -b[2] * b[3])
    if not boxes:
        return []
    largest = boxes[0][2]
    return [b for b in boxes if b[2] >= largest * SAME_PERSON_SHARE]


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
