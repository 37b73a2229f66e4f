"""Check a photo someone sent, make its JPEG (a 3x4 badge, or for any other photo question the picture at its own
shape, bounded and upright), and store both under their SHA-256.

Only these formats are even tried: JPEG (and MPO, the multi-picture JPEG some phones write), PNG, WEBP,
GIF, BMP, TIFF. Every rejection carries a Vietnamese message from conversations.texts.
"""

import asyncio
import hashlib
import math
import multiprocessing
import os
import tempfile
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import ExifTags, Image, ImageOps

from conversations import texts
from exports.faces import frame_face
from exports.private_files import FILE_MODE, private_folder

MAX_BYTES = 20 * 1024 * 1024  # Telegram's bot download cap; also ours
MAX_PIXELS = 50_000_000  # refuse before decoding (decompression bombs)
MIN_WIDTH, MIN_HEIGHT = 300, 400  # too small to print a badge
OUT_WIDTH, OUT_HEIGHT = 354, 472  # 3x4 cm at 300 dpi
IMAGE_MAX_SIDE = 2000  # a photo that is not a badge's: its longest side at most this, never enlarged

# Pillow format -> extension of the stored original. Other formats (EPS, PSD, ICO...) are never tried.
_EXTENSIONS = {
    "JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff",
}
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")  # the JPEG opener also yields MPO
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that turn the picture by 90 degrees


