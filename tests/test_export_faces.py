"""Faces on badges: the badge photo is cut around the one face as a 3x4 ID photo (head about 70 % of the height,
eyes in the upper half), with OpenCV's bundled Haar cascade; no face or several: today's centre crop, and the
person is listed on the badge sheet's last page. Real faces: scikit-image's astronaut, placed off-centre on large
canvases, portrait and landscape."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess

import pytest
from PIL import Image, ImageOps
from pdfminer.high_level import extract_text

from bot.photos import OUT_HEIGHT, OUT_WIDTH, process_photo, store_photo
from conversations import texts
from exports.badges import BADGE_H, BADGE_W, PHOTO_H, PHOTO_W, build_badges
from exports import faces
from exports.faces import find_faces
from tests.export_samples import sample_export_data
from tests.face_photos import id_photo, jpeg_of, on_canvas

PDFTOPPM = shutil.which("pdftoppm")
OFF_CENTRE = {  # name: (width, height, where the 1024 px astronaut goes)
    "landscape-left-low": (4000, 3000, (120, 1850)),
    "landscape-right-high": (4000, 3000, (2850, 80)),
    "portrait-right-low": (1800, 3200, (760, 2100)),
    "portrait-left-high": (2400, 3600, (40, 200)),
}


def badge_of(data: bytes) -> tuple[Image.Image, int]:
    photo = process_photo(data)
    return Image.open(io.BytesIO(photo.jpeg)), photo.faces


@pytest.mark.parametrize("name", OFF_CENTRE)
def test_process_photo__face_off_centre__framed_as_an_id_photo(name):
    width, height, at = OFF_CENTRE[name]
    badge, faces = badge_of(jpeg_of(on_canvas(width, height, at)))
    found = find_faces(badge)
    assert (1, (OUT_WIDTH, OUT_HEIGHT), 1) == (faces, badge.size, len(found))
    x, y, w, h = found[0]
    centre, eyes = (x + w / 2) / OUT_WIDTH, (y + 0.4 * h) / OUT_HEIGHT
    assert 0.4 < centre < 0.6, centre  # centred across
    assert 0.3 < eyes < 0.5, eyes  # the eyes in the upper half
    assert 0.55 < h * 1.4 / OUT_HEIGHT < 0.85, h  # the head (hair to chin, ~1.4 face boxes) about 70 %


def test_process_photo__no_face__centre_crop_as_before_and_said():
    plain = on_canvas(3000, 2000, (0, 0), size=16)  # a speck, no face
    badge, faces = badge_of(jpeg_of(plain))
    expected = ImageOps.fit(plain, (OUT_WIDTH, OUT_HEIGHT), method=Image.Resampling.LANCZOS)
    assert 0 == faces
    assert max(abs(a - b) for a, b in zip(badge.resize((10, 10)).tobytes(), expected.resize((10, 10)).tobytes())) < 12


def test_process_photo__two_people__not_guessed_centre_crop_kept():
    picture = on_canvas(3000, 1400, (400, 200), size=1000, people=2)
    badge, faces = badge_of(jpeg_of(picture))
    expected = ImageOps.fit(picture, (OUT_WIDTH, OUT_HEIGHT), method=Image.Resampling.LANCZOS)
    assert 2 == faces
    assert max(abs(a - b) for a, b in zip(badge.resize((10, 10)).tobytes(), expected.resize((10, 10)).tobytes())) < 12


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) is not installed")
def test_badges__off_centre_photos__each_face_inside_its_photo_frame_and_the_faceless_listed(tmp_path):
    """Printed at 150 dpi: every face found on the badge page lies inside a badge's photo frame, one per framed
    photo; the photo without a face is still printed and listed on the last page."""
    data = sample_export_data(tmp_path)
    stp = data.units[0]
    keys = ["main_staff[1].photo", "main_staff[2].photo", "main_staff[3].photo", "backup_staff[1].photo",
            "backup_staff[2].photo"]
    canvases = [on_canvas(w, h, at) for w, h, at in OFF_CENTRE.values()] + [on_canvas(3000, 2000, (0, 0), size=16)]
    photos = {stp.answers[key]: store_photo(tmp_path / "photos", jpeg_of(image)).processed_path
              for key, image in zip(keys, canvases)}
    unit = dataclasses.replace(stp, photos=photos)
    paths = build_badges(dataclasses.replace(data, units=[unit]), tmp_path / "the.pdf")
    subprocess.run([PDFTOPPM, "-r", "150", "-png", "-f", "1", "-l", "1", str(paths[0]), str(tmp_path / "p")],
                   check=True, timeout=120)
    page = Image.open(next(tmp_path.glob("p-*.png"))).convert("RGB")
    mm = page.width / 210.0
    frames = []
    for n in range(5):  # the first five cards of the 3 x 3 sheet, as exports/badges.py lays them
        x0 = (210.0 - 3 * BADGE_W - 2 * 8.0) / 2 + (n % 3) * (BADGE_W + 8.0)
        y0 = (297.0 - 3 * BADGE_H - 2 * 8.0) / 2 + (n // 3) * (BADGE_H + 8.0)
        left, top = x0 + (BADGE_W - PHOTO_W) / 2, y0 + 12.0 + 2.5
        frames.append((left * mm, top * mm, (left + PHOTO_W) * mm, (top + PHOTO_H) * mm))
    faces = find_faces(page)
    inside = [next((i for i, (l, t, r, b) in enumerate(frames) if l <= x and x + w <= r and t <= y and y + h <= b),
                   None) for x, y, w, h in faces]
    assert [0, 1, 2, 3] == sorted(inside)  # the four off-centre photos, each face within its frame
    listed = extract_text(str(paths[-1]))
    assert "Hồ Thị Thu" in listed and texts.BADGE_MISSING_NO_FACE in " ".join(listed.split())


def whole_search(image: Image.Image) -> list[tuple[int, int, int, int]]:
    """Every face down to MIN_FACE_SHARE, as find_faces searched before issue 27 (its reference)."""
    boxes = faces.search_all(image.convert("L"))
    return [b for b in boxes if b[2] >= boxes[0][2] * faces.SAME_PERSON_SHARE]


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (left, top, width, height) boxes."""
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


