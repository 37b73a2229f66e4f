"""Forms that say more, through the service and the channels: a catastrophic regex constraint answered by one
contact while another keeps answering, the contact recorded by meta questions, and Telegram's location share
answering a geopoint question (the real python-telegram-bot against the fake Bot API on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.bootstrap import ensure_units_and_campaign
from bot.channels.telegram import TelegramChannel
from bot.service import Inbound, Service
from bot.settings import Settings
from conversations import texts
from conversations.form import load_form
from storage import queries as q
from storage.db import Database
from tests.fake_telegram import FakeTelegram

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

NOW = datetime(2027, 3, 2, 2, 0, tzinfo=timezone.utc)
DEADLINE = datetime(2027, 3, 20, 9, 30, tzinfo=timezone.utc)
FORM_YAML = """\
id: ma_so_2027
title: Mã số và vị trí
sections:
  - key: unit
    title: I. Đơn vị
    questions:
      - {key: channel, label: Kênh, type: meta, meta: deviceid}
      - {key: who, label: Người nhập, type: meta, meta: username}
      - key: code
        label: Mã nội bộ
        prompt: "Mã nội bộ (chỉ chữ a)?"
        type: text
        constraint: "regex(., '^(a+)+$') and regex(., '^(a|aa)+$')"
        constraint_message: "Mã chỉ gồm chữ a, ví dụ: aaa."
      - {key: staff, label: Số cán bộ, prompt: "Số cán bộ?", type: integer}
      - {key: place, label: Vị trí trụ sở, prompt: "Vị trí trụ sở?", type: geopoint}
"""
_ids = itertools.count(1)


@pytest.fixture
def form(tmp_path):
    path = tmp_path / "form.yaml"
    path.write_text(FORM_YAML, encoding="utf-8")
    return load_form(path)


async def setup(db: Database, form) -> None:
    await ensure_units_and_campaign(db, form, NOW)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = DEADLINE


async def invite(db: Database, unit: str) -> str:
    async with db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id
        return (await q.create_invite(s, unit_id=unit_id, role="unit", expires_at=NOW + timedelta(days=7),
                                      max_uses=3, now=NOW)).code


async def answers_of(db: Database, unit: str) -> dict:
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        unit_row = await q.get_unit_by_code(s, unit)
        report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit_row.id, now=NOW)
        return await q.load_answers(s, report.id)


async def say(service: Service, user: str, text: str, name: str = "Lan") -> str:
    inbound = Inbound(channel="zalo", user_id=user, chat_id=user, event_id=f"e{next(_ids)}", text=text,
                      display_name=name)
    replies = await service.handle(inbound)
    service.sent(inbound)
    return "\n".join(r.text for r in replies)


async def test_regex_constraint__catastrophic_pattern_in_the_chat__refused_in_time_while_another_contact_answers(
        db, form, tmp_path):
    await setup(db, form)
    service = Service(db, form, tmp_path / "photos", lambda: NOW)
    await say(service, "a", f"/start {await invite(db, 'STP')}", "Lan")
    await say(service, "b", f"/start {await invite(db, 'SYT')}", "Minh")
    await say(service, "b", "aaa")
    started = time.perf_counter()
    bad, other = await asyncio.gather(say(service, "a", "a" * 299 + "!"), say(service, "b", "12"))
    elapsed = time.perf_counter() - started
    assert "Mã chỉ gồm chữ a, ví dụ: aaa." in bad and "Mã nội bộ (chỉ chữ a)?" in bad
    assert "Vị trí trụ sở?" in other
    assert elapsed < 3.0, elapsed  # the second pattern hits the time limit (0.2 s, checked by regex every ~0.2 s)
    assert "unit.code" not in await answers_of(db, "STP")
    other_answers = await answers_of(db, "SYT")
    assert ("aaa", 12) == (other_answers["unit.code"], other_answers["unit.staff"])
    assert "Số cán bộ?" in await say(service, "a", "aaaa")


async def test_meta__answers_from_a_contact__channel_and_name_recorded(db, form, tmp_path):
    await setup(db, form)
    service = Service(db, form, tmp_path / "photos", lambda: NOW)
    await say(service, "a", f"/start {await invite(db, 'STP')}", "Phạm Thị Lan")
    await say(service, "a", "aaa", "Phạm Thị Lan")
    answers = await answers_of(db, "STP")
    assert ("zalo", "Phạm Thị Lan") == (answers["unit.channel"], answers["unit.who"])


async def test_geopoint__coordinates_typed_on_zalo__stored_as_lat_lon(db, form, tmp_path):
    await setup(db, form)
    service = Service(db, form, tmp_path / "photos", lambda: NOW)
    await say(service, "a", f"/start {await invite(db, 'STP')}")
    await say(service, "a", "aaa")
    await say(service, "a", "12")
    refused = await say(service, "a", "ở gần chợ")
    assert texts.GEOPOINT_INVALID in refused
    await say(service, "a", "https://maps.google.com/?q=10.9468,106.8242")
    assert {"lat": 10.9468, "lon": 106.8242} == (await answers_of(db, "STP"))["unit.place"]


async def test_geopoint__telegram_location_shared__stored_as_lat_lon(sqlite_db, form, tmp_path):
    await setup(sqlite_db, form)
    fake = FakeTelegram()
    await fake.start()
    try:
        settings = Settings(database_url="sqlite://", data_dir=tmp_path, form_path=tmp_path / "form.yaml",
                            telegram_token=fake.token, telegram_api_url=fake.url)
        channel = TelegramChannel(settings, Service(sqlite_db, form, tmp_path / "photos", lambda: NOW),
                                  send_interval=0.0, retry_base=0.01)
        await channel.start()
        try:
            user = 4242

            async def send(action) -> str:
                before = len(fake.sent(user))
                await action
                await fake.wait_until(lambda: len(fake.sent(user)) > before)
                return fake.sent(user)[-1]["text"]

            await send(fake.text(user, f"/start {await invite(sqlite_db, 'STP')}"))
            await send(fake.text(user, "aaa"))
            assert "Vị trí trụ sở?" in await send(fake.text(user, "12"))
            update = fake.message(user, location={"latitude": 10.9468, "longitude": 106.8242})
            said = await send(fake.deliver(update))
        finally:
            await channel.stop()
    finally:
        await fake.stop()
    assert {"lat": 10.9468, "lon": 106.8242} == (await answers_of(sqlite_db, "STP"))["unit.place"]
    assert texts.GEOPOINT_INVALID not in said
