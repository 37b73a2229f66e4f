"""`hcc-bot campaign create|edit|list|show|close`: data calls, each with its own form, units and issuing details."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bot.form_files import load_form_file
from bot.forms import form_hash, form_of, read_form_file
from bot.reminders.plan import example_deadline
from conversations import texts
from conversations.answers import LOCAL_TZ, format_datetime
from conversations.engine import SUBMITTED, SUBMITTED_LATE
from conversations.form import Form, FormError
from bot.issuing import edit_issuing
from exports.issuing import FIELDS as ISSUING_FLAGS, IssuingError, apply_issuing, issuing_of, \
    parse_issuing
from storage import queries as q
from storage.models import Campaign, Report, Unit


class CampaignCommandError(Exception):
    """One line for the operator (exit code 2)."""


def add_campaign_parsers(sub) -> None:
    campaign = sub.add_parser("campaign", help="đợt báo cáo: tạo, xem, đóng, đổi hạn").add_subparsers(
        dest="action", required=True)
    create = campaign.add_parser("create", help="tạo một đợt báo cáo với biểu mẫu riêng")
    create.add_argument("--title", required=True)
    create.add_argument("--deadline", required=True, help='"dd/mm/yyyy HH:MM", giờ Việt Nam')
    create.add_argument("--form", type=Path, default=None,
                        help="biểu mẫu: YAML hoặc XLSForm .xlsx (mặc định: HCC_FORM, báo cáo kèm theo)")
    create.add_argument("--units", default=None, help="chỉ các mã đơn vị này, cách nhau bằng dấu phẩy (mặc định: "
                                                      "mọi đơn vị đang hoạt động)")
    create.add_argument("--doc-ref", default=None, help="số và ngày của công văn")
    create.add_argument("--province", default=None, help="tên tỉnh, ví dụ \"Đồng Nai\" (HCC_PROVINCE được ưu tiên)")
    create.add_argument("--force", action="store_true", help="nhận cả hạn nộp đã qua")
    create.add_argument("--skip-unsupported", action="store_true",
                        help="nạp XLSForm, bỏ qua những gì trò chuyện không hỏi được (geotrace, audio, tệp, …) "
                             "và liệt kê chúng")
    _issuing_flags(create)
    edit = campaign.add_parser("edit", help="đổi thông tin ban hành của một đợt (số, ký hiệu, người ký, nơi nhận "
                                            "của báo cáo tổng hợp)")
    edit.add_argument("id", type=int)
    _issuing_flags(edit)
    lst = campaign.add_parser("list", help="mọi đợt báo cáo, đang mở và đã đóng")
    lst.add_argument("--json", action="store_true")
    show = campaign.add_parser("show", help="một đợt báo cáo (mặc định: đợt mới nhất đang mở)")
    show.add_argument("id", nargs="?", type=int, default=None)
    show.add_argument("--json", action="store_true")
    close = campaign.add_parser("close", help="đóng một đợt: chỉ xem, không nhắc nữa")
    close.add_argument("id", type=int)
    deadline = campaign.add_parser("deadline", help="đổi hạn nộp; các lần nhắc chưa gửi theo hạn mới")
    deadline.add_argument("value", help='"dd/mm/yyyy HH:MM", giờ Việt Nam')
    deadline.add_argument("--campaign", type=int, default=None, help="số đợt (mặc định: đợt mới nhất đang mở)")
    deadline.add_argument("--force", action="store_true", help="nhận cả hạn nộp đã qua")


def _issuing_flags(parser) -> None:
    helps = {"doc_code": 'ký hiệu, ví dụ "BC-SNV"', "doc_number": 'số văn bản (mặc định "…/", để văn thư ghi)',
             "signer_authority": 'thẩm quyền ký, ví dụ "KT. GIÁM ĐỐC"', "signer_title": 'chức vụ, ví dụ "PHÓ GIÁM ĐỐC"',
             "signer_name": "họ và tên người ký", "parent_body": 'cơ quan chủ quản, ví dụ "UBND TỈNH ĐỒNG NAI"',
             "recipients": 'Nơi nhận, mỗi dòng một nơi hoặc cách nhau bằng ";" (dòng "Lưu: …" là dòng lưu)'}
    for name, flag in ISSUING_FLAGS:
        parser.add_argument(flag, dest=name, default=None, help=helps[name] + ' ("" để xoá)')


def _issuing(args) -> dict:
    """The issuing columns the flags give (refused whole, one line, when a value is too long)."""
    try:
        return parse_issuing({name: getattr(args, name, None) for name, _ in ISSUING_FLAGS})
    except IssuingError as exc:
        raise CampaignCommandError(str(exc)) from None


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(LOCAL_TZ).isoformat() if dt else None


async def _units_of(s, codes: str | None) -> list[int] | None:
    if codes is None:
        return None
    wanted = [c.strip().upper() for c in codes.split(",") if c.strip()]
    if not wanted:
        raise CampaignCommandError(texts.CLI_CAMPAIGN_UNITS_EMPTY)
    found = {u.code.upper(): u for u in await q.list_units(s)}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise CampaignCommandError(texts.CLI_CAMPAIGN_UNITS_UNKNOWN.format(codes=", ".join(unknown)))
    return [found[c].id for c in wanted]


async def create(s, args, default_form_path: Path, deadline: datetime, now: datetime,
                 skipped: list[str] | None = None) -> Campaign:
    try:
        if getattr(args, "skip_unsupported", False):
            form, raw = load_form_file(args.form or default_form_path, skip_unsupported=True, skipped=skipped)
        else:
            form, raw = read_form_file(args.form or default_form_path)
    except FormError as exc:
        raise CampaignCommandError(str(exc)) from None
    unit_ids = await _units_of(s, args.units)
    issuing = _issuing(args)
    campaign = await q.create_campaign(s, title=args.title, deadline_at=deadline, form_id=form.id,
                                       doc_ref=args.doc_ref, province=args.province, now=now, form_snapshot=raw,
                                       form_hash=form_hash(raw), unit_ids=unit_ids)
    apply_issuing(campaign, issuing)
    await q.add_audit(s, at=now, action="campaign_create",
                      new={"campaign": campaign.id, "form": form.id, "form_hash": campaign.form_hash,
                           "units": len(unit_ids) if unit_ids else "all"})
    return campaign


async def summary(s, campaign: Campaign, default_form: Form) -> dict:
    """What `list` and `show` print for a campaign."""
    form = form_of(campaign, default_form)
    units = (await s.execute(sa.select(sa.func.count()).select_from(Unit)
                             .where(q.shows_unit(campaign.id)))).scalar_one()
    submitted = (await s.execute(
        sa.select(sa.func.count()).select_from(Report).join(Unit, Unit.id == Report.unit_id)
        .where(Report.campaign_id == campaign.id, Report.status.in_((SUBMITTED, SUBMITTED_LATE)),
               q.shows_unit(campaign.id)))).scalar_one()
    listed = await q.campaign_unit_ids(s, campaign.id)
    codes = [u.code for u in await q.list_units(s, active_only=False) if u.id in set(listed)] if listed else None
    issuing = issuing_of(campaign)
    return {"id": campaign.id, "title": campaign.title, "doc_ref": campaign.doc_ref,
            "issuing": {"number": issuing.number_line(), "signer": issuing.signer_lines(),
                        "signer_name": issuing.signer_name, "parent_body": issuing.parent(campaign.province),
                        "recipients": issuing.recipient_lines()},
            "deadline_at": _iso(campaign.deadline_at), "state": "closed" if campaign.closed_at else "open",
            "closed_at": _iso(campaign.closed_at), "form_id": form.id, "form_title": form.title,
            "form_hash": campaign.form_hash, "units": codes or "all", "unit_count": units, "submitted": submitted}


def summary_text(info: dict) -> str:
    units = texts.CLI_CAMPAIGN_ALL_UNITS if info["units"] == "all" else ", ".join(info["units"])
    state = texts.CLI_CAMPAIGN_CLOSED_STATE.format(at=info["closed_at"][:16].replace("T", " ")) \
        if info["closed_at"] else texts.CLI_CAMPAIGN_OPEN_STATE
    return texts.CLI_CAMPAIGN_DETAIL.format(
        id=info["id"], title=info["title"], doc_ref=info["doc_ref"] or "–", state=state,
        deadline=format_datetime(datetime.fromisoformat(info["deadline_at"])), form_title=info["form_title"],
        form_id=info["form_id"], form_hash=(info["form_hash"] or texts.CLI_CAMPAIGN_FORM_INSTALLED)[:12],
        units=units, submitted=info["submitted"], total=info["unit_count"]) + "\n" + texts.CLI_CAMPAIGN_ISSUING.format(
        number=info["issuing"]["number"], signer=" / ".join(info["issuing"]["signer"]),
        name=info["issuing"]["signer_name"] or "–", parent=info["issuing"]["parent_body"],
        recipients=" ".join(info["issuing"]["recipients"]))


async def campaign_command(s, args, default_form: Form, default_form_path: Path, now: datetime,
                           deadline: datetime | None) -> None:
    """`campaign create|list|show|close` (deadline is cli.py's, with the reminder plan)."""
    if args.action == "create":
        skipped: list[str] = []
        campaign = await create(s, args, default_form_path, deadline, now, skipped)
        print(texts.CLI_CAMPAIGN_CREATED.format(id=campaign.id, title=campaign.title,
                                                deadline=format_datetime(campaign.deadline_at)))
        if skipped:
            print(texts.CLI_CAMPAIGN_SKIPPED.format(count=len(skipped)))
            for line in skipped:
                print(f"  {line}")
        return
    if args.action == "list":
        rows = [await summary(s, c, default_form) for c in await q.list_campaigns(s)]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            raise CampaignCommandError(texts.CLI_CAMPAIGN_NONE.format(example=example_deadline()))
        for r in rows:
            state = texts.CLI_CAMPAIGN_OPEN_STATE if r["state"] == "open" else texts.CLI_CAMPAIGN_CLOSED_SHORT
            print(texts.CLI_CAMPAIGN_LINE.format(id=r["id"], title=r["title"], state=state,
                                                 deadline=format_datetime(datetime.fromisoformat(r["deadline_at"])),
                                                 submitted=r["submitted"], total=r["unit_count"], form=r["form_id"]))
        return
    campaign = await (q.get_campaign(s, args.id) if args.id is not None else q.current_campaign(s))
    if campaign is None:
        raise CampaignCommandError(texts.CLI_CAMPAIGN_UNKNOWN.format(id=args.id) if args.id is not None
                                   else texts.CLI_CAMPAIGN_NONE.format(example=example_deadline()))
    if args.action == "edit":
        values = _issuing(args)
        if not values:
            raise CampaignCommandError(texts.CLI_CAMPAIGN_EDIT_NOTHING)
        changed = await edit_issuing(s, campaign, values, texts.CLI_WEB_OFFICER, now)
        print(texts.CLI_CAMPAIGN_EDITED.format(id=campaign.id, fields=", ".join(
            texts.ISSUING_FIELDS[name] for name in changed) or "–"))
        return
    if args.action == "show":
        info = await summary(s, campaign, default_form)
        print(json.dumps(info, ensure_ascii=False, indent=2) if args.json else summary_text(info))
        return
    if args.action == "close":
        if campaign.closed_at is not None:
            raise CampaignCommandError(texts.CLI_CAMPAIGN_ALREADY_CLOSED.format(id=campaign.id))
        await close_campaign(s, campaign, texts.CLI_WEB_OFFICER, now)
        print(texts.CLI_CAMPAIGN_CLOSED.format(id=campaign.id, title=campaign.title))


async def close_campaign(s, campaign: Campaign, by: str, now: datetime) -> None:
    """Read-only from now on: no answers, no reminders (the pending ones will not go out)."""
    campaign.closed_at, campaign.closed_by = now, by
    expired = await q.expire_campaign_sends(s, campaign.id, now)
    await q.add_audit(s, at=now, action="campaign_close", new={"campaign": campaign.id, "by": by,
                                                               "reminders_cancelled": expired})
