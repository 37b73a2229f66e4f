"""Real face photos for tests: the astronaut of scikit-image's public-domain sample data (NASA), placed on large
canvases the way a phone photo frames a person off-centre."""

from __future__ import annotations

import io

from PIL import Image


def astronaut(size: int = 512) -> Image.Image:
    from skimage import data

    image = Image.fromarray(data.astronaut())
    return image if size == 512 else image.resize((size, size), Image.Resampling.LANCZOS)


def on_canvas(width: int, height: int, at: tuple[int, int], *, size: int = 1024, people: int = 1) -> Image.Image:
    """A plain grey-blue picture of width x height with the astronaut (size px) at `at`; with people=2 a second
    one beside the first."""
    canvas = Image.new("RGB", (width, height), (178, 188, 200))
    face = astronaut(size)
    canvas.paste(face, at)
    if people == 2:
        canvas.paste(face, (at[0] + size, at[1]))
    return canvas


def jpeg_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def id_photo(tint: tuple[int, int, int] | None = None) -> Image.Image:
    """A 600x800 portrait framed as ID photos are (the face about half the height), from the astronaut enlarged;
    `tint` (a colour blended in lightly) makes each photo its own file."""
    if "id" not in _CACHE:
        _CACHE["id"] = astronaut(2000).crop((579, 110, 1179, 910))
    image = _CACHE["id"]
    return Image.blend(image, Image.new("RGB", image.size, tint), 0.12) if tint else image


_CACHE: dict = {}


def face_portrait(width: int = 600, height: int = 800) -> bytes:
    """A portrait ID photo as a phone takes it (600x800 by default)."""
    image = id_photo()
    return jpeg_of(image if image.size == (width, height) else image.resize((width, height)))
