"""Several data calls at once, each with its own form and units: the CLI, the chat's picker, reminders."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from bot.bootstrap import ensure_units_and_campaign
from bot.cli.campaign import close_campaign
from bot.forms import form_hash, form_of, read_form_file
from bot.reminders.plan import example_deadline
from bot.reminders.scheduler import queue_now, run_due
from bot.fanout import SendResult
from bot.service import Inbound, Service
from conversations import texts
from conversations.form import QUESTION_TYPES, load_form
from storage import queries as q
from storage.models import Answer, Campaign, Photo, Report, ReminderSend
from tests.test_cli import hcc

FORM = load_form()
NOW = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)  # 09:00 Asia/Ho_Chi_Minh
DEADLINE = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)
TRAINING_DEADLINE = datetime(2017, 4, 5, 9, 30, tzinfo=timezone.utc)
_ids = itertools.count(1)

TRAINING_YAML = """\
id: training_2017
title: Đăng ký cử cán bộ tham gia lớp bồi dưỡng
sections:
  - key: attendees
    title: Danh sách học viên
    repeat: {min: 1, max: 5, item: học viên}
    questions:
      - key: name
        label: Họ và tên
        prompt: "Họ và tên học viên? Ví dụ: Lê Thị Mai."
        type: name
      - key: position
        label: Chức vụ
        prompt: "Chức vụ? Ví dụ: Chuyên viên."
        type: text
  - key: contact
    title: Người liên hệ
    questions:
      - key: phone
        label: Số điện thoại người liên hệ
        prompt: "Số điện thoại di động của người liên hệ? Ví dụ: 0912 345 678."
        type: phone
