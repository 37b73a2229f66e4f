"""Photos that are not a badge's (a photo question without `badge: true`): kept at their own size and shape,
upright, bounded, never cut to 3x4 — in the pipeline, through the service, and in the photo archive."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from PIL import Image

from bot.bootstrap import ensure_units_and_campaign
from bot.photos import IMAGE_MAX_SIDE, process_photo, store_photo
from bot.service import Inbound, Service
from conversations import texts
from conversations.form import Form, load_form
from exports.data import ExportData, UnitReport
from exports.photo_archive import build_photo_archive
from storage import queries as q

NOW = datetime(2027, 3, 2, 2, 0, tzinfo=timezone.utc)
DEADLINE = datetime(2027, 3, 20, 9, 30, tzinfo=timezone.utc)
FORM_YAML = """\
id: tru_so_2027
title: Hiện trạng trụ sở
sections:
  - key: office
    title: I. Trụ sở
    questions:
      - {key: address, label: Địa chỉ, prompt: "Địa chỉ trụ sở?", type: text}
      - {key: front, label: Ảnh mặt tiền, prompt: "Gửi ảnh mặt tiền trụ sở.", type: photo}
  - key: staff
    title: II. Cán bộ
    repeat: {min: 0, max: 5, item: cán bộ}
    questions:
      - {key: name, label: Họ và tên, prompt: "Họ tên?", type: name}
      - {key: photo, label: Ảnh 3x4, prompt: "Ảnh 3x4?", type: photo, badge: true}
"""


def jpeg(size: tuple[int, int], exif_orientation: int | None = None) -> bytes:
    im = Image.new("RGB", size, (40, 90, 160))
    im.paste((200, 30, 30), (0, 0, size[0] // 4, size[1]))  # a red band on the stored left edge
    out = io.BytesIO()
    if exif_orientation is None:
        im.save(out, "JPEG", quality=92)
    else:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        im.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_process_photo__not_a_badge_landscape__own_size_and_shape_no_crop_warning():
    photo = process_photo(jpeg((1600, 900)), badge=False)
    assert ((1600, 900), False, False) == (size_of(photo.jpeg), photo.landscape, photo.upscaled)


def test_process_photo__not_a_badge_very_large__bounded_keeping_its_shape():
    photo = process_photo(jpeg((4000, 3000)), badge=False)
    assert (IMAGE_MAX_SIDE, IMAGE_MAX_SIDE * 3 // 4) == size_of(photo.jpeg)


def test_process_photo__not_a_badge_turned_by_exif__stored_upright():
    photo = process_photo(jpeg((800, 600), exif_orientation=6), badge=False)
    out = Image.open(io.BytesIO(photo.jpeg))
    assert (600, 800) == out.size
    red, green, blue = out.getpixel((300, 20))  # the stored left edge is the top once turned
    assert red > 150 and blue < 100


def test_process_photo__not_a_badge_smaller_than_a_badge__kept_not_refused():
    assert (200, 150) == size_of(process_photo(jpeg((200, 150)), badge=False).jpeg)


def test_process_photo__badge__still_cut_to_3x4():
    assert (354, 472) == size_of(process_photo(jpeg((1600, 900))).jpeg)


async def prepare_office_form(db, tmp_path) -> tuple[Form, int, str]:
    """FORM_YAML's campaign (an office photo at its own shape, staff badges) due DEADLINE: the form, Sở Tư pháp's
    unit id and an invite code for it."""
    path = tmp_path / "form.yaml"
    path.write_text(FORM_YAML, encoding="utf-8")
    form = load_form(path)
    await ensure_units_and_campaign(db, form, NOW)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = DEADLINE
        unit_id = (await q.get_unit_by_code(s, "STP")).id
        code = (await q.create_invite(s, unit_id=unit_id, role="unit", expires_at=NOW + timedelta(days=7),
                                      max_uses=3, now=NOW)).code
    return form, unit_id, code


async def test_service__photo_at_a_question_without_badge__stored_at_its_shape_and_no_crop_warning(db, tmp_path):
    form, unit_id, code = await prepare_office_form(db, tmp_path)
    service = Service(db, form, tmp_path / "photos", lambda: NOW)
    n = iter(range(1, 100))

    async def send(**kw) -> str:
        inbound = Inbound(channel="zalo", user_id="u", chat_id="u", event_id=f"e{next(n)}", **kw)
        replies = await service.handle(inbound)
        service.sent(inbound)
        return "\n".join(r.text for r in replies)

    await send(text=f"/start {code}")
    await send(text="Số 2 Nguyễn Văn Trị, Biên Hòa")
    said = await send(photo=jpeg((1600, 900)))
    assert texts.PHOTO_WARN_LANDSCAPE not in said and "Có cán bộ nào không?" not in said and "Họ tên?" in said
    await send(text="Lê Thị Mai")
    said = await send(photo=jpeg((1600, 900)))
    assert texts.PHOTO_WARN_LANDSCAPE in said  # the badge question still cuts a landscape to 3x4, and says so
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit_id, now=NOW)
        answers = await q.load_answers(s, report.id)
        office = await q.get_photo(s, answers["office.front"])
        badge = await q.get_photo(s, answers["staff[1].photo"])
    assert (1600, 900) == Image.open(office.processed_path).size
    assert (354, 472) == Image.open(badge.processed_path).size


def test_photo_archive__question_without_badge__own_folder_and_own_shape(tmp_path):
    path = tmp_path / "form.yaml"
    path.write_text(FORM_YAML, encoding="utf-8")
    form = load_form(path)
    office = store_photo(tmp_path / "photos", jpeg((1600, 900)), badge=False)
    person = store_photo(tmp_path / "photos", jpeg((600, 800)))
    answers = {"office.address": "Biên Hòa", "office.front": 1, "staff[1].name": "Lê Thị Mai", "staff[1].photo": 2}
    data = ExportData(form=form, campaign_title="Trụ sở", doc_ref=None, deadline_at=DEADLINE, generated_at=NOW,
                      units=[UnitReport("STP", "Sở Tư pháp", "submitted", answers, NOW, NOW, False,
                                        {1: office.processed_path, 2: person.processed_path})])
    build_photo_archive(data, tmp_path / "out")
    files = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.jpg"))
    assert ["FRONT/STP/STP_OFFICE_1_Bien-Hoa.jpg", "STP/STP_STAFF_1_Le-Thi-Mai.jpg"] == files
    assert (1600, 900) == Image.open(tmp_path / "out" / files[0]).size
    assert (354, 472) == Image.open(tmp_path / "out" / files[1]).size
