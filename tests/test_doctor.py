"""`hcc-bot doctor` against the fake platforms: each check seen green and seen red, with what to do."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiohttp import web

from bot.doctor import hold_run_lock, run_checks
from bot.settings import load_settings
from bot.web import HEALTH_CHECKS, build_app
from conversations import texts
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.test_backup import cli, seed
from tests.test_run import free_port


def self_signed(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `host` and its key, made by openssl as an IT person would for a test."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}"],
                   check=True, capture_output=True)
    return cert, key


class ZaloWithWebhookInfo(FakeZalo):
    """The fake Zalo plus getWebhookInfo as /work/shared/reference/zalo-bot-api.md gives it (404 when none)."""

    none_as_http_200 = False  # the reference says HTTP 404; like its other errors, it may come as 200 ok:false

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "getWebhookInfo" and request.match_info["token"] == self.token:
            if not self.webhook_url:
                return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                         status=200 if self.none_as_http_200 else 404)
            return web.json_response({"ok": True, "result": {"url": self.webhook_url, "updated_at": 1}})
        return await super()._api(request)


class TelegramWithWebhookInfo(FakeTelegram):
    """The fake Telegram plus getWebhookInfo (url "" when none, the last delivery error if any)."""

    last_error: tuple[int, str] | None = None

    async def _m_getWebhookInfo(self, p: dict) -> dict:
        info = {"url": self.webhook_url or "", "has_custom_certificate": False, "pending_update_count": 0}
        if self.last_error:
            info["last_error_date"], info["last_error_message"] = self.last_error
        return info


@pytest.fixture
async def platforms():
    zalo, telegram = await ZaloWithWebhookInfo().start(), TelegramWithWebhookInfo()
    await telegram.start()
    yield zalo, telegram
    await zalo.stop()
    await telegram.stop()


async def serve_https(app: web.Application, folder: Path) -> tuple[web.AppRunner, str, Path]:
    """`app` over TLS with a self-signed certificate on 127.0.0.1: its runner, address and certificate."""
    cert, key = self_signed(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    return runner, f"https://127.0.0.1:{port}", cert


@pytest.fixture
async def https_bot(tmp_path):
    """The bot's own web app (/healthz) behind TLS with a self-signed certificate on 127.0.0.1."""
    runner, url, cert = await serve_https(build_app(), tmp_path)
    yield url, ssl.create_default_context(cafile=str(cert))
    await runner.cleanup()


async def installed(tmp_path: Path, zalo: FakeZalo, telegram: FakeTelegram, public: str | None) -> dict[str, str]:
    """A seeded installation whose settings point at the fakes."""
    env = {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_ZALO_BOT_TOKEN": zalo.token, "HCC_ZALO_API_URL": zalo.url,
           "HCC_TELEGRAM_TOKEN": telegram.token, "HCC_TELEGRAM_API_URL": telegram.url}
    if public:
        env["HCC_PUBLIC_URL"] = public
    await asyncio.to_thread(seed, env, tmp_path)
    return env


def by_name(checks) -> dict:
    return {c.name: c for c in checks}


async def test_doctor__everything_right__every_line_green_but_what_this_machine_lacks(tmp_path, platforms, https_bot):
    zalo, telegram = platforms
    public, trust = https_bot
    env = await installed(tmp_path, zalo, telegram, public)
    zalo.webhook_url, telegram.webhook_url = f"{public}/zalo/webhook", f"{public}/telegram/webhook"
    lock = hold_run_lock(load_settings(env, env_file=None))  # as `hcc-bot run` holds it
    try:
        checks = await run_checks(env, env_file=None, ssl_context=trust)
    finally:
        os.close(lock)
    names = ["settings", "database", "data_dir", "disk", "libreoffice", "telegram_token", "telegram_webhook",
             "zalo_token", "zalo_webhook", "public_url", "clock", "run"]
    assert names == [c.name for c in checks]
    green = {c.name for c in checks if c.ok}
    expected = set(names) - (set() if shutil.which("soffice") or shutil.which("libreoffice") else {"libreoffice"})
    assert expected == green
    found = by_name(checks)
    assert texts.DOCTOR_WEBHOOK_OK.format(channel="Zalo", url=f"{public}/zalo/webhook") == found["zalo_webhook"].message
    assert texts.DOCTOR_PUBLIC_OK.format(url=f"{public}/healthz") == found["public_url"].message
    assert found["run"].message == texts.DOCTOR_RUN_ONE.format(pid=os.getpid(), folder=tmp_path / "data")
    assert found["settings"].line().startswith("✓ ")