"""


def training_form_file(tmp_path: Path) -> Path:
    path = tmp_path / "training.yaml"
    path.write_text(TRAINING_YAML, encoding="utf-8")
    return path


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def say(service: Service, user: str, text: str) -> str:
    inbound = Inbound(channel="zalo", user_id=user, chat_id=user, event_id=f"c{next(_ids)}", text=text)
    replies = await service.handle(inbound)
    service.sent(inbound)
    return "\n".join(r.text for r in replies or [])


async def two_campaigns(db, tmp_path: Path, *, units: list[str] | None = None):
    """The seed's campaign (the installation's form) and a training call created from its own file."""
    await ensure_units_and_campaign(db, FORM, NOW)
    form, raw = read_form_file(training_form_file(tmp_path))
    async with db.transaction() as s:
        first = await q.current_campaign(s)
        first.deadline_at = DEADLINE
        unit_ids = [(await q.get_unit_by_code(s, c)).id for c in units] if units else None
        second = await q.create_campaign(s, title="Cử cán bộ dự lớp bồi dưỡng", deadline_at=TRAINING_DEADLINE,
                                         form_id=form.id, doc_ref=None, now=NOW, form_snapshot=raw,
                                         form_hash=form_hash(raw), unit_ids=unit_ids)
        return first.id, second.id


async def bind(db, service: Service, user: str, unit: str) -> str:
    async with db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id
        code = (await q.create_invite(s, unit_id=unit_id, role="unit", expires_at=NOW + timedelta(days=7),
                                      max_uses=3, now=NOW)).code
    return await say(service, user, code)


async def answers_of(db, campaign_id: int, unit: str) -> dict:
    async with db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id
        report = await s.scalar(sa.select(Report).where(Report.campaign_id == campaign_id, Report.unit_id == unit_id))
        if report is None:
            return {}
        return {a.key: a.value for a in await s.scalars(sa.select(Answer).where(Answer.report_id == report.id))
                if "__" not in a.key}  # the engine's own bookkeeping keys aside


async def test_two_open_campaigns__contact_picks_answers_both_and_switches__each_report_its_own_form(db, tmp_path):
    first, second = await two_campaigns(db, tmp_path)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    welcome = await bind(db, service, "lan", "STP")  # bound once: no second invite for the second call
    assert texts.CAMPAIGN_PICK.format(count=2, lines="\n".join([
        "1 – Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công tỉnh (hạn 16:30 ngày 28/03/2017)",
        "2 – Cử cán bộ dự lớp bồi dưỡng (hạn 16:30 ngày 05/04/2017)"])) in welcome
    assert "Bạn có 2 báo cáo cần nộp:" in welcome
    assert texts.CAMPAIGN_PICK_AGAIN.format(count=2) in await say(service, "lan", "7")
    assert {} == await answers_of(db, first, "STP") == await answers_of(db, second, "STP")

    picked = await say(service, "lan", "2")
    assert "Bạn đang nhập: Cử cán bộ dự lớp bồi dưỡng" in picked and "Họ và tên học viên?" in picked
    assert "Chức vụ?" in await say(service, "lan", "Lê Thị Mai")
    await say(service, "lan", "Chuyên viên")
    assert {"attendees[1].name": "Lê Thị Mai", "attendees[1].position": "Chuyên viên"} == \
        await answers_of(db, second, "STP")

    assert "Bạn có 2 báo cáo cần nộp:" in await say(service, "lan", "đổi báo cáo")
    back = await say(service, "lan", "1")
    assert "Bạn đang nhập: Báo cáo tiến độ" in back and "Họ và tên của bạn (người điền báo cáo)?" in back
    await say(service, "lan", "Nguyễn Thị Lan, 0912 345 678")
    assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678"} == \
        {k: v for k, v in (await answers_of(db, first, "STP")).items() if k.startswith("reporter.")}
    assert not any(k.startswith("reporter") for k in await answers_of(db, second, "STP"))

    # Back in the training call: it goes on where it was, with its own questions.
    await say(service, "lan", "đổi báo cáo")
    again = await say(service, "lan", "2")
    assert "Cử cán bộ dự lớp bồi dưỡng" in again


async def test_campaign_for_some_units__others_go_straight_into_the_only_one(db, tmp_path):
    await two_campaigns(db, tmp_path, units=["CAT"])
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    welcome = await bind(db, service, "lan", "STP")
    assert "báo cáo cần nộp" not in welcome and "Họ và tên của bạn (người điền báo cáo)?" in welcome
    assert texts.CAMPAIGN_PICK.split("{")[0].format() in await bind(db, service, "binh", "CAT")


async def test_contact_answering_when_a_second_campaign_opens__told_once_and_keeps_answering(db, tmp_path):
    await ensure_units_and_campaign(db, FORM, NOW)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    await bind(db, service, "lan", "STP")
    form, raw = read_form_file(training_form_file(tmp_path))
    async with db.transaction() as s:
        await q.create_campaign(s, title="Cử cán bộ dự lớp bồi dưỡng", deadline_at=TRAINING_DEADLINE,
                                form_id=form.id, doc_ref=None, now=NOW, form_snapshot=raw, form_hash=form_hash(raw))
    reply = await say(service, "lan", "Nguyễn Thị Lan, 0912 345 678")
    assert texts.CAMPAIGN_OTHER.format(title="Cử cán bộ dự lớp bồi dưỡng", deadline="16:30 ngày 05/04/2017") in reply
    assert "Họ và tên lãnh đạo phụ trách trực tiếp?" in reply  # the answer went where they were
    assert texts.CAMPAIGN_OTHER.split("{")[0] not in await say(service, "lan", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789")


async def test_form_file_edited_after_create__the_campaign_keeps_its_snapshot(db, tmp_path):
    _, second = await two_campaigns(db, tmp_path)
    training_form_file(tmp_path).write_text(TRAINING_YAML.replace("Họ và tên học viên?", "Tên?"), encoding="utf-8")
    async with db.transaction() as s:
        campaign = await q.get_campaign(s, second)
    form = form_of(campaign, FORM)
    assert "training_2017" == form.id
    assert form.section("attendees").question("name").prompt.startswith("Họ và tên học viên?")


async def test_closed_campaign__no_more_reminders_and_its_pending_ones_do_not_go_out(db, tmp_path):
    first, second = await two_campaigns(db, tmp_path)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    await bind(db, service, "lan", "STP")
    async with db.transaction() as s:
        await queue_now(s, await q.get_campaign(s, second), NOW)
        await close_campaign(s, await q.get_campaign(s, second), "Nguyễn Văn An", NOW)
    sent: list[str] = []

    async def sender(chat_id, user_id, text):
        sent.append(text)
        return SendResult(True)

    await run_due(db, FORM, DEADLINE - timedelta(hours=2), {"zalo": sender})
    assert sent and all("Cử cán bộ" not in text for text in sent)  # the open campaign's reminder only
    async with db.transaction() as s:
        states = {(r.campaign_id, r.state) for r in await s.scalars(sa.select(ReminderSend))}
    assert (second, q.SEND_EXPIRED) in states and (second, q.SEND_PENDING) not in states
    # The contact is no longer asked to pick: the closed call is gone from their list.
    assert "báo cáo cần nộp" not in await say(service, "lan", "chào")


def sample_installation(tmp_path) -> None:
    assert 0 == hcc(["units", "import", "--sample", "--yes"], tmp_path).returncode
    assert 0 == hcc(["campaign", "create", "--title", texts.DEFAULT_CAMPAIGN_TITLE, "--deadline", "31/03/2030 16:30"],
                    tmp_path).returncode


def test_cli__create_with_form_and_units__list_show_close(tmp_path):
    form = training_form_file(tmp_path)
    sample_installation(tmp_path)  # the sample units and a first campaign (#1)
    created = hcc(["campaign", "create", "--title", "Cử cán bộ dự lớp bồi dưỡng", "--deadline", "05/04/2030 16:30",
                   "--form", str(form), "--units", "STP,cat"], tmp_path)
    assert 0 == created.returncode, created.stderr
    assert texts.CLI_CAMPAIGN_CREATED.format(id=2, title="Cử cán bộ dự lớp bồi dưỡng",
                                             deadline="16:30 ngày 05/04/2030") in created.stdout
    listed = json.loads(hcc(["campaign", "list", "--json"], tmp_path).stdout)
    assert [(1, "open", "hcc_report_2017", "all"), (2, "open", "training_2017", ["STP", "CAT"])] == \
        [(c["id"], c["state"], c["form_id"], c["units"]) for c in listed]
    shown = hcc(["campaign", "show", "2"], tmp_path).stdout
    assert "Biểu mẫu: Đăng ký cử cán bộ tham gia lớp bồi dưỡng (training_2017, " in shown
    assert "Đơn vị: STP, CAT" in shown and "Đã nộp: 0/2" in shown
    status = json.loads(hcc(["status", "--campaign", "2", "--json"], tmp_path).stdout)
    assert ("Cử cán bộ dự lớp bồi dưỡng", ["CAT", "STP"]) == (status["campaign"]["title"],
                                                            sorted(u["code"] for u in status["units"]))
    bad = hcc(["campaign", "create", "--title", "X", "--deadline", "05/04/2030 16:30", "--units", "STP,XYZ"],
              tmp_path)
    assert 2 == bad.returncode and texts.CLI_CAMPAIGN_UNITS_UNKNOWN.format(codes="XYZ") in bad.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(TRAINING_YAML.replace("type: phone", "type: telephone"), encoding="utf-8")
    refused = hcc(["campaign", "create", "--title", "X", "--deadline", "05/04/2030 16:30", "--form", str(broken)],
                  tmp_path)
    assert 2 == refused.returncode and texts.FORM_ERR_TYPE.format(type="telephone", types=", ".join(QUESTION_TYPES)) \
        in refused.stderr
    assert 2 == len(json.loads(hcc(["campaign", "list", "--json"], tmp_path).stdout))  # nothing half-made
    closed = hcc(["campaign", "close", "2"], tmp_path)
    assert texts.CLI_CAMPAIGN_CLOSED.format(id=2, title="Cử cán bộ dự lớp bồi dưỡng") in closed.stdout
    assert "closed" == json.loads(hcc(["campaign", "show", "2", "--json"], tmp_path).stdout)["state"]
    assert texts.CLI_CAMPAIGN_ALREADY_CLOSED.format(id=2) in hcc(["campaign", "close", "2"], tmp_path).stderr


async def test_reminders__two_open_campaigns__each_names_its_campaign_and_how_to_switch(db, tmp_path):
    first, second = await two_campaigns(db, tmp_path)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    await bind(db, service, "lan", "STP")
    await say(service, "lan", "1")  # answering the seed's report
    sent: list[str] = []

    async def sender(chat_id, user_id, text):
        sent.append(text)
        return SendResult(True)

    async with db.transaction() as s:
        await queue_now(s, await q.get_campaign(s, first), NOW)
        await queue_now(s, await q.get_campaign(s, second), NOW + timedelta(seconds=1))
    await run_due(db, FORM, NOW + timedelta(seconds=2), {"zalo": sender})
    seed, training = sorted(sent, key=lambda t: "bồi dưỡng" in t)
    assert seed.startswith("NHẮC HẠN NỘP BÁO CÁO – Sở Tư pháp\nBáo cáo: Báo cáo tiến độ triển khai thành lập")
    assert texts.REMINDER_HOW_SWITCH not in seed  # that is the one they are answering
    assert training.startswith("NHẮC HẠN NỘP BÁO CÁO – Sở Tư pháp\nBáo cáo: Cử cán bộ dự lớp bồi dưỡng\n"
                               "Hạn nộp: 16:30 ngày 05/04/2017")
    assert training.endswith(texts.REMINDER_HOW_SWITCH)


async def submit_seed_report(db, service: Service, user: str) -> None:
    from tests.export_samples import FULL_REPORT, portrait

    for n, line in enumerate(FULL_REPORT):
        inbound = Inbound(channel="zalo", user_id=user, chat_id=user, event_id=f"f{next(_ids)}",
                          text=None if line == "PHOTO" else line,
                          photo=portrait((n * 7 % 200, 90, 140)) if line == "PHOTO" else None)
        await service.handle(inbound)
        service.sent(inbound)


async def second_round(db, tmp_path) -> tuple[Service, Campaign, Campaign]:
    """STP submitted the seed's report (by "lan"); that round is closed and a second one of the same form opened."""
    await ensure_units_and_campaign(db, FORM, NOW)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = DEADLINE
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    await bind(db, service, "lan", "STP")
    await submit_seed_report(db, service, "lan")
    form, raw = read_form_file(FORM.path)
    async with db.transaction() as s:
        first = await q.current_campaign(s)
        await close_campaign(s, first, "Nguyễn Văn An", NOW)
        second = await q.create_campaign(s, title="Báo cáo quý II", deadline_at=TRAINING_DEADLINE, form_id=form.id,
                                         doc_ref=None, now=NOW, form_snapshot=raw, form_hash=form_hash(raw))
    return service, first, second