class PhotoRejected(ValueError):
    """The bytes are not a usable 3x4 photo; .message is the Vietnamese text for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _CropFacts:
    """What the badge made of the original: how much of it was cut away and whether it had to be enlarged.

    The service passes these to the engine, which warns the person (the photo is kept either way).
    """

    width: int
    height: int
    crop_width: int
    crop_height: int
    badge: bool

    @property
    def landscape(self) -> bool:
        """Wider than tall: the sides were cut away (a square loses little and is not counted)."""
        return self.badge and self.width > self.height

    @property
    def upscaled(self) -> bool:
        """The region kept is smaller than the badge: enlarged, so below 300 ppi when printed."""
        return self.badge and (self.crop_width < OUT_WIDTH or self.crop_height < OUT_HEIGHT)


@dataclass(frozen=True)
class ProcessedPhoto(_CropFacts):
    sha256: str  # hex digest of the ORIGINAL bytes
    original_ext: str  # from the detected format, never from a file name
    width: int  # of the original after EXIF orientation is applied
    height: int
    crop_width: int  # the centred 3:4 region of the original that became the badge, in original pixels
    crop_height: int
    jpeg: bytes  # the OUT_WIDTH x OUT_HEIGHT badge JPEG (quality 90, 300 dpi, RGB, no EXIF), or the bounded image
    badge: bool = True
    faces: int = -1  # faces found (exports/faces.py); with exactly 1 the badge is cut around it


@dataclass(frozen=True)
class StoredPhoto(_CropFacts):
    sha256: str
    original_path: Path
    processed_path: Path
    width: int
    height: int
    crop_width: int
    crop_height: int
    badge: bool = True
    faces: int = -1


def process_photo(data: bytes, badge: bool = True) -> ProcessedPhoto:
    """Validate the bytes and make the badge JPEG; the largest centred 3:4 crop must be at least 300x400.

    Because the crop is exactly 3:4, that rule is the same as "width >= 300 and height >= 400" once EXIF
    orientation is applied: a 400x300 landscape is too small, a 300x2000 strip is fine (crop 300x400).
    Raises PhotoRejected with the message to send back.
    """
    if not data:
        raise PhotoRejected(texts.PHOTO_EMPTY)
    if len(data) > MAX_BYTES:
        raise PhotoRejected(texts.PHOTO_TOO_LARGE.format(max_mb=MAX_BYTES // (1024 * 1024)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(BytesIO(data), formats=_OPEN_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            width, height = _header_size(data)
            raise PhotoRejected(texts.PHOTO_TOO_MANY_PIXELS.format(width=width, height=height)) from None
        except Exception:  # UnidentifiedImageError, or a format plugin choking on a bad header
            raise PhotoRejected(texts.PHOTO_NOT_IMAGE) from None
        if im.width * im.height > MAX_PIXELS:
            raise PhotoRejected(texts.PHOTO_TOO_MANY_PIXELS.format(width=im.width, height=im.height))
        if im.format != "MPO" and getattr(im, "is_animated", False):  # MPO: a phone JPEG plus extra views
            raise PhotoRejected(texts.PHOTO_ANIMATED)
        original_ext = _EXTENSIONS[im.format]
        width, height = _oriented_size(im)
        # A big JPEG can be decoded at 1/2, 1/4 or 1/8 scale; keep at least twice the badge resolution.
        scale = min(1.0, 2 * OUT_HEIGHT / max(1, min(width, height))) if badge else \
            min(1.0, IMAGE_MAX_SIDE / max(1, width, height))
        if scale < 1.0:
            im.draft(None, (math.ceil(im.width * scale), math.ceil(im.height * scale)))
        try:
            im.load()
        except Exception:  # truncated or corrupt data: OSError, SyntaxError, ValueError, EOFError...
            raise PhotoRejected(texts.PHOTO_BROKEN) from None
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # unreadable EXIF: _oriented_size also fell back to "as stored"
        pass
    try:
        im = _to_rgb(im)
    except Exception:  # an exotic mode Pillow cannot convert
        raise PhotoRejected(texts.PHOTO_BROKEN) from None
    if not badge:  # kept at its own shape: upright (EXIF applied above), bounded, never cropped nor enlarged
        im.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
        out = BytesIO()
        im.save(out, "JPEG", quality=88, optimize=True)
        return ProcessedPhoto(hashlib.sha256(data).hexdigest(), original_ext, width, height, width, height,
                              out.getvalue(), badge=False)
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise PhotoRejected(
            texts.PHOTO_TOO_SMALL.format(width=width, height=height, min_width=MIN_WIDTH, min_height=MIN_HEIGHT)
        )
    box, faces = frame_face(im)  # one face: framed as an ID photo; else the centre, as before
    if box is not None:
        crop_width, crop_height = (round((box[2] - box[0]) * width / im.width),
                                   round((box[3] - box[1]) * height / im.height))
    else:
        crop_width, crop_height = _crop_size(width, height)
        w, h = _crop_size(im.width, im.height)  # in the decoded (maybe drafted) picture's pixels
        left, top = (im.width - w) // 2, (im.height - h) // 2
        box = (left, top, left + w, top + h)
    card = _resized(im.crop(box), (OUT_WIDTH, OUT_HEIGHT))
    out = BytesIO()
    card.save(out, "JPEG", quality=90, dpi=(300, 300), optimize=True)
    return ProcessedPhoto(hashlib.sha256(data).hexdigest(), original_ext, width, height, crop_width, crop_height,
                          out.getvalue(), faces=faces)


def store_photo(photos_dir: Path, data: bytes, badge: bool = True) -> StoredPhoto:
    """Process the photo and write <sha[:2]>/<sha>.orig.<ext> and <sha[:2]>/<sha>.jpg atomically; idempotent.

    Folders are 0700 and files 0600.
    """
    photo = process_photo(data, badge)
    folder = private_folder(Path(photos_dir) / photo.sha256[:2])
    original_path = folder / f"{photo.sha256}.orig.{photo.original_ext}"
    processed_path = folder / (f"{photo.sha256}.jpg" if badge else f"{photo.sha256}.image.jpg")
    _write_atomic(original_path, data)
    _write_atomic(processed_path, photo.jpeg)
    return StoredPhoto(photo.sha256, original_path, processed_path, photo.width, photo.height,
                       photo.crop_width, photo.crop_height, badge, photo.faces)


# Photos are processed in a separate process: Pillow's work holds the GIL long enough that a burst of photos in
# threads starved the event loop (every chat waited about a second). One worker by default: the event loop
# keeps its own core.
PHOTO_WORKERS = max(1, min(2, (os.cpu_count() or 2) - 1))
_pool: ProcessPoolExecutor | None = None


def _photo_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: forking a process that runs an event loop and threads is unsafe.
        _pool = ProcessPoolExecutor(max_workers=PHOTO_WORKERS, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_leave_with_parent, initargs=(os.getpid(),))
    return _pool


def _leave_with_parent(parent: int) -> None:
    """In a photo process: exit when the bot is gone (killed, it cannot say so; the worker would stay forever).
    OpenCV works on one thread here: its default pool (a thread per core) took the event loop's core too, and its
    threads spin while they wait, 7 % more CPU per face search on an idle machine and more under load (issue 27)."""
    import cv2

    cv2.setNumThreads(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def stop() -> None:
    """Let the photo processes go (a `--workers` process must: its exit waits for them before Python would)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def warm_up() -> None:
    """Start the photo processes now (each takes a moment to import Pillow), not when the first photos arrive."""
    pool = _photo_pool()
    for _ in range(PHOTO_WORKERS):  # busy for a moment each, so that the pool starts them all
        pool.submit(time.sleep, 0.1)