def id_photos(*sizes: int, canvas_height: int | None = None) -> Image.Image:
    """ID photos (the astronaut framed, face about two thirds of the width) side by side, each `size` px wide,
    bottoms aligned on a canvas as high as the tallest (or `canvas_height`, and at least as wide)."""
    height = canvas_height or max(sizes) * 4 // 3
    canvas = Image.new("RGB", (max(sum(sizes), height), height), (178, 188, 200))
    left = 0
    for size in sizes:
        canvas.paste(id_photo().resize((size, size * 4 // 3)), (left, height - size * 4 // 3))
        left += size
    return canvas


@pytest.mark.parametrize("sizes, height, people", [
    ((600,), None, 1), ((900,), None, 1), ((600, 600), None, 2), ((600, 330), None, 2), ((600, 200), None, 1),
    ((450, 225), 1000, 2), ((450, 140), 1000, 1)],
    ids=["id", "id-large", "two-alike", "one-half-size", "one-third-size", "small-second-half-size",
         "small-second-third-size"])
def test_find_faces__large_face_searched_first__the_faces_the_whole_search_finds(sizes, height, people):
    """Issue 27: a picture with a large face (an ID photo) is searched for large faces first and then only for
    faces that still count; the same faces as the whole search, each box where the whole search puts it. A
    second person at half the first's size counts (two people: no framing), one at a third does not; also when
    the second face is smaller than the first search looks for (a face of 30 % of the picture, the other 15 %)."""
    picture = id_photos(*sizes, canvas_height=height)
    found, reference = find_faces(picture), whole_search(picture)
    assert people == len(found) == len(reference)
    for box in found:
        assert max(overlap(box, other) for other in reference) > 0.8, (box, reference)