async def test_prefill__staff_of_the_last_round_reused_edited_and_submitted__the_old_report_unchanged(db, tmp_path):
    service, first, second = await second_round(db, tmp_path)
    old = await answers_of(db, first.id, "STP")
    from tests.export_samples import FULL_REPORT

    tail = FULL_REPORT[FULL_REPORT.index("125"):-1]
    offer = await say(service, "lan", "chào")
    assert offer == texts.CAMPAIGN_CLOSED_NOTE.format(title=first.title) + "\n\n" + texts.PREFILL_OFFER.format(
        count=1, item="lãnh đạo", title=first.title, names="Trần Văn Hùng")  # told the old round closed
    assert "nhân sự chính" not in await answers_of(db, second.id, "STP")  # nothing stored before the answer
    assert texts.PREFILL_AGAIN in await say(service, "lan", "để mai tính")
    await say(service, "lan", "có")
    carried = await say(service, "lan", "có")  # the 3 main staff
    assert texts.PREFILL_DONE.format(count=3, item="nhân sự chính", items="1. Lê Thị Mai – Chuyên viên\n"
                                     "2. Phạm Văn Nam – Chuyên viên\n3. Đỗ Thị Hạnh – Cán sự") in carried
    for line in ["không", "có", "không", "Nguyễn Thị Lan, 0912 345 678", "xong", "không có", "xong", *tail,
                 "sửa 3", "1", "2", "Phó Trưởng phòng", "xong"]:
        await say(service, "lan", line)
    assert (await say(service, "lan", "nộp")).startswith("Đã nộp báo cáo lúc 09:00 ngày 27/03/2017")
    new = await answers_of(db, second.id, "STP")
    assert ["Lê Thị Mai", "Phạm Văn Nam", "Đỗ Thị Hạnh"] == [new[f"main_staff[{n}].name"] for n in (1, 2, 3)]
    assert "Phó Trưởng phòng" == new["main_staff[1].position"]
    assert "Trần Văn Hùng" == new["leader[1].name"] and not any(k.startswith("backup_staff[") for k in new)
    async with db.transaction() as s:
        photos = {p.id: p for p in await s.scalars(sa.select(Photo))}
        report = await s.scalar(sa.select(Report).where(Report.campaign_id == second.id))
    copied, original = photos[new["main_staff[1].photo"]], photos[old["main_staff[1].photo"]]
    assert (copied.report_id, copied.processed_path) == (report.id, original.processed_path)  # the same picture
    assert old == await answers_of(db, first.id, "STP")  # the first round is untouched
    assert "Chuyên viên" == old["main_staff[1].position"]


