"""Storage: migrations, UTC datetimes, diffed answers, concurrency-safe creation, invites, units."""

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncSession

from bot.unit_files import read_sample_units
from storage import queries as q
from storage.db import MIGRATIONS_DIR, Database, DatabaseUnavailable, normalize_url, open_database
from storage.models import Answer, AuditLog, Base, Campaign, Contact, ProcessedEvent, Report, Unit

UTC = timezone.utc
ICT = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh
NOW = datetime(2025, 3, 20, 2, 0, tzinfo=UTC)


async def _unit_and_campaign(db: Database) -> tuple[int, int]:
    async with db.transaction() as s:
        await q.upsert_units(s, [("SNV", "Sở Nội vụ")], now=NOW)
        unit = await q.get_unit_by_code(s, "SNV")
        campaign = await q.create_campaign(
            s, title="Báo cáo TTHCC", deadline_at=NOW + timedelta(days=7), form_id="hcc", doc_ref=None, now=NOW
        )
        assert unit is not None
        return unit.id, campaign.id


async def _contact(db: Database, user: str) -> int:
    async with db.transaction() as s:
        contact = await q.get_or_create_contact(
            s, channel="telegram", platform_user_id=user, chat_id=user, display_name=None, now=NOW
        )
        return contact.id


async def _in_parallel(db: Database, n: int, work: Callable[[AsyncSession, int], Awaitable[Any]]) -> list[Any]:
    """Run work in n transactions at once; on PostgreSQL all of them hold a connection before any starts."""
    barrier = None if db.is_sqlite else asyncio.Barrier(n)

    async def one(i: int) -> Any:
        async with db.transaction() as s:
            if barrier is not None:
                await s.execute(sa.text("SELECT 1"))
                await barrier.wait()
            return await work(s, i)

    return await asyncio.gather(*(one(i) for i in range(n)))


async def _count(db: Database, model: type[Base]) -> int:
    async with db.sessionmaker() as s:
        return await s.scalar(sa.select(sa.func.count()).select_from(model))


# --- database, migrations ----------------------------------------------------------------------


async def test_migrations__fresh_database__reach_head_and_match_models(db: Database) -> None:
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()

    def inspect(conn: sa.Connection) -> tuple[str | None, list[Any]]:
        context = MigrationContext.configure(conn, opts={"compare_server_default": True})
        return context.get_current_revision(), compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        revision, differences = await conn.run_sync(inspect)
    assert (head, []) == (revision, differences)


async def test_open_database__already_migrated__opens_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'hcc.db'}"
    for _ in range(2):
        database = await open_database(url)
        await database.dispose()
    assert (tmp_path / "data" / "hcc.db").exists()