async def store_photo_off_loop(photos_dir: Path, data: bytes, badge: bool = True) -> StoredPhoto:
    """store_photo in the photo process (PhotoRejected comes back as raised there)."""
    global _pool
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_photo_pool(), store_photo, Path(photos_dir), data, badge)
    except BrokenProcessPool:  # the worker died (killed, out of memory): a new one for the next photo
        _pool = None
        return await asyncio.to_thread(store_photo, photos_dir, data, badge)


def _header_size(data: bytes) -> tuple[int | str, int | str]:
    """Width and height from the header alone, for images Pillow refused as decompression bombs."""
    for name in _OPEN_FORMATS:
        factory, accept = Image.OPEN[name]
        try:
            accepted = accept is None or accept(data[:16])
            if not accepted or isinstance(accepted, str):  # a str explains why the plugin cannot open it
                continue
            return factory(BytesIO(data), "").size  # what Image.open does, minus the bomb check
        except Exception:
            continue
    return "?", "?"


def _resized(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The picture at `size`. Shrinking (the usual case: a phone photo to the badge) averages each output pixel's
    area with OpenCV (INTER_AREA: no aliasing, a third of Pillow's Lanczos CPU here, 2.7 against 7.9 ms for
    600x800 to the badge; issue 27); enlarging a small photo keeps Pillow's Lanczos."""
    if im.width < size[0] or im.height < size[1]:
        return im.resize(size, Image.Resampling.LANCZOS)
    import cv2
    import numpy

    return Image.fromarray(cv2.resize(numpy.asarray(im), size, interpolation=cv2.INTER_AREA))


def _crop_size(width: int, height: int) -> tuple[int, int]:
    """The largest centred 3:4 region of a width x height picture, as ImageOps.fit takes it (full resolution:
    a drafted decode still keeps at least twice the badge's size, so it never causes an enlargement)."""
    if width * OUT_HEIGHT > height * OUT_WIDTH:  # wider than 3:4: the sides are cut
        return round(height * OUT_WIDTH / OUT_HEIGHT), height
    return width, round(width * OUT_HEIGHT / OUT_WIDTH)


def _oriented_size(im: Image.Image) -> tuple[int, int]:
    """Size as a person sees it: swapped when EXIF orientation turns the picture by 90 degrees."""
    try:
        orientation = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        orientation = 1
    return (im.height, im.width) if orientation in _SWAPPING_ORIENTATIONS else (im.width, im.height)


def _to_rgb(im: Image.Image) -> Image.Image:
    """Plain RGB; 16/32-bit grey scaled down to 8 bits, transparency composited onto white."""
    if im.mode.startswith("I;16") or im.mode == "I":
        im = im.convert("I").point(lambda value: value / 256).convert("L")
    if im.has_transparency_data:
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return im if im.mode == "RGB" else im.convert("RGB")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder then os.replace, so readers never see half a file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)  # a person's face is personal data (Decree 13/2023): owner only
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