TRAINING_XLSX = Path(__file__).resolve().parent.parent / "conversations" / "forms" / "training.xlsx"


async def test_xlsform_campaign__answered_in_the_chat_and_exported_with_its_own_columns_only(db, tmp_path):
    """A call authored in Excel (the shipped training.xlsx) beside the seed's report: the unit picks it, answers
    it (a constraint refuses a bad answer), submits; each campaign's workbook has its own form's columns only."""
    import openpyxl

    from exports.data import load_export_data
    from exports.workbook import build_workbook

    await ensure_units_and_campaign(db, FORM, NOW)
    form, raw = read_form_file(TRAINING_XLSX)
    async with db.transaction() as s:
        first = await q.current_campaign(s)
        second = await q.create_campaign(s, title="Cử cán bộ dự lớp bồi dưỡng", deadline_at=TRAINING_DEADLINE,
                                         form_id=form.id, doc_ref=None, now=NOW, form_snapshot=raw,
                                         form_hash=form_hash(raw))
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    await bind(db, service, "lan", "STP")
    picked = await say(service, "lan", "2")
    assert "giúp Sở Tư pháp gửi báo cáo “Cử cán bộ dự lớp bồi dưỡng”. Hạn nộp: 16:30 ngày 05/04/2017." in picked
    assert "Họ và tên người liên hệ của đơn vị?" in picked  # the call's own first question
    for line in ["Nguyễn Thị Lan", "0912 345 678", "Lê Thị Mai"]:
        await say(service, "lan", line)
    refused = await say(service, "lan", "AB")
    assert refused.startswith("Chức vụ cần ít nhất 3 ký tự, ví dụ: Chuyên viên.")
    assert "attendees[1].position" not in await answers_of(db, second.id, "STP")  # nothing stored
    for line in ["Chuyên viên", "0987 654 321", "02/05/1990", "1", "12,5", "1", "bỏ qua", "xong"]:
        await say(service, "lan", line)
    assert (await say(service, "lan", "nộp")).startswith("Đã nộp báo cáo lúc 09:00 ngày 27/03/2017")
    assert {} == await answers_of(db, first.id, "STP")  # the seed's report got none of it

    def headers(campaign_id: int, name: str) -> set[str]:
        book = openpyxl.load_workbook(tmp_path / name)
        return {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value}

    for campaign, name in ((first, "seed.xlsx"), (second, "training.xlsx")):
        data = await load_export_data(db, form_of(campaign, FORM), now=NOW, campaign_id=campaign.id)
        build_workbook(data, tmp_path / name)
    training, seed = headers(second.id, "training.xlsx"), headers(first.id, "seed.xlsx")
    assert {"Số năm công tác", "Hình thức tham gia", "Lê Thị Mai", "12.5"} <= training  # 12.5: a number cell
    assert not {"Kích cỡ áo", "Thủ tục hành chính", "Nội dung thực hiện"} & training
    assert {"Kích cỡ áo", "Nội dung thực hiện"} <= seed and not {"Số năm công tác", "Lê Thị Mai"} & seed