async def test_open_database__sqlite__wal_and_foreign_keys_on(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        journal = await conn.scalar(sa.text("PRAGMA journal_mode"))
        foreign_keys = await conn.scalar(sa.text("PRAGMA foreign_keys"))
    assert ("wal", 1) == (journal, foreign_keys)


async def test_transaction__sqlite__statements_run_on_the_event_loop_thread(sqlite_db: Database) -> None:
    """No hand-off to a driver thread per call (storage/sqlite_inline.py): SQL sees the loop's own thread."""
    async with sqlite_db.transaction() as s:
        raw = (await s.connection()).sync_connection.connection.driver_connection
        await raw.create_function("thread_ident", 0, threading.get_ident)
        seen = await s.scalar(sa.text("SELECT thread_ident()"))
        await q.upsert_units(s, [("X1", "Đơn vị thử")], now=NOW)
    assert threading.get_ident() == seen
    async with sqlite_db.sessionmaker() as s:
        assert "Đơn vị thử" == (await q.get_unit_by_code(s, "X1")).name


async def test_open_database__unreachable_postgres__one_line_without_password() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_database("postgresql://postgres:s3cret@127.0.0.1:1/test")
    message = str(caught.value)
    assert message.startswith("cannot reach the database at postgresql+asyncpg://postgres:***@127.0.0.1:1/test: ")
    assert "\n" not in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/hcc.db", "sqlite+aiosqlite:///data/hcc.db"),
        ("sqlite:////var/lib/hcc/hcc.db", "sqlite+aiosqlite:////var/lib/hcc/hcc.db"),
        ("sqlite+aiosqlite:///hcc.db", "sqlite+aiosqlite:///hcc.db"),
        ("postgres://u:p@db/hcc", "postgresql+asyncpg://u:p@db/hcc"),
        ("postgresql://u@db:5432/hcc", "postgresql+asyncpg://u@db:5432/hcc"),
        ("postgresql+asyncpg://u@db/hcc", "postgresql+asyncpg://u@db/hcc"),
    ],
)
def test_normalize_url__supported_scheme__async_driver(url: str, expected: str) -> None:
    assert expected == normalize_url(url)


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("mysql://u@db/hcc", "mysql"),
        ("postgresql+psycopg2://u@db/hcc", "postgresql+psycopg2"),
        ("hcc.db", "hcc.db"),
    ],
)
def test_normalize_url__other_scheme__value_error(url: str, scheme: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_url(url)
    assert f"expected a sqlite:/// or postgresql:// URL, got '{scheme}'" == str(caught.value)


async def test_transaction__sqlite__holds_write_lock_from_begin_while_readers_read(sqlite_db: Database) -> None:
    """Another process cannot write in the middle of a transaction; readers are not blocked."""
    async with sqlite_db.transaction() as s:
        await q.upsert_units(s, [("SNV", "Sở Nội vụ")], now=NOW)
    path = sqlite_db.engine.url.database
    async with sqlite_db.transaction() as s:
        await q.list_units(s)  # only a read so far
        other_process = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other_process.execute("BEGIN IMMEDIATE")
        finally:
            other_process.close()
        async with sqlite_db.sessionmaker() as reader:
            assert ["SNV"] == [u.code for u in await q.list_units(reader)]


async def test_transaction__exception__rolled_back(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            await q.upsert_units(s, [("SNV", "Sở Nội vụ")], now=NOW)
            raise RuntimeError("boom")
    assert 0 == await _count(db, Unit)


# --- UTC datetimes -----------------------------------------------------------------------------


async def test_utc_datetime__plus_seven_offset__comes_back_equal_in_utc(db: Database) -> None:
    deadline = datetime(2025, 3, 28, 17, 0, tzinfo=ICT)
    async with db.transaction() as s:
        campaign = await q.create_campaign(
            s, title="Báo cáo", deadline_at=deadline, form_id="hcc", doc_ref="123/UBND-KSTT", now=NOW
        )
    async with db.sessionmaker() as s:
        loaded = await q.get_campaign(s, campaign.id)
    assert loaded is not None
    assert deadline == loaded.deadline_at
    assert datetime(2025, 3, 28, 10, 0, tzinfo=UTC) == loaded.deadline_at
    assert timedelta(0) == loaded.deadline_at.utcoffset()


async def test_utc_datetime__compared_in_query__compares_instants(db: Database) -> None:
    async with db.transaction() as s:
        await q.create_campaign(
            s, title="Báo cáo", deadline_at=datetime(2025, 3, 28, 10, 0, tzinfo=UTC), form_id="hcc",
            doc_ref=None, now=NOW,
        )
    count_after = sa.select(sa.func.count()).select_from(Campaign).where
    async with db.sessionmaker() as s:
        before = await s.scalar(count_after(Campaign.deadline_at > datetime(2025, 3, 28, 16, 59, tzinfo=ICT)))
        after = await s.scalar(count_after(Campaign.deadline_at > datetime(2025, 3, 28, 17, 1, tzinfo=ICT)))
    assert (1, 0) == (before, after)


async def test_utc_datetime__naive__refused(db: Database) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        async with db.transaction() as s:
            await q.create_campaign(
                s, title="Báo cáo", deadline_at=datetime(2025, 3, 28, 17, 0), form_id="hcc", doc_ref=None, now=NOW
            )


# --- answers -----------------------------------------------------------------------------------


async def test_save_answer_changes__edited_answers__writes_only_differences_and_audits_them(db: Database) -> None:
    unit_id, campaign_id = await _unit_and_campaign(db)
    contact_id = await _contact(db, "u1")
    before = {
        "reporter.name": "Nguyễn Văn An", "staff_count": 3, "has_center": True,
        "main_staff[1].phone": "+84912345678",
    }
    after = {"reporter.name": "Nguyễn Văn An", "staff_count": 4, "has_center": 1, "main_staff[1].note": None}
    later = NOW + timedelta(hours=1)
    async with db.transaction() as s:
        report = await q.get_or_create_report(s, campaign_id=campaign_id, unit_id=unit_id, now=NOW)
        await q.save_answer_changes(s, report_id=report.id, contact_id=None, before={}, after=before, at=NOW)
    async with db.transaction() as s:
        changed = await q.save_answer_changes(
            s, report_id=report.id, contact_id=contact_id, before=before, after=after, at=later
        )
    async with db.sessionmaker() as s:
        answers = await q.load_answers(s, report.id)
        untouched = await s.scalar(sa.select(Answer).where(Answer.key == "reporter.name"))
        audit = [
            (a.action, a.key, a.old, a.new)
            for a in await s.scalars(
                sa.select(AuditLog).where(AuditLog.at == later).order_by(AuditLog.id)
            )
        ]
    assert 4 == changed
    assert after == answers
    assert (NOW, None) == (untouched.updated_at, untouched.updated_by)
    assert [
        ("set", "has_center", True, 1),
        ("set", "main_staff[1].note", None, None),
        ("set", "staff_count", 3, 4),
        ("delete", "main_staff[1].phone", "+84912345678", None),
    ] == audit


async def test_save_answer_changes__nothing_changed__writes_nothing(db: Database) -> None:
    unit_id, campaign_id = await _unit_and_campaign(db)
    answers = {"reporter.name": "An", "photos": {"id": 3}}
    async with db.transaction() as s:
        report = await q.get_or_create_report(s, campaign_id=campaign_id, unit_id=unit_id, now=NOW)
        await q.save_answer_changes(s, report_id=report.id, contact_id=None, before={}, after=answers, at=NOW)
    async with db.transaction() as s:
        changed = await q.save_answer_changes(
            s, report_id=report.id, contact_id=None, before=answers, after=dict(answers), at=NOW
        )
    assert (0, 2) == (changed, await _count(db, AuditLog))


async def test_save_answer_changes__two_contacts_change_different_keys_at_once__both_kept(db: Database) -> None:
    unit_id, campaign_id = await _unit_and_campaign(db)
    contacts = [await _contact(db, "u1"), await _contact(db, "u2")]
    async with db.transaction() as s:
        report = await q.get_or_create_report(s, campaign_id=campaign_id, unit_id=unit_id, now=NOW)
        await q.save_answer_changes(s, report_id=report.id, contact_id=None, before={}, after={"x": 1}, at=NOW)
    before = {"x": 1}  # what both people's conversations saw
    edits = [{"x": 1, "reporter.name": "Trần Thị Bình"}, {"x": 1, "reporter.phone": "+84912345678"}]

    async def edit(s: AsyncSession, i: int) -> int:
        return await q.save_answer_changes(
            s, report_id=report.id, contact_id=contacts[i], before=before, after=edits[i], at=NOW
        )

    assert [1, 1] == await _in_parallel(db, 2, edit)
    async with db.sessionmaker() as s:
        answers = await q.load_answers(s, report.id)
    assert {"x": 1, "reporter.name": "Trần Thị Bình", "reporter.phone": "+84912345678"} == answers


# --- concurrency-safe creation -----------------------------------------------------------------


async def test_get_or_create_report__five_transactions_at_once__one_row(db: Database) -> None:
    unit_id, campaign_id = await _unit_and_campaign(db)

    async def create(s: AsyncSession, i: int) -> int:
        report = await q.get_or_create_report(
            s, campaign_id=campaign_id, unit_id=unit_id, now=NOW, for_update=i % 2 == 0
        )
        return report.id

    ids = await _in_parallel(db, 5, create)
    assert (1, 1) == (len(set(ids)), await _count(db, Report))


async def test_get_or_create_report__new__not_started(db: Database) -> None:
    unit_id, campaign_id = await _unit_and_campaign(db)
    async with db.transaction() as s:
        report = await q.get_or_create_report(s, campaign_id=campaign_id, unit_id=unit_id, now=NOW)
    assert ("not_started", False, None, NOW) == (
        report.status, report.reopened, report.submitted_at, report.created_at
    )


async def test_get_or_create_contact__five_transactions_at_once__one_row(db: Database) -> None:
    async def create(s: AsyncSession, i: int) -> int:
        contact = await q.get_or_create_contact(
            s, channel="zalo", platform_user_id="z-42", chat_id="z-42", display_name="Bình", now=NOW
        )
        return contact.id

    ids = await _in_parallel(db, 5, create)
    assert (1, 1) == (len(set(ids)), await _count(db, Contact))


async def test_get_or_create_contact__seen_again__refreshes_chat_and_last_seen(db: Database) -> None:
    later = NOW + timedelta(days=1)
    async with db.transaction() as s:
        await q.get_or_create_contact(
            s, channel="telegram", platform_user_id="7", chat_id="7", display_name="An", now=NOW
        )
    async with db.transaction() as s:
        await q.get_or_create_contact(
            s, channel="telegram", platform_user_id="7", chat_id="70", display_name=None, now=later
        )
    async with db.sessionmaker() as s:
        contact = await q.get_contact(s, "telegram", "7")
    assert ("70", "An", NOW, later, None, None, 0) == (
        contact.chat_id, contact.display_name, contact.created_at, contact.last_seen_at, contact.unit_id,
        contact.role, contact.invite_failures,
    )


async def test_get_or_create_contact__seen_again_within_minutes__contact_row_not_rewritten(db: Database) -> None:
    soon = NOW + q.LAST_SEEN_RESOLUTION - timedelta(seconds=1)
    async with db.transaction() as s:
        await q.get_or_create_contact(
            s, channel="telegram", platform_user_id="7", chat_id="7", display_name="An", now=NOW
        )
    async with db.transaction() as s:
        contact = await q.get_or_create_contact(
            s, channel="telegram", platform_user_id="7", chat_id="7", display_name="An", now=soon
        )
        assert contact not in s.dirty
    async with db.sessionmaker() as s:
        contact = await q.get_contact(s, "telegram", "7")
    assert NOW == contact.last_seen_at


async def test_list_contacts__filters__by_unit_and_role(db: Database) -> None:
    unit_id, _ = await _unit_and_campaign(db)
    ids = [await _contact(db, user) for user in ("a", "b", "c")]
    async with db.transaction() as s:
        for contact_id, (unit, role) in zip(ids, [(unit_id, "unit"), (None, "admin"), (unit_id, None)]):
            contact = await s.get(Contact, contact_id)
            contact.unit_id, contact.role = unit, role
    async with db.sessionmaker() as s:
        of_unit = [c.id for c in await q.list_contacts(s, unit_id=unit_id)]
        admins = [c.id for c in await q.list_contacts(s, role="admin")]
        unit_members = [c.id for c in await q.list_contacts(s, unit_id=unit_id, role="unit")]
    assert ([ids[0], ids[2]], [ids[1]], [ids[0]]) == (of_unit, admins, unit_members)


# --- versions, reports by unit, conversations, events, photos ----------------------------------


async def test_add_report_version__three_submissions__versions_one_two_three(db: Database) -> None:
    unit_id, campaign_id = await _unit_and_campaign(db)
    async with db.transaction() as s:
        report = await q.get_or_create_report(s, campaign_id=campaign_id, unit_id=unit_id, now=NOW)
    for i in range(3):
        async with db.transaction() as s:
            await q.add_report_version(
                s, report_id=report.id, answers={"n": i}, contact_id=None, at=NOW + timedelta(hours=i), late=i == 2
            )
    async with db.sessionmaker() as s:
        versions = [(v.version, v.answers, v.late) for v in await q.list_report_versions(s, report.id)]
    assert [(1, {"n": 0}, False), (2, {"n": 1}, False), (3, {"n": 2}, True)] == versions


async def test_reports_by_unit__some_units_without_report__none_for_them(db: Database) -> None:
    _, campaign_id = await _unit_and_campaign(db)
    async with db.transaction() as s:
        await q.upsert_units(s, [("STP", "Sở Tư pháp"), ("STC", "Sở Tài chính")], now=NOW)
        stc = await q.get_unit_by_code(s, "stc")
        stc.active = False
        stp = await q.get_unit_by_code(s, "STP")
        report = await q.get_or_create_report(s, campaign_id=campaign_id, unit_id=stp.id, now=NOW)
    async with db.sessionmaker() as s:
        rows = [(u.code, r.id if r else None) for u, r in await q.reports_by_unit(s, campaign_id)]
        all_units = [u.code for u in await q.list_units(s, active_only=False)]
    assert [("SNV", None), ("STP", report.id)] == rows
    assert ["SNV", "STP", "STC"] == all_units


async def test_conversation__cursor_saved__reloads_equal(db: Database) -> None:
    _, campaign_id = await _unit_and_campaign(db)
    contact_id = await _contact(db, "u1")
    later = NOW + timedelta(minutes=5)
    async with db.transaction() as s:
        conversation = await q.get_or_create_conversation(s, contact_id=contact_id, campaign_id=campaign_id, now=NOW)
        assert {} == conversation.cursor
        await q.save_cursor(s, conversation, {"path": ["reporter", "name"], "repeat": {"main_staff": 2}}, now=NOW)
    async with db.transaction() as s:
        conversation = await q.get_or_create_conversation(
            s, contact_id=contact_id, campaign_id=campaign_id, now=later, for_update=True
        )
        conversation.cursor["path"] = ["reporter", "phone"]  # mutated in place: must still be saved
        await q.save_cursor(s, conversation, conversation.cursor, now=later)
    async with db.sessionmaker() as s:
        conversation = await q.get_or_create_conversation(s, contact_id=contact_id, campaign_id=campaign_id, now=NOW)
    assert ({"path": ["reporter", "phone"], "repeat": {"main_staff": 2}}, later) == (
        conversation.cursor, conversation.updated_at
    )


async def test_claim_event__claimed_twice__second_false_other_channel_true_time_kept(db: Database) -> None:
    async with db.transaction() as s:
        first = await q.claim_event(s, "zalo", "e1", at=NOW)
    async with db.transaction() as s:
        again = await q.claim_event(s, "zalo", "e1", at=NOW + timedelta(minutes=5))
        other = await q.claim_event(s, "telegram", "e1", at=NOW)
    async with db.sessionmaker() as s:
        stored = (await s.get(ProcessedEvent, ("zalo", "e1"))).processed_at
    assert (True, False, True) == (first, again, other)
    assert NOW == stored


async def test_add_photo__stored__read_back(db: Database) -> None:
    contact_id = await _contact(db, "u1")
    async with db.transaction() as s:
        photo = await q.add_photo(
            s, report_id=None, contact_id=contact_id, sha256="ab" * 32, original_path="photos/orig/1.jpg",
            processed_path="photos/1.jpg", width=600, height=800, at=NOW,
        )
    async with db.sessionmaker() as s:
        loaded = await q.get_photo(s, photo.id)
        missing = await q.get_photo(s, photo.id + 1)
    assert (contact_id, "ab" * 32, 600, 800, NOW, None) == (
        loaded.contact_id, loaded.sha256, loaded.width, loaded.height, loaded.created_at, missing
    )


async def test_add_audit__any_json__stored(db: Database) -> None:
    async with db.transaction() as s:
        await q.add_audit(s, at=NOW, action="invite.create", new={"code": "K7QM2PXW", "unit": "Sở Nội vụ"})
    async with db.sessionmaker() as s:
        row = await s.scalar(sa.select(AuditLog))
    assert ("invite.create", None, {"code": "K7QM2PXW", "unit": "Sở Nội vụ"}) == (row.action, row.old, row.new)


# --- invites -----------------------------------------------------------------------------------


async def test_create_invite__code__eight_chars_from_alphabet(db: Database) -> None:
    unit_id, _ = await _unit_and_campaign(db)
    async with db.transaction() as s:
        codes = [
            (await q.create_invite(s, unit_id=unit_id, role="unit", expires_at=NOW, max_uses=3, now=NOW)).code
            for _ in range(20)
        ]
    assert [8] * 20 == [len(c) for c in codes]
    assert set() == set("".join(codes)) - set(q.INVITE_ALPHABET)
    assert set() == set(q.INVITE_ALPHABET) & set("0O1IL")


async def test_create_invite__code_collision__retries(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    codes = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB"])
    monkeypatch.setattr(q, "_random_invite_code", lambda: next(codes))
    async with db.transaction() as s:
        first = await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW, max_uses=1, now=NOW)
        second = await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW, max_uses=1, now=NOW)
    assert ("AAAAAAAA", "BBBBBBBB") == (first.code, second.code)


async def test_find_invite__typed_lowercase_with_dash__finds_code(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(q, "_random_invite_code", lambda: "K7QM2PXW")
    async with db.transaction() as s:
        invite = await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW, max_uses=1, now=NOW)
    async with db.sessionmaker() as s:
        found = await q.find_invite(s, "k7qm-2pxw")
        missing = await q.find_invite(s, "K7QM2PXX")
    assert (invite.id, None) == (found.id if found else None, missing)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("k7qm-2pxw", "K7QM2PXW"), (" K7QM 2PXW ", "K7QM2PXW"), ("k7qm–2pxw", "K7QM2PXW"), ("K7QM2PXW", "K7QM2PXW")],
)
def test_normalize_invite_code__typed_variants__canonical(raw: str, expected: str) -> None:
    assert expected == q.normalize_invite_code(raw)


