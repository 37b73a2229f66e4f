"""The face search of badge photos (exports/faces.py, issue 25) and its CPU (issue 27): for real pictures (the
astronaut of scikit-image's sample data, placed as phone photos frame a person: an ID photo, off-centre in large
portraits and landscapes, two people) and the load bench's synthetic photos (no face), the CPU of the whole photo
pipeline (`process_photo`: decode, search, crop, encode) and of the search alone, the faces found and the box,
beside one full search in fine steps over the picture at DETECT_SIDE (how it was searched before issue 27).

    python bench/face_search.py
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageOps  # noqa: E402

from bench.load import make_jpegs  # noqa: E402
from bot.photos import process_photo  # noqa: E402
from exports import faces  # noqa: E402
from tests.face_photos import face_portrait, jpeg_of, on_canvas  # noqa: E402

REPEAT = 3


def one_fine_search(image: Image.Image) -> list[tuple[int, int, int, int]]:
    """The search before issue 27: the whole picture at DETECT_SIDE, steps of 1.08, faces from 4 %."""
    grey, scale = faces._grey(image, faces.DETECT_SIDE)
    least = max(24, round(min(grey.shape) * faces.MIN_FACE_SHARE))
    found = faces._classifier().detectMultiScale(grey, scaleFactor=1.08, minNeighbors=6, minSize=(least, least))
    return sorted(((round(x / scale), round(y / scale), round(w / scale), round(h / scale)) for x, y, w, h in found),
                  key=lambda b: -b[2] * b[3]) if len(found) else []


def cpu_ms(work) -> tuple[float, object]:
    work()  # warm
    started = time.process_time()
    for _ in range(REPEAT):
        result = work()
    return 1000 * (time.process_time() - started) / REPEAT, result


def main() -> int:
    pictures = {
        "ID photo 600x800": face_portrait(),
        "off-centre 4000x3000": jpeg_of(on_canvas(4000, 3000, (2850, 80))),
        "off-centre 1800x3200": jpeg_of(on_canvas(1800, 3200, (760, 2100))),
        "two people 3000x1400": jpeg_of(on_canvas(3000, 1400, (400, 200), size=1000, people=2)),
        **{f"synthetic {n + 1} (bench/load.py)": data for n, data in enumerate(make_jpegs()[:2])},
    }
    print(f"{'picture':34} {'pipeline ms':>11} {'search ms':>9} {'one fine search ms':>18}  faces / box (two passes; "
          f"one fine search)")
    totals = [0.0, 0.0, 0.0]
    for name, data in pictures.items():
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        image.thumbnail((2000, 2000))  # about what the pipeline's drafted decode hands the search
        pipeline, _ = cpu_ms(lambda: process_photo(data))
        search, found = cpu_ms(lambda: faces.find_faces(image))
        fine, reference = cpu_ms(lambda: one_fine_search(image))
        totals = [totals[0] + pipeline, totals[1] + search, totals[2] + fine]
        print(f"{name:34} {pipeline:11.0f} {search:9.0f} {fine:18.0f}  {len(found)} {found[:1]}; "
              f"{len(reference)} {reference[:1]}")
    n = len(pictures)
    print(f"{'mean':34} {totals[0] / n:11.0f} {totals[1] / n:9.0f} {totals[2] / n:18.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