def test_cli__create_from_an_xlsform__and_a_broken_one_refused_with_its_row(tmp_path):
    import openpyxl

    sample_installation(tmp_path)  # the sample units and a first campaign (#1)
    created = hcc(["campaign", "create", "--title", "Cử cán bộ dự lớp bồi dưỡng", "--deadline", "05/04/2030 16:30",
                   "--form", str(TRAINING_XLSX)], tmp_path)
    assert 0 == created.returncode, created.stderr
    shown = json.loads(hcc(["campaign", "show", "2", "--json"], tmp_path).stdout)
    assert ("training_registration", "Đăng ký cử cán bộ tham gia lớp bồi dưỡng") == (shown["form_id"],
                                                                                    shown["form_title"])
    book = openpyxl.load_workbook(TRAINING_XLSX)
    survey = book["survey"]
    header = [c.value for c in survey[1]]
    survey.cell(row=3, column=header.index("type") + 1, value="geotrace")
    broken = tmp_path / "broken.xlsx"
    book.save(broken)
    refused = hcc(["campaign", "create", "--title", "X", "--deadline", "05/04/2030 16:30", "--form", str(broken)],
                  tmp_path)
    assert 2 == refused.returncode
    assert (f"{broken}: trang tính survey, dòng 3, cột type: kiểu 'geotrace' không hỏi được trong trò chuyện "
            f"(dùng --skip-unsupported để bỏ qua câu này)") == refused.stderr.strip()