async def test_revoke_invite__revoked_once__true_then_false(db: Database) -> None:
    async with db.transaction() as s:
        invite = await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW, max_uses=1, now=NOW)
    async with db.transaction() as s:
        results = [
            await q.revoke_invite(s, invite.code.lower(), now=NOW),
            await q.revoke_invite(s, invite.code, now=NOW),
            await q.revoke_invite(s, "NOSUCHCD", now=NOW),
        ]
    async with db.sessionmaker() as s:
        invites = [(i.code, i.revoked_at) for i in await q.list_invites(s)]
    assert ([True, False, False], [(invite.code, NOW)]) == (results, invites)


async def test_create_invite__unit_role_without_unit__value_error(db: Database) -> None:
    with pytest.raises(ValueError, match="unit_id"):
        async with db.transaction() as s:
            await q.create_invite(s, unit_id=None, role="unit", expires_at=NOW, max_uses=1, now=NOW)


# --- units -------------------------------------------------------------------------------------


async def test_upsert_units__sample_then_renamed__created_then_updated(db: Database) -> None:
    rows = read_sample_units().rows
    async with db.transaction() as s:
        first = await q.upsert_units(s, rows, now=NOW)
    async with db.transaction() as s:
        again = await q.upsert_units(s, rows, now=NOW)
        renamed = await q.upsert_units(s, [("snv", "Sở Nội vụ tỉnh"), ("NEW", "Đơn vị mới")], now=NOW)
    async with db.sessionmaker() as s:
        units = await q.list_units(s)
        snv = await q.get_unit_by_code(s, " Snv ")
        missing = await q.get_unit_by_code(s, "NOPE")
    assert ((25, 0), (0, 0), (1, 1)) == (first, again, renamed)
    assert (26, "SNV", "NEW") == (len(units), units[0].code, units[-1].code)
    assert ("Sở Nội vụ tỉnh", None) == (snv.name, missing)