async def test_doctor__wrong_setting__one_red_line_naming_it_and_exit_status_1(tmp_path):
    done = await asyncio.to_thread(cli, {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_LISTEN": "localhost"},
                                   "doctor", cwd=tmp_path)
    assert 1 == done.returncode
    problem = "HCC_LISTEN: cần dạng máy:cổng, ví dụ 127.0.0.1:8080, đang là “localhost”"
    assert [f"✗ {texts.DOCTOR_SETTINGS_BAD.format(problem=problem)} → {texts.DOCTOR_SETTINGS_FIX}"] == \
        done.stdout.strip().splitlines()


async def test_doctor__http_public_url__red_platforms_need_https(tmp_path):
    checks = await run_checks({"HCC_DATA_DIR": str(tmp_path), "HCC_PUBLIC_URL": "http://bot.example.gov.vn"},
                              env_file=None)
    assert [(False, True)] == [(c.ok, "HCC_PUBLIC_URL" in c.message and "https://" in c.message) for c in checks]
    # http on this machine is a setting for trials: start-up takes it, the doctor still says it is not production.
    checks = await run_checks({"HCC_DATA_DIR": str(tmp_path), "HCC_PUBLIC_URL": "http://127.0.0.1:8080"},
                              env_file=None)
    assert [(False, texts.DOCTOR_PUBLIC_HTTP.format(url="http://127.0.0.1:8080"))] == \
        [(c.ok, c.message) for c in checks]


async def test_doctor__json__red_checks_with_what_to_do_and_exit_status_1(tmp_path, platforms):
    zalo, telegram = platforms
    env = {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_ZALO_BOT_TOKEN": "1:wrong", "HCC_ZALO_API_URL": zalo.url}
    done = await asyncio.to_thread(cli, env, "doctor", "--json", cwd=tmp_path)
    assert 1 == done.returncode
    report = json.loads(done.stdout)
    found = {c["name"]: c for c in report["checks"]}
    assert False is report["ok"]
    assert {"ok": False, "message": texts.DOCTOR_DB_MISSING, "fix": texts.DOCTOR_DB_MISSING_FIX, "name": "database"} \
        == found["database"]
    assert texts.DOCTOR_TOKEN_REFUSED.format(channel="Zalo", status=200) == found["zalo_token"]["message"]
    assert texts.DOCTOR_TOKEN_FIX.format(setting="HCC_ZALO_BOT_TOKEN") == found["zalo_token"]["fix"]
    assert "1:wrong" not in done.stdout + done.stderr
    assert found["run"]["ok"] is False


@pytest.mark.parametrize("none_as_http_200", [False, True], ids=["404", "200-ok-false"])
async def test_doctor__webhooks_not_as_registered__red_with_both_addresses(tmp_path, platforms, https_bot,
                                                                        none_as_http_200):
    zalo, telegram = platforms
    zalo.none_as_http_200 = none_as_http_200
    public, trust = https_bot
    env = await installed(tmp_path, zalo, telegram, public)
    telegram.webhook_url = "https://old.example.gov.vn/telegram/webhook"  # Zalo: none set (404)
    found = by_name(await run_checks(env, env_file=None, ssl_context=trust))
    assert (False, texts.DOCTOR_WEBHOOK_WRONG.format(channel="Telegram",
                                                     actual="https://old.example.gov.vn/telegram/webhook",
                                                     expected=f"{public}/telegram/webhook")) == \
        (found["telegram_webhook"].ok, found["telegram_webhook"].message)
    assert (False, texts.DOCTOR_WEBHOOK_WRONG.format(channel="Zalo", actual=texts.DOCTOR_WEBHOOK_NONE,
                                                     expected=f"{public}/zalo/webhook")) == \
        (found["zalo_webhook"].ok, found["zalo_webhook"].message)
    assert texts.DOCTOR_WEBHOOK_FIX == found["zalo_webhook"].fix


async def test_doctor__recent_delivery_error__red_with_the_platforms_words(tmp_path, platforms, https_bot):
    zalo, telegram = platforms
    public, trust = https_bot
    env = await installed(tmp_path, zalo, telegram, public)
    telegram.webhook_url = f"{public}/telegram/webhook"
    telegram.last_error = (int(datetime.now(timezone.utc).timestamp()) - 60, "SSL error {certificate verify failed}")
    found = by_name(await run_checks(env, env_file=None, ssl_context=trust))
    assert (False, texts.DOCTOR_WEBHOOK_ERROR.format(channel="Telegram", error="SSL error {certificate verify failed}")) \
        == (found["telegram_webhook"].ok, found["telegram_webhook"].message)


async def test_doctor__public_url_untrusted_or_down__red(tmp_path, platforms, https_bot):
    zalo, telegram = platforms
    public, _ = https_bot
    env = await installed(tmp_path, zalo, telegram, public)
    found = by_name(await run_checks(env, env_file=None))  # the self-signed certificate is not trusted
    assert (False, texts.DOCTOR_PUBLIC_TLS_FIX) == (found["public_url"].ok, found["public_url"].fix)
    env["HCC_PUBLIC_URL"] = f"https://127.0.0.1:{free_port()}"  # nothing listens there
    found = by_name(await run_checks(env, env_file=None))
    assert (False, texts.DOCTOR_PUBLIC_DOWN_FIX) == (found["public_url"].ok, found["public_url"].fix)
    assert found["public_url"].message.startswith(f"Không tới được {env['HCC_PUBLIC_URL']}/healthz")


async def test_doctor__clock_ten_minutes_fast__red_with_ntp_advice(tmp_path, platforms):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    found = by_name(await run_checks(env, env_file=None,
                                     clock=lambda: datetime.now(timezone.utc) + timedelta(minutes=10)))
    assert (False, texts.DOCTOR_CLOCK_FIX) == (found["clock"].ok, found["clock"].fix)
    seconds = int(re.search(r"lệch (-?\d+) giây", found["clock"].message).group(1))
    assert 599 <= seconds <= 601  # the platform's Date header counts whole seconds
    found = by_name(await run_checks(env, env_file=None))
    assert found["clock"].ok


async def test_doctor__data_folder_readable_by_others_and_disk_nearly_full__red(tmp_path, platforms):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    (tmp_path / "data").chmod(0o755)
    found = by_name(await run_checks(env, env_file=None, min_free=1 << 60))
    assert (False, texts.DOCTOR_DATA_MODES_FIX.format(path=tmp_path / "data")) == \
        (found["data_dir"].ok, found["data_dir"].fix)
    assert (False, "Chỉ còn") == (found["disk"].ok, found["disk"].message[:7])
    (tmp_path / "data").chmod(0o700)
    found = by_name(await run_checks(env, env_file=None))
    assert found["data_dir"].ok and found["disk"].ok


async def test_doctor__database_behind_the_code_or_unreachable__red(tmp_path, platforms):
    import sqlite3

    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    with sqlite3.connect(tmp_path / "data" / "hcc.db") as conn:
        head = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    found = by_name(await run_checks(env, env_file=None))
    assert (False, texts.DOCTOR_DB_OLD.format(current="0001", head=head)) == \
        (found["database"].ok, found["database"].message)
    env["HCC_DATABASE_URL"] = f"postgresql://nobody@127.0.0.1:{free_port()}/hcc"
    found = by_name(await run_checks(env, env_file=None))
    assert (False, texts.DOCTOR_DB_UNREACHABLE_FIX) == (found["database"].ok, found["database"].fix)
    assert found["run"].ok  # PostgreSQL: several runs are allowed


async def test_doctor__no_libreoffice_on_path__red_then_green_when_installed(tmp_path, platforms, monkeypatch):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    found = by_name(await run_checks(env, env_file=None))
    assert (False, texts.DOCTOR_SOFFICE_MISSING) == (found["libreoffice"].ok, found["libreoffice"].message)
    program = tmp_path / "bin" / "soffice"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    found = by_name(await run_checks(env, env_file=None))
    assert (True, texts.DOCTOR_SOFFICE_OK.format(path=program)) == (found["libreoffice"].ok, found["libreoffice"].message)


async def test_run__second_run_on_the_same_sqlite_folder__refused_in_one_line(tmp_path, platforms):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    lock = hold_run_lock(load_settings(env, env_file=None))
    try:
        done = await asyncio.to_thread(cli, {**env, "HCC_LISTEN": f"127.0.0.1:{free_port()}"}, "run", cwd=tmp_path)
    finally:
        os.close(lock)
    assert 2 == done.returncode
    expected = texts.CLI_CONFIG_ERROR.format(problem=texts.RUN_ALREADY.format(pid=os.getpid(), folder=tmp_path / "data"))
    assert [expected] == done.stderr.strip().splitlines()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
async def test_doctor__file_of_another_user_in_the_data_folder__red_with_chown(tmp_path, platforms):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    stray = tmp_path / "data" / "hcc.db"
    os.chown(stray, 65534, 65534)
    found = by_name(await run_checks(env, env_file=None))
    assert (False, texts.DOCTOR_DATA_OWNER.format(path=stray, count=1)) == (found["data_dir"].ok,
                                                                           found["data_dir"].message)
    assert texts.DOCTOR_DATA_OWNER_FIX.format(path=tmp_path / "data", uid=0) == found["data_dir"].fix


async def test_doctor__no_channel_token__red_asking_for_one(tmp_path):
    found = by_name(await run_checks({"HCC_DATA_DIR": str(tmp_path)}, env_file=None))
    assert (False, texts.DOCTOR_NO_CHANNEL, texts.DOCTOR_NO_CHANNEL_FIX) == \
        (found["channels"].ok, found["channels"].message, found["channels"].fix)
    assert "telegram_token" not in found and "zalo_token" not in found


# --- red lines as the IT person sees them: `hcc-bot doctor` run from a shell, exit status 1 --------------------


def doctor(env: dict[str, str], cwd: Path, prelude: str = "") -> tuple[int, list[str]]:
    """`hcc-bot doctor` in a new process (after `prelude`, Python that breaks something of this machine): its exit
    status and the lines it prints. Never a traceback."""
    program = f"{prelude}\nimport sys\nfrom bot.cli import main\nsys.exit(main(['doctor']))\n"
    done = subprocess.run([sys.executable, "-c", program], cwd=cwd, capture_output=True, text=True, timeout=180,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1", **env})
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.splitlines()


def red(message: str, fix: str) -> str:
    return f"✗ {message} → {fix}"


async def test_doctor__telegram_token_refused__red_line_asking_to_paste_it_again(tmp_path, platforms):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    env["HCC_TELEGRAM_TOKEN"] = "123456:refused-by-telegram"
    code, lines = await asyncio.to_thread(doctor, env, tmp_path)
    assert 1 == code
    assert red(texts.DOCTOR_TOKEN_REFUSED.format(channel="Telegram", status=401),
               texts.DOCTOR_TOKEN_FIX.format(setting="HCC_TELEGRAM_TOKEN")) in lines
    assert not any("refused-by-telegram" in line for line in lines)
    assert any(line.startswith("✓ Zalo: token hợp lệ") for line in lines)  # the other channel is still checked


async def test_doctor__platform_api_unreachable__red_line_naming_the_address_and_the_network(tmp_path, platforms):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    env["HCC_TELEGRAM_API_URL"] = nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, lines = await asyncio.to_thread(doctor, env, tmp_path)
    assert 1 == code
    assert red(texts.DOCTOR_API_UNREACHABLE.format(channel="Telegram", url=nowhere, problem="ClientConnectorError"),
               texts.DOCTOR_API_UNREACHABLE_FIX) in lines


async def test_doctor__get_webhook_info_fails__red_line_to_try_again_later(tmp_path, platforms):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    telegram.fail("getWebhookInfo", status=500)
    code, lines = await asyncio.to_thread(doctor, env, tmp_path)
    assert 1 == code
    assert red(texts.DOCTOR_WEBHOOK_UNKNOWN.format(channel="Telegram", status=500),
               texts.DOCTOR_WEBHOOK_UNKNOWN_FIX) in lines
    assert any(line.startswith("✓ Telegram: token hợp lệ") for line in lines)


async def test_doctor__public_url_answering_but_not_the_bot__red_line_pointing_at_the_proxy(tmp_path, platforms):
    """The proxy's default page (a site left enabled, the wrong server_name), or the bot there but not ready."""
    zalo, telegram = platforms
    async def default_page(request: web.Request) -> web.Response:
        return web.Response(text="<h1>Welcome to nginx!</h1>", content_type="text/html")

    other = web.Application()
    other.router.add_get("/healthz", default_page)
    runner, public, cert = await serve_https(other, tmp_path)
    try:
        env = await installed(tmp_path, zalo, telegram, public)
        code, lines = await asyncio.to_thread(doctor, {**env, "SSL_CERT_FILE": str(cert)}, tmp_path)
    finally:
        await runner.cleanup()
    assert 1 == code
    assert red(texts.DOCTOR_PUBLIC_NOT_BOT.format(url=f"{public}/healthz", status=200),
               texts.DOCTOR_PUBLIC_NOT_BOT_FIX) in lines

    # The bot itself, answering that its Zalo channel is not taking updates yet.
    waiting = build_app()
    waiting[HEALTH_CHECKS]["zalo"] = lambda: False
    (tmp_path / "waiting").mkdir()
    runner, public, cert = await serve_https(waiting, tmp_path / "waiting")
    try:
        found = by_name(await run_checks({**env, "HCC_PUBLIC_URL": public}, env_file=None,
                                         ssl_context=ssl.create_default_context(cafile=str(cert))))
    finally:
        await runner.cleanup()
    assert red(texts.DOCTOR_PUBLIC_NOT_READY.format(url=f"{public}/healthz", status=503, parts="Zalo"),
               texts.DOCTOR_PUBLIC_NOT_READY_FIX) == found["public_url"].line()


async def test_doctor__data_folder_missing__red_line_naming_it(tmp_path, platforms):
    zalo, _ = platforms
    missing = tmp_path / "srv" / "hcc-data"
    env = {"HCC_DATA_DIR": str(missing), "HCC_ZALO_BOT_TOKEN": zalo.token, "HCC_ZALO_API_URL": zalo.url}
    code, lines = await asyncio.to_thread(doctor, env, tmp_path)
    assert 1 == code
    assert red(texts.DOCTOR_DATA_MISSING.format(path=missing), texts.DOCTOR_DATA_MISSING_FIX) in lines
    assert red(texts.DOCTOR_DB_MISSING, texts.DOCTOR_DB_MISSING_FIX) in lines
    assert not missing.exists()  # the doctor looks, it never creates


async def test_doctor__time_zone_data_missing__red_line_with_the_package_to_install(tmp_path, platforms):
    zalo, telegram = platforms
    env = await installed(tmp_path, zalo, telegram, None)
    no_zones = ("import zoneinfo, bot.doctor\n"
                "def missing(key):\n    raise zoneinfo.ZoneInfoNotFoundError(f'No time zone found with key {key}')\n"
                "bot.doctor.ZoneInfo = missing\n")
    code, lines = await asyncio.to_thread(doctor, env, tmp_path, no_zones)
    assert 1 == code
    assert red(texts.DOCTOR_TZ_MISSING, texts.DOCTOR_TZ_FIX) in lines