def test_migration_0008__campaigns_before__keep_the_installation_form_and_every_unit(tmp_path):
    """A database of the previous release: its campaign keeps the installation's form and asks every unit; a
    report submitted then keeps its first submission time (on time or late is judged by it)."""
    from alembic import command
    from alembic.config import Config

    from storage.db import MIGRATIONS_DIR

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        conn.execute(sa.text("INSERT INTO unit (id, code, name, active, created_at) VALUES "
                             "(1, 'STP', 'Sở Tư pháp', 1, :t), (2, 'CAT', 'Công an tỉnh', 1, :t)"), {"t": NOW})
        conn.execute(sa.text("INSERT INTO campaign (id, title, deadline_at, form_id, created_at) "
                             "VALUES (1, 'Báo cáo cũ', :d, 'hcc_report_2017', :t)"), {"d": DEADLINE, "t": NOW})
        conn.execute(sa.text("INSERT INTO campaign (id, title, deadline_at, form_id, created_at) "
                             "VALUES (2, 'Báo cáo quý II', :d, 'hcc_report_2017', :t)"), {"d": DEADLINE, "t": NOW})
        conn.execute(sa.text("INSERT INTO contact (id, channel, platform_user_id, chat_id, role, unit_id, "
                             "invite_failures, created_at) VALUES (1, 'zalo', 'lan', 'lan', 'unit', 1, 0, :t)"),
                     {"t": NOW})
        conn.execute(sa.text("INSERT INTO report (id, campaign_id, unit_id, status, submitted_at, reopened, "
                             "created_at, updated_at) VALUES (1, 1, 1, 'submitted', :s, 0, :t, :t)"),
                     {"s": NOW + timedelta(hours=3), "t": NOW})
        for version, hours in ((1, 1), (2, 3)):
            conn.execute(sa.text("INSERT INTO report_version (report_id, version, answers, submitted_at, late) "
                                 "VALUES (1, :v, '{}', :s, 0)"), {"v": version, "s": NOW + timedelta(hours=hours)})
        command.upgrade(cfg, "head")
        first = conn.execute(sa.text("SELECT first_submitted_at FROM report WHERE id = 1")).scalar_one()
        snapshots = conn.execute(sa.text("SELECT id, form_snapshot, closed_at IS NOT NULL FROM campaign "
                                         "ORDER BY id")).all()
        answering = conn.execute(sa.text("SELECT campaign_id FROM contact WHERE id = 1")).scalar_one()
    engine.dispose()
    assert str(NOW + timedelta(hours=1)).startswith(str(first)[:19].replace("T", " "))
    # Only the newest was live before: the older one is closed (still readable), the contact answers the newest.
    assert [(1, None, 1), (2, None, 0)] == [tuple(r) for r in snapshots] and 2 == answering

    async def check():
        from storage.db import open_database

        db = await open_database(url)
        try:
            async with db.transaction() as s:
                campaign = await q.get_campaign(s, 2)
                units = [u.code for u, _ in await q.reports_by_unit(s, 2)]
                asked = await q.open_campaigns_for_unit(s, 2)
        finally:
            await db.dispose()
        assert form_of(campaign, FORM) is FORM and ["STP", "CAT"] == units and [2] == [c.id for c in asked]

    import asyncio
    asyncio.run(check())


