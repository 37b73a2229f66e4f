"""Telegram's Web App entry to the report's page: initData signed with the bot token (Telegram's documented HMAC)
opens the page for that Telegram contact; a forged, stale or other bot's initData opens nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from bot.channels.telegram_send import keyboard
from bot.webform.telegram_app import telegram_user
from conversations.engine import Option
from tests.fake_telegram import FakeTelegram
from tests.webform_support import client, running_bot

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)


def signed(token: str, user_id: int, at: datetime, **extra) -> str:
    """initData as a Telegram client sends it, signed as core.telegram.org/bots/webapps documents."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": json.dumps({"id": user_id, "first_name": "Lan"}),
              "auth_date": str(int(at.timestamp())), **extra}
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return urlencode({**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()})


def test_telegram_user__signed_by_this_bot__its_user_else_none():
    token = "123456:ABC"
    assert "42" == telegram_user(signed(token, 42, NOW), token, NOW)
    assert telegram_user(signed("999:other-bot", 42, NOW), token, NOW) is None
    assert telegram_user(signed(token, 42, NOW - timedelta(hours=25)), token, NOW) is None
    forged = signed(token, 42, NOW).replace("%22id%22%3A+42", "%22id%22%3A+43")
    assert "%22id%22%3A+43" in forged and telegram_user(forged, token, NOW) is None
    assert telegram_user("", token, NOW) is None and telegram_user("hash=00", token, NOW) is None


def test_keyboard__https_option__web_app_button():
    markup = keyboard((Option("https://hcc.example.vn/web/telegram", "Mở trang điền báo cáo"), Option("yes", "Có")))
    web_app, plain = markup.inline_keyboard[0][0], markup.inline_keyboard[1][0]
    assert ("https://hcc.example.vn/web/telegram", None, "yes") == (web_app.web_app.url, web_app.callback_data,
                                                                    plain.callback_data)


async def test_webform_telegram__bound_contacts_init_data__page_opens_forged_refused(tmp_path):
    telegram = FakeTelegram()
    await telegram.start()
    try:
        async with running_bot(tmp_path, telegram=telegram) as bot:
            before = len(telegram.sent(42))
            await telegram.text(42, f"/start {bot.codes['STP']}")
            await telegram.wait_until(lambda: len(telegram.sent(42)) > before, timeout=20)
            now = bot.clock[0]
            async with client() as session:
                async with session.post(f"{bot.base}/web/telegram",
                                        data={"init_data": signed(telegram.token, 42, now)}) as response:
                    assert (200, {"go": "/web/bao-cao"}) == (response.status, await response.json())
                async with session.get(f"{bot.base}/web/bao-cao") as response:
                    assert 200 == response.status and "Sở Tư pháp" in await response.text()
            async with client() as session:
                for data in (signed("1:other", 42, now), signed(telegram.token, 77, now)):  # other bot; a stranger
                    async with session.post(f"{bot.base}/web/telegram", data={"init_data": data}) as response:
                        assert 401 == response.status
                async with session.get(f"{bot.base}/web/bao-cao") as response:
                    assert 401 == response.status
    finally:
        await telegram.stop()