# --- PostgreSQL over TLS (sslmode), file modes of the SQLite database ------------------------------------


def _postgres_url_with(query: str) -> str:
    import os

    url = os.environ.get("HCC_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HCC_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    return f"{url}{'&' if '?' in url else '?'}{query}"


@pytest.mark.parametrize("query", ["sslmode=disable", "sslmode=prefer", "sslmode=allow", "ssl=false"])
async def test_open_database__postgres_sslmode_without_tls_needed__connects(query: str) -> None:
    """libpq's sslmode in the URL, which asyncpg does not take as it comes, is translated; no TypeError."""
    import secrets

    from tests.conftest import _drop_schema

    url, schema = _postgres_url_with(query), f"t_{secrets.token_hex(6)}"
    try:
        database = await open_database(url, schema=schema)
        try:
            async with database.transaction() as s:
                assert 1 == await s.scalar(sa.text("SELECT 1"))
        finally:
            await database.dispose()
    finally:
        await _drop_schema(_postgres_url_with(""), schema)


@pytest.mark.parametrize("query", ["sslmode=require", "sslmode=verify-full&sslrootcert={cert}", "ssl=true"])
async def test_open_database__tls_required_server_without_tls__one_line_why(query: str) -> None:
    """The test server has no TLS: a URL that requires it fails at once with the server's refusal, on one line."""
    import ssl

    cert = ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().openssl_cafile
    if "{cert}" in query and not Path(cert).is_file():
        pytest.skip("no CA bundle on this machine")
    url = _postgres_url_with(query.format(cert=cert))
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_database(url)
    message = str(caught.value)
    assert message.startswith("cannot reach the database at postgresql+asyncpg://")
    assert message.endswith('rejected SSL upgrade') and "\n" not in message


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("sslmode=required", "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, "
                             "got 'required'"),
        ("ssl=yes", "ssl must be true, false or one of disable, allow, prefer, require, verify-ca, verify-full, "
                    "got 'yes'"),
        ("sslmode=disable&ssl=true", "sslmode=disable and ssl=true disagree: give only sslmode"),
        ("sslmode=require&sslrootcert=/nonexistent/ca.pem",
         "sslrootcert: /nonexistent/ca.pem is not a file; expected the server's CA certificate (PEM)"),
    ],
)
def test_normalize_url__bad_tls_setting__one_line_value_error(query: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_url(f"postgresql://u:secret@db/hcc?{query}")
    assert problem == str(caught.value)


def test_normalize_url__port_not_a_number__one_line_without_the_password() -> None:
    with pytest.raises(ValueError) as caught:
        normalize_url("postgresql://u:secret@db:54x2/hcc")
    assert "cannot read the URL; expected postgresql://user:password@host:5432/database" == str(caught.value)


async def test_open_database__sqlite_under_umask_022__file_and_its_wal_0600_new_folder_0700(tmp_path: Path) -> None:
    import os
    import stat

    previous = os.umask(0o022)
    try:
        database = await open_database(f"sqlite:///{tmp_path / 'data' / 'hcc.db'}")
        try:
            async with database.transaction() as s:
                await q.upsert_units(s, [("SNV", "Sở Nội vụ")], now=NOW)
            modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in (tmp_path / "data").iterdir()}
        finally:
            await database.dispose()
    finally:
        os.umask(previous)
    assert {"hcc.db": "0o600", "hcc.db-wal": "0o600", "hcc.db-shm": "0o600"} == modes
    assert "0o700" == oct(stat.S_IMODE((tmp_path / "data").stat().st_mode))


async def test_write_lock__first_transaction__goes_before_those_waiting_and_a_cancelled_waiter_passes_it_on() -> None:
    """An inbox write (someone waits for its 200) is not queued behind every event being handled."""
    from storage.db import WriteLock

    lock, order = WriteLock(), []
    release = asyncio.Event()

    async def writer(name: str, first: bool = False) -> None:
        async with lock.hold(first):
            order.append(name)
            if name == "holder":
                await release.wait()

    holder = asyncio.create_task(writer("holder"))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(writer(f"event{n}")) for n in range(3)]
    cancelled = asyncio.create_task(writer("gone"))
    await asyncio.sleep(0)
    inbox = asyncio.create_task(writer("inbox", first=True))
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await asyncio.gather(holder, inbox, *waiting, cancelled, return_exceptions=True)
    assert ["holder", "inbox", "event0", "event1", "event2"] == order
    async with lock.hold():  # free again
        pass