async def test_officer_in_the_chat__lists_campaigns_picks_one__status_and_review_act_on_it(db, tmp_path):
    first, second = await two_campaigns(db, tmp_path, units=["CAT"])
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    async with db.transaction() as s:
        code = (await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW + timedelta(days=7), max_uses=1,
                                      now=NOW)).code
    await say(service, "an", code)
    listed = await say(service, "an", "đổi báo cáo")
    assert texts.ADMIN_CAMPAIGN_LINE.format(id=second, title="Cử cán bộ dự lớp bồi dưỡng", state="đang mở",
                                            deadline="16:30 ngày 05/04/2017", mark=texts.ADMIN_CAMPAIGN_CURRENT) in listed
    assert texts.ADMIN_CAMPAIGN_UNKNOWN.format(id="9") == await say(service, "an", "đổi báo cáo 9")
    status = await say(service, "an", "tình hình")
    assert status.startswith("TÌNH HÌNH NỘP BÁO CÁO – Cử cán bộ dự lớp bồi dưỡng") and "Sở Tư pháp" not in status
    assert texts.ADMIN_CAMPAIGN_PICKED.format(id=first, title=texts.DEFAULT_CAMPAIGN_TITLE) == \
        await say(service, "an", f"đổi báo cáo {first}")
    status = await say(service, "an", "tình hình")
    assert status.startswith(f"TÌNH HÌNH NỘP BÁO CÁO – {texts.DEFAULT_CAMPAIGN_TITLE}") and "Sở Tư pháp" in status
    async with db.transaction() as s:
        await close_campaign(s, await q.get_campaign(s, first), "Nguyễn Văn An", NOW)
    assert texts.REVIEW_CAMPAIGN_CLOSED.format(title=texts.DEFAULT_CAMPAIGN_TITLE) == \
        await say(service, "an", "gia hạn STP 30/03/2017 16:30")


async def test_picker__button_press_or_punctuated_switch__and_a_number_is_never_a_yes_to_an_offer(db, tmp_path):
    first, second = await two_campaigns(db, tmp_path)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))

    async def press(value: str) -> str:
        inbound = Inbound(channel="zalo", user_id="lan", chat_id="lan", event_id=f"c{next(_ids)}", pick=value)
        replies = await service.handle(inbound)
        service.sent(inbound)
        return "\n".join(r.text for r in replies)

    await bind(db, service, "lan", "STP")
    assert "Bạn đang nhập: Cử cán bộ dự lớp bồi dưỡng" in await press(f"c{second}")  # the button's value
    assert "Bạn có 2 báo cáo cần nộp:" in await say(service, "lan", "Đổi báo cáo.")
    assert "Bạn đang nhập: Báo cáo tiến độ" in await say(service, "lan", "đổi báo cáo 1")
    assert {} == await answers_of(db, second, "STP") == await answers_of(db, first, "STP")


async def test_chosen_campaign_closes_mid_answer__the_next_message_is_not_stored_anywhere(db, tmp_path):
    first, second = await two_campaigns(db, tmp_path)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    await bind(db, service, "lan", "STP")
    await say(service, "lan", "2")
    await say(service, "lan", "Lê Thị Mai")  # asked next: the position
    async with db.transaction() as s:
        await close_campaign(s, await q.get_campaign(s, second), "Nguyễn Văn An", NOW)
    reply = await say(service, "lan", "Chuyên viên")
    assert reply.startswith(texts.CAMPAIGN_CLOSED_NOTE.format(title="Cử cán bộ dự lớp bồi dưỡng"))
    assert "Họ và tên của bạn (người điền báo cáo)?" in reply  # the open one, from its first question
    assert {} == await answers_of(db, first, "STP")


async def test_prefill_offer_pending__a_picker_number_is_not_taken_as_yes(db, tmp_path):
    service, _, again = await second_round(db, tmp_path)
    training, training_raw = read_form_file(training_form_file(tmp_path))
    async with db.transaction() as s:
        await q.create_campaign(s, title="Cử cán bộ dự lớp bồi dưỡng", deadline_at=TRAINING_DEADLINE,
                                form_id=training.id, doc_ref=None, now=NOW, form_snapshot=training_raw,
                                form_hash=form_hash(training_raw))
    await say(service, "lan", "chào")  # the closed round is gone; two open: the picker
    assert texts.PREFILL_OFFER.split("{")[0] in await say(service, "lan", "1")
    await say(service, "lan", "đổi báo cáo")
    back = await say(service, "lan", "1")  # "1" picks the campaign again; it is not "có" to the offer
    assert texts.PREFILL_OFFER.split("{")[0] in back and texts.PREFILL_DONE.split("{")[0] not in back
    assert {} == await answers_of(db, again.id, "STP")


