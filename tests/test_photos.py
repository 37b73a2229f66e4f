import hashlib
import io
import re
import struct
import time
import zlib

import pytest
from PIL import Image, ImageFile

from bot import photos
from bot.photos import (
    MAX_BYTES,
    OUT_HEIGHT,
    OUT_WIDTH,
    PhotoRejected,
    ProcessedPhoto,
    StoredPhoto,
    process_photo,
    store_photo,
)
from conversations import texts
from conversations.engine import Photo
from tests.test_engine import COMPLETE, opened, prompt, send, without

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 160, 0), (0, 0, 255), (255, 255, 255)


# --- Helpers: images made on the fly ------------------------------------------------------------------


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def solid(size=(600, 800), colour=GREEN, mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def jpeg(size=(600, 800), colour=GREEN) -> bytes:
    return encode(solid(size, colour), "JPEG", quality=95)


def png_with_header_size(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose IHDR claims another size (CRC fixed), so nothing big is ever allocated."""
    data = bytearray(encode(solid((1, 1)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def animated_gif() -> bytes:
    frames = [solid(colour=RED, mode="RGB").convert("P"), solid(colour=BLUE, mode="RGB").convert("P")]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def colour_name(pixel) -> str:
    """Name the colour of a pixel, so JPEG noise does not matter."""
    named = {"red": RED, "green": GREEN, "blue": BLUE, "white": WHITE, "black": (0, 0, 0)}
    return min(named, key=lambda name: sum((a - b) ** 2 for a, b in zip(named[name], pixel[:3])))


def badge(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(process_photo(data).jpeg))


def rejection(data: bytes) -> str:
    with pytest.raises(PhotoRejected) as caught:
        process_photo(data)
    return caught.value.message


# --- process_photo: good images -----------------------------------------------------------------------


def rgba_with_opaque_centre() -> bytes:
    im = solid(colour=(0, 0, 0, 0), mode="RGBA")
    im.paste((255, 0, 0, 255), (200, 300, 400, 500))
    return encode(im, "PNG")


def paletted_gif_with_transparency() -> bytes:
    im = solid(colour=0, mode="P")
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (200, 300, 400, 500))
    return encode(im, "GIF", transparency=0)


def grey_16_bit_png() -> bytes:
    return encode(solid(colour=32768, mode="I;16"), "PNG")


def mpo_two_views() -> bytes:
    return encode(solid(colour=GREEN), "MPO", save_all=True, append_images=[solid(colour=BLUE)])


@pytest.mark.parametrize(
    ("make", "ext", "size", "corner", "centre"),
    [
        pytest.param(lambda: jpeg(), "jpg", (600, 800), "green", "green", id="jpeg_600x800"),
        pytest.param(lambda: encode(solid(), "PNG"), "png", (600, 800), "green", "green", id="png"),
        pytest.param(lambda: encode(solid(), "WEBP", quality=95), "webp", (600, 800), "green", "green", id="webp"),
        pytest.param(lambda: encode(solid(), "BMP"), "bmp", (600, 800), "green", "green", id="bmp"),
        pytest.param(lambda: encode(solid(), "TIFF"), "tiff", (600, 800), "green", "green", id="tiff"),
        pytest.param(lambda: encode(solid(), "GIF"), "gif", (600, 800), "green", "green", id="still_gif"),
        pytest.param(mpo_two_views, "jpg", (600, 800), "green", "green", id="phone_mpo_not_animated"),
        pytest.param(
            lambda: encode(solid(colour=(0, 255, 255, 0), mode="CMYK"), "JPEG"), "jpg", (600, 800), "red", "red",
            id="cmyk_jpeg",
        ),
        pytest.param(rgba_with_opaque_centre, "png", (600, 800), "white", "red", id="png_alpha_on_white"),
        pytest.param(paletted_gif_with_transparency, "gif", (600, 800), "white", "red", id="gif_transparency"),
        pytest.param(lambda: jpeg((300, 400)), "jpg", (300, 400), "green", "green", id="exactly_minimum"),
        pytest.param(lambda: jpeg((300, 2000)), "jpg", (300, 2000), "green", "green", id="tall_strip_crop_300x400"),
        pytest.param(lambda: jpeg((4000, 3000)), "jpg", (4000, 3000), "green", "green", id="big_jpeg_drafted"),
    ],
)
def test_process_photo__good_image__badge_jpeg_354x472_300dpi(make, ext, size, corner, centre):
    data = make()
    photo = process_photo(data)
    out = Image.open(io.BytesIO(photo.jpeg))
    assert ProcessedPhoto == type(photo)
    assert hashlib.sha256(data).hexdigest() == photo.sha256
    assert ext == photo.original_ext
    assert size == (photo.width, photo.height)
    assert ("JPEG", "RGB", (OUT_WIDTH, OUT_HEIGHT)) == (out.format, out.mode, out.size)
    assert (300, 300) == out.info["dpi"]
    assert "exif" not in out.info
    assert corner == colour_name(out.getpixel((5, 5)))
    assert centre == colour_name(out.getpixel((OUT_WIDTH // 2, OUT_HEIGHT // 2)))


def test_process_photo__grey_16_bit_png__scaled_to_mid_grey():
    pixel = badge(grey_16_bit_png()).getpixel((OUT_WIDTH // 2, OUT_HEIGHT // 2))
    assert [True] * 3 == [120 <= value <= 136 for value in pixel]


def test_process_photo__landscape_1600x900__centre_cropped_edges_gone():
    im = solid((1600, 900), GREEN)
    im.paste(RED, (0, 0, 300, 900))
    im.paste(BLUE, (1300, 0, 1600, 900))
    out = badge(encode(im, "PNG"))
    seen = {colour_name(out.getpixel((x, y))) for x in (0, 1, OUT_WIDTH // 2, OUT_WIDTH - 2, OUT_WIDTH - 1)
            for y in (0, OUT_HEIGHT // 2, OUT_HEIGHT - 1)}
    assert {"green"} == seen


def test_process_photo__exif_orientation_6_on_stored_800x600__portrait_with_head_on_top():
    # Orientation 6: the viewer turns the stored picture 90 degrees clockwise, so its left edge becomes the top.
    im = solid((800, 600), BLUE)
    im.paste(RED, (0, 0, 200, 600))  # the "head"
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = process_photo(encode(im, "JPEG", exif=exif.tobytes(), quality=95))
    out = Image.open(io.BytesIO(photo.jpeg))
    assert (600, 800) == (photo.width, photo.height)
    assert "red" == colour_name(out.getpixel((OUT_WIDTH // 2, 20)))
    assert "blue" == colour_name(out.getpixel((OUT_WIDTH // 2, OUT_HEIGHT - 20)))
    assert "blue" == colour_name(out.getpixel((5, OUT_HEIGHT // 2)))
    assert "exif" not in out.info


def test_process_photo__big_jpeg_turned_by_exif__reports_original_size_as_seen():
    exif = Image.Exif()
    exif[0x0112] = 8
    photo = process_photo(encode(solid((4000, 3000)), "JPEG", exif=exif.tobytes()))
    assert (3000, 4000) == (photo.width, photo.height)


@pytest.mark.parametrize(
    ("make", "kept", "landscape", "upscaled"),
    [
        pytest.param(lambda: jpeg((600, 800)), (600, 800), False, False, id="portrait_3x4_nothing_cut"),
        pytest.param(lambda: jpeg((354, 472)), (354, 472), False, False, id="exactly_badge_size"),
        pytest.param(lambda: jpeg((354, 2000)), (354, 472), False, False, id="tall_strip_top_and_bottom_cut"),
        pytest.param(lambda: jpeg((800, 800)), (600, 800), False, False, id="square_cut_but_not_landscape"),
        pytest.param(lambda: jpeg((1600, 900)), (675, 900), True, False, id="landscape_big"),
        pytest.param(lambda: jpeg((300, 400)), (300, 400), False, True, id="portrait_small"),
        pytest.param(lambda: jpeg((353, 800)), (353, 471), False, True, id="one_pixel_too_narrow"),
        pytest.param(lambda: jpeg((600, 450)), (338, 450), True, True, id="landscape_small"),
        pytest.param(lambda: jpeg((4000, 3000)), (2250, 3000), True, False, id="big_jpeg_drafted_full_size_kept"),
    ],
)
def test_process_photo__crop_facts__region_kept_landscape_and_upscaled(make, kept, landscape, upscaled):
    photo = process_photo(make())
    assert (kept, landscape, upscaled) == ((photo.crop_width, photo.crop_height), photo.landscape, photo.upscaled)


def test_process_photo__landscape_turned_portrait_by_exif__not_landscape():
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = process_photo(encode(solid((800, 600)), "JPEG", exif=exif.tobytes()))
    assert ((600, 800), False, False) == ((photo.crop_width, photo.crop_height), photo.landscape, photo.upscaled)


def test_photo_warning_text__names_the_badge_size_photos_makes():
    assert f"{OUT_WIDTH}×{OUT_HEIGHT} điểm ảnh" in texts.PHOTO_WARN_SMALL


# --- process_photo: rejected images -------------------------------------------------------------------


def truncated_jpeg() -> bytes:
    im = Image.effect_noise((600, 800), 64).convert("RGB")  # noise, so the cut lands inside the scan data
    data = encode(im, "JPEG", quality=90)
    return data[: len(data) // 2]


def too_small(width, height) -> str:
    return texts.PHOTO_TOO_SMALL.format(width=width, height=height, min_width=300, min_height=400)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda: b"", texts.PHOTO_EMPTY, id="empty"),
        pytest.param(
            lambda: b"\xff\xd8" + bytes(21 * 1024 * 1024), texts.PHOTO_TOO_LARGE.format(max_mb=20), id="21_mb"
        ),
        pytest.param(lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", texts.PHOTO_NOT_IMAGE, id="pdf"),
        pytest.param(lambda: b"hello, this is text", texts.PHOTO_NOT_IMAGE, id="text"),
        pytest.param(lambda: b"\xff\xd8\xff\xe0garbage", texts.PHOTO_NOT_IMAGE, id="jpeg_magic_then_garbage"),
        pytest.param(lambda: encode(solid(), "ICO"), texts.PHOTO_NOT_IMAGE, id="format_not_allowed_ico"),
        pytest.param(truncated_jpeg, texts.PHOTO_BROKEN, id="truncated_jpeg"),
        pytest.param(lambda: encode(solid(), "PNG")[:-200], texts.PHOTO_BROKEN, id="truncated_png"),
        pytest.param(animated_gif, texts.PHOTO_ANIMATED, id="animated_gif"),
        pytest.param(lambda: jpeg((100, 100)), too_small(100, 100), id="tiny_100x100"),
        pytest.param(lambda: jpeg((400, 300)), too_small(400, 300), id="landscape_400x300"),
        pytest.param(lambda: jpeg((299, 2000)), too_small(299, 2000), id="narrow_299"),
        pytest.param(
            lambda: png_with_header_size(30000, 30000),
            texts.PHOTO_TOO_MANY_PIXELS.format(width=30000, height=30000),
            id="header_30000x30000_pillow_error",
        ),
        pytest.param(
            lambda: png_with_header_size(10000, 10000),
            texts.PHOTO_TOO_MANY_PIXELS.format(width=10000, height=10000),
            id="header_10000x10000_pillow_warning",
        ),
        pytest.param(
            lambda: png_with_header_size(8000, 7000),
            texts.PHOTO_TOO_MANY_PIXELS.format(width=8000, height=7000),
            id="header_8000x7000_our_limit",
        ),
    ],
)
def test_process_photo__bad_image__rejected_with_vietnamese_message(make, expected):
    assert expected == rejection(make())


def test_process_photo__header_claims_30000x30000__rejected_quickly():
    data = png_with_header_size(30000, 30000)
    started = time.perf_counter()
    message = rejection(data)
    assert texts.PHOTO_TOO_MANY_PIXELS.format(width=30000, height=30000) == message
    assert time.perf_counter() - started < 1.0


def test_process_photo__more_than_max_bytes__rejected_before_decoding(monkeypatch):
    def must_not_open(*args, **kwargs):
        raise AssertionError("Image.open called for an oversized file")

    monkeypatch.setattr(photos.Image, "open", must_not_open)
    assert texts.PHOTO_TOO_LARGE.format(max_mb=20) == rejection(b"\xff\xd8" + bytes(MAX_BYTES - 1))


def test_process_photo__exactly_max_bytes__not_rejected_as_too_large():
    assert texts.PHOTO_TOO_LARGE.format(max_mb=20) != rejection(b"\xff\xd8" + bytes(MAX_BYTES - 2))


def test_process_photo__truncated_jpeg__global_pillow_settings_untouched():
    rejection(truncated_jpeg())
    rejection(png_with_header_size(10000, 10000))
    assert (False, 89_478_485) == (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS)


def test_photo_rejected__created__is_value_error_with_message():
    error = PhotoRejected(texts.PHOTO_EMPTY)
    assert (True, texts.PHOTO_EMPTY, texts.PHOTO_EMPTY) == (isinstance(error, ValueError), error.message, str(error))


# --- store_photo --------------------------------------------------------------------------------------


def test_store_photo__good_png__original_and_badge_at_documented_paths(tmp_path):
    data = encode(solid(), "PNG")
    sha = hashlib.sha256(data).hexdigest()
    stored = store_photo(tmp_path, data)
    expected = StoredPhoto(
        sha256=sha,
        original_path=tmp_path / sha[:2] / f"{sha}.orig.png",
        processed_path=tmp_path / sha[:2] / f"{sha}.jpg",
        width=600,
        height=800,
        crop_width=600,
        crop_height=800,
        faces=0,  # a plain colour: no face, the centre is kept
    )
    assert expected == stored
    assert data == stored.original_path.read_bytes()
    with Image.open(stored.processed_path) as out:
        assert ("JPEG", (OUT_WIDTH, OUT_HEIGHT)) == (out.format, out.size)
    assert {f"{sha}.orig.png", f"{sha}.jpg"} == {path.name for path in (tmp_path / sha[:2]).iterdir()}


def test_store_photo__same_bytes_twice__same_result_no_leftovers(tmp_path):
    data = jpeg()
    first = store_photo(tmp_path, data)
    second = store_photo(tmp_path, data)
    assert first == second
    assert 2 == len(list(first.processed_path.parent.iterdir()))
    assert data == first.original_path.read_bytes()


def test_store_photo__rejected_photo__raises_and_writes_nothing(tmp_path):
    with pytest.raises(PhotoRejected) as caught:
        store_photo(tmp_path, jpeg((100, 100)))
    assert too_small(100, 100) == caught.value.message
    assert [] == list(tmp_path.iterdir())


def test_store_photo__missing_photos_dir__created(tmp_path):
    stored = store_photo(tmp_path / "data" / "photos", jpeg())
    assert (True, True) == (stored.original_path.is_file(), stored.processed_path.is_file())
    assert "jpg" == stored.original_path.suffix.lstrip(".")


# --- The engine: a photo kept although its badge may be poor ------------------------------------------
# Through the real form, with the helpers of tests/test_engine.py. The photo is stored in every case; the reply
# says what the cropping did and the quickest way to send another one, and that way works.

WARNINGS = ("PHOTO_WARN_LANDSCAPE", "PHOTO_WARN_SMALL", "PHOTO_REDO_BACK", "PHOTO_REDO_MENU", "PHOTO_REDO_EDIT_ITEM",
            "PHOTO_REDO_EDIT_FIELD")


def warning_parts(text: str) -> list[str]:
    """The names of the warning texts found in a reply, whatever their fields hold."""
    def pattern(template: str) -> str:
        return ".+?".join(re.escape(part) for part in re.split(r"\{\w+\}", template))

    return [name for name in WARNINGS if re.search(pattern(getattr(texts, name)), text)]


def test_engine_photo__portrait_of_badge_size__stored_without_a_warning():
    state, reply = send(opened(without("main_staff[2].photo")), Photo(42))
    assert 42 == state.answers["main_staff[2].photo"]
    assert [] == warning_parts(reply.text)


def test_engine_photo__landscape_then_a_next_person__warned_after_the_ack_and_quay_lai_leads_back_to_it():
    state = opened(without("main_staff[2].photo", "main_staff.__done__"))
    state, reply = send(state, Photo(42, cropped=True))
    saved = texts.ITEM_SAVED.format(item="nhân sự chính", n=2, name="Trần Văn Bình")
    assert reply.text.startswith(f"{saved}\n\n{texts.PHOTO_WARN_LANDSCAPE}\n{texts.PHOTO_REDO_BACK}\n\n")
    assert 42 == state.answers["main_staff[2].photo"]
    state, reply = send(state, "quay lại")
    assert (True, True) == (prompt("main_staff", "photo") in reply.text, reply.expects_photo)
    state, reply = send(state, Photo(43))
    assert (43, []) == (state.answers["main_staff[2].photo"], warning_parts(reply.text))


def test_engine_photo__small_at_the_end_of_the_report__size_said_and_the_edit_menu_leads_back_to_it():
    state, reply = send(opened(without("main_staff[2].photo")), Photo(42, small=(300, 400)))
    small = texts.PHOTO_WARN_SMALL.format(width=300, height=400)
    redo = texts.PHOTO_REDO_EDIT_ITEM.format(n=3, name="Trần Văn Bình", label="Ảnh 3x4")
    assert f"\n\n{small}\n{redo}\n\n{texts.END_READY}" in reply.text
    assert "Lưu ý: ảnh nhỏ, phần dùng để in thẻ chỉ có 300×400 điểm ảnh" in reply.text
    assert 42 == state.answers["main_staff[2].photo"]
    state, reply = send(state, "sửa 3", "Trần Văn Bình", "Ảnh 3x4")
    assert (True, True) == (prompt("main_staff", "photo") in reply.text, reply.expects_photo)
    state, _ = send(state, Photo(44))
    assert 44 == state.answers["main_staff[2].photo"]


def test_engine_photo__landscape_and_small__both_said_once():
    _, reply = send(opened(without("main_staff[2].photo")), Photo(42, cropped=True, small=(338, 450)))
    assert ["PHOTO_WARN_LANDSCAPE", "PHOTO_WARN_SMALL", "PHOTO_REDO_EDIT_ITEM"] == warning_parts(reply.text)
    assert 1 == reply.text.count(texts.PHOTO_WARN_LANDSCAPE)


def test_engine_photo__replaced_from_the_edit_menu__told_to_pick_it_again_in_the_menu_shown():
    state, reply = send(opened(COMPLETE), "sửa 3", "Trần Văn Bình", "Ảnh 3x4", Photo(45, cropped=True))
    assert f"{texts.PHOTO_WARN_LANDSCAPE}\n{texts.PHOTO_REDO_MENU.format(label='Ảnh 3x4')}" in reply.text
    assert any(option.label.startswith("Ảnh 3x4") for option in reply.options)
    state, reply = send(state, "Ảnh 3x4", Photo(46))
    assert (46, []) == (state.answers["main_staff[2].photo"], warning_parts(reply.text))


def test_engine_photo__in_the_missing_walk__edit_menu_hint():
    answers = without("main_staff[1].photo", "pickup.address") | {"main_staff[1].photo": None}
    state, reply = send(opened(answers), "bổ sung", Photo(77, small=(320, 427)))
    assert texts.PHOTO_REDO_EDIT_ITEM.format(n=3, name="Lê Thị Mai", label="Ảnh 3x4") in reply.text
    assert (77, True) == (state.answers["main_staff[1].photo"], prompt("pickup", "address") in reply.text)


@pytest.mark.parametrize("answers", [
    pytest.param(without("pickup.address"), id="at_a_text_question"),
    pytest.param(COMPLETE, id="report_complete"),
])
def test_engine_photo__not_taken_as_an_answer__no_warning(answers):
    state = opened(answers)
    after, reply = send(state, Photo(5, cropped=True, small=(300, 400)))
    assert (state.answers, []) == (after.answers, warning_parts(reply.text))
    assert texts.PHOTO_NOT_EXPECTED in reply.text