async def test_closed_campaign__remind_now_and_deadline_change_refused_not_queued(db, tmp_path):
    first, second = await two_campaigns(db, tmp_path)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    await bind(db, service, "lan", "STP")
    async with db.transaction() as s:
        code = (await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW + timedelta(days=7), max_uses=1,
                                      now=NOW)).code
    await say(service, "an", code)
    await say(service, "an", f"đổi báo cáo {second}")
    async with db.transaction() as s:
        await close_campaign(s, await q.get_campaign(s, second), "Nguyễn Văn An", NOW)
    closed = texts.REVIEW_CAMPAIGN_CLOSED.format(title="Cử cán bộ dự lớp bồi dưỡng")
    assert closed in await say(service, "an", "nhắc ngay")
    assert closed in await say(service, "an", "hạn nộp 10/04/2017 16:30")
    async with db.transaction() as s:
        pending = list(await s.scalars(sa.select(ReminderSend).where(ReminderSend.campaign_id == second,
                                                                   ReminderSend.state == q.SEND_PENDING)))
        campaign = await q.get_campaign(s, second)
    assert [] == pending and TRAINING_DEADLINE == campaign.deadline_at.replace(tzinfo=timezone.utc)


async def test_prefill__last_round_purged__its_people_not_offered(db, tmp_path):
    from bot.purge import purge_campaign

    service, first, _ = await second_round(db, tmp_path)
    await purge_campaign(db, FORM, first.id, now=DEADLINE + timedelta(days=1))
    reply = await say(service, "lan", "chào")
    # The people were purged (names blanked, photos removed): no staff list is offered; the plan, which holds no
    # personal data, still is.
    assert "đơn vị đã khai 4 nội dung kế hoạch: Rà soát TTHC" in reply
    assert not any(word in reply for word in ("lãnh đạo:", "nhân sự chính:", "không có"))


async def test_picker_reply__process_died_before_sending__the_redelivered_update_gets_it_again(db, tmp_path):
    """The list of campaigns is kept until sent like any reply: after a crash between the commit and the send,
    the platform's redelivery of the same update gets the same list (not silence, not a second answer)."""
    await two_campaigns(db, tmp_path)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    await bind(db, service, "lan", "STP")
    await say(service, "lan", "1")
    switch = Inbound(channel="zalo", user_id="lan", chat_id="lan", event_id="upd-9", text="đổi báo cáo")
    first = "\n".join(r.text for r in await service.handle(switch))  # never sent: the process dies here
    restarted = Service(db, FORM, tmp_path / "photos", Clock(NOW + timedelta(minutes=1)))
    again = "\n".join(r.text for r in await restarted.handle(switch))
    assert "Bạn có 2 báo cáo cần nộp:" in first and first == again


async def test_chat_deadline__a_date_already_passed__refused_with_a_future_example_nothing_changed(db, tmp_path):
    first, second = await two_campaigns(db, tmp_path)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    async with db.transaction() as s:
        code = (await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW + timedelta(days=7), max_uses=1,
                                      now=NOW)).code
    await say(service, "an", code)
    await say(service, "an", f"đổi báo cáo {second}")
    example = example_deadline(NOW)  # a week after the bot's today: "03/04/2017 16:30"
    assert "03/04/2017 16:30" == example
    reply = await say(service, "an", "hạn nộp 10/04/2016 16:30")  # the year mistyped
    assert texts.DEADLINE_PAST.format(deadline="16:30 ngày 10/04/2016", example=example) == reply
    async with db.transaction() as s:
        campaign = await q.get_campaign(s, second)
    assert TRAINING_DEADLINE == campaign.deadline_at.replace(tzinfo=timezone.utc)
    help_text = await say(service, "an", "trợ giúp")
    assert f"“hạn nộp {example}”" in help_text and f"“gia hạn STP {example}”" in help_text
