"""A new installation as the provincial IT person meets it: empty until they import units and create a campaign,
settings mistakes as one Vietnamese line (exit 2), the command line's help and mistakes in Vietnamese, logging."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.console import setup_console
from bot.service import Inbound, Service
from bot.web import build_app, start_app
from bot.reminders.plan import example_deadline
from conversations import texts
from conversations.form import load_form
from storage import queries as q
from tests.test_cli import hcc
from tests.test_console import Clock, browser, free_port, sign_in, Console, text_of

FORM = load_form()
NOW = datetime(2027, 3, 20, 3, 0, tzinfo=timezone.utc)


def one_line(result: subprocess.CompletedProcess) -> str:
    """The single line on stderr of a command that exited with status 2."""
    assert 2 == result.returncode, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# --- an empty installation ----------------------------------------------------------------------


def test_fresh_installation__any_command__no_phantom_units_or_campaign_and_status_says_what_next(tmp_path):
    status = hcc(["status"], tmp_path)
    assert 0 == status.returncode, status.stderr
    assert [texts.SETUP_TITLE + ".", texts.SETUP_NEXT, f"  1. {texts.SETUP_STEP_UNITS}",
            f"  2. {texts.SETUP_STEP_CAMPAIGN.format(example=example_deadline())}", f"  3. {texts.SETUP_STEP_INVITE}"] == status.stdout.splitlines()
    assert texts.UNITS_NONE == one_line(hcc(["invite", "STP"], tmp_path))
    login = hcc(["web-login", "--json"], tmp_path)
    assert 0 == login.returncode and "/console/" in json.loads(login.stdout)["url"]
    assert texts.CLI_CAMPAIGN_NONE.format(example=example_deadline()) == one_line(hcc(["remind", "--preview"], tmp_path))
    assert texts.CLI_CAMPAIGN_NONE.format(example=example_deadline()) == one_line(hcc(["export", "--out", "out"], tmp_path))
    assert [] == json.loads(hcc(["units", "list", "--json"], tmp_path).stdout)
    assert [] == json.loads(hcc(["campaign", "list", "--json"], tmp_path).stdout)

    assert 0 == hcc(["units", "import", "--sample", "--yes"], tmp_path).returncode
    steps = json.loads(hcc(["status", "--json"], tmp_path).stdout)["next_steps"]
    assert [texts.SETUP_STEP_UNITS_DONE.format(count=25), texts.SETUP_STEP_CAMPAIGN.format(example=example_deadline()), texts.SETUP_STEP_INVITE] == steps
    created = hcc(["campaign", "create", "--title", "Báo cáo thành lập Trung tâm HCC", "--deadline",
                   "31/03/2099 16:30"], tmp_path)
    assert 0 == created.returncode, created.stderr
    campaigns = json.loads(hcc(["campaign", "list", "--json"], tmp_path).stdout)
    assert [(1, "Báo cáo thành lập Trung tâm HCC", 25)] == [(c["id"], c["title"], c["unit_count"]) for c in campaigns]


def test_campaign_deadline__in_the_past__refused_unless_forced(tmp_path):
    hcc(["units", "import", "--sample", "--yes"], tmp_path)
    hcc(["campaign", "create", "--title", "X", "--deadline", "31/03/2099 16:30"], tmp_path)
    assert texts.CLI_DEADLINE_PAST.format(deadline="16:30 ngày 28/03/2017") == \
        one_line(hcc(["campaign", "deadline", "28/03/2017 16:30"], tmp_path))
    assert "2099-03-31T16:30:00+07:00" == json.loads(hcc(["campaign", "show", "--json"], tmp_path).stdout)["deadline_at"]
    forced = hcc(["campaign", "deadline", "28/03/2017 16:30", "--force"], tmp_path)
    assert 0 == forced.returncode, forced.stderr
    assert "2017-03-28T16:30:00+07:00" == json.loads(hcc(["campaign", "show", "--json"], tmp_path).stdout)["deadline_at"]


async def test_chat__no_campaign_yet__officer_told_how_to_create_one_unit_contact_told_to_wait(sqlite_db, tmp_path):
    service = Service(sqlite_db, FORM, tmp_path / "photos", clock=lambda: NOW)
    async with sqlite_db.transaction() as s:
        await q.upsert_units(s, [("STP", "Sở Tư pháp")], now=NOW)
        unit = await q.get_unit_by_code(s, "STP")
        admin = await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW + timedelta(days=1), max_uses=1,
                                      now=NOW)
        member = await q.create_invite(s, unit_id=unit.id, role="unit", expires_at=NOW + timedelta(days=1),
                                       max_uses=1, now=NOW)

    async def say(user: str, text: str, n=iter(range(100))) -> str:
        replies = await service.handle(Inbound(channel="zalo", user_id=user, chat_id=user, event_id=f"e{next(n)}",
                                               text=text))
        return "\n".join(r.text for r in replies or [])

    await say("officer", admin.code)
    assert texts.ADMIN_NO_CAMPAIGN == await say("officer", "trạng thái")
    await say("lan", member.code)
    assert texts.NO_CAMPAIGN == await say("lan", "xin chào")
    await service.close()


async def test_console__no_campaign_yet__the_board_lists_what_to_do_next(sqlite_db, tmp_path):
    clock = Clock(NOW)
    service = Service(sqlite_db, FORM, tmp_path / "photos", clock, export_dir=tmp_path / "exports")
    app = build_app()
    setup_console(app, service, session_key=os.urandom(32), secure_cookie=False)
    port = free_port()
    runner = await start_app(app, "127.0.0.1", port)
    console = Console(f"http://127.0.0.1:{port}", service, clock, sqlite_db)
    try:
        async with browser() as session:
            await sign_in(session, console)
            async with session.get(f"{console.base}/console/") as page:
                assert 200 == page.status
                shown = text_of(await page.text())
            async with session.get(f"{console.base}/console/don-vi/STP") as page:  # a campaign page: the next steps
                assert (200, f"{console.base}/console/") == (page.status, str(page.url))
        assert f"{texts.SETUP_TITLE} {texts.SETUP_NEXT} {texts.SETUP_STEP_UNITS} {texts.SETUP_STEP_CAMPAIGN.format(example=example_deadline())} " \
               f"{texts.SETUP_STEP_INVITE}" in shown
    finally:
        await runner.cleanup()
        await service.close()


# --- settings mistakes: one line naming the setting, exit 2 --------------------------------------


def test_start__port_already_in_use__one_line_naming_hcc_listen(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = hcc(["run"], tmp_path, env={"HCC_LISTEN": f"127.0.0.1:{port}"})
    assert texts.CLI_CONFIG_ERROR.format(problem=texts.SET_LISTEN_IN_USE.format(host="127.0.0.1", port=port)) == \
        one_line(result)


def test_start__address_not_on_this_machine__one_line_naming_hcc_listen(tmp_path):
    result = hcc(["run"], tmp_path, env={"HCC_LISTEN": f"192.0.2.7:{free_port()}"})  # TEST-NET-1: never local
    assert texts.CLI_CONFIG_ERROR.format(problem=texts.SET_LISTEN_NOT_HERE.format(host="192.0.2.7")) == one_line(result)


@pytest.mark.parametrize(("env", "expected"), [
    ({"HCC_PUBLIC_URL": "http://bot.sonoivu.gov.vn"},
     texts.SET_PUBLIC_URL_HTTPS.format(value="http://bot.sonoivu.gov.vn")),
    ({"HCC_DATABASE_URL": "sqlite:////nonexistent-folder/hcc.db"},
     texts.SET_SQLITE_FOLDER.format(folder="/nonexistent-folder")),
    ({"HCC_LOG_LEVEL": "verbose"}, texts.SET_LOG_LEVEL.format(value="verbose")),
    ({"HCC_DATA_DIR": "/proc/hcc-bot/data"}, texts.SET_DATA_DIR_UNUSABLE.format(path="/proc/hcc-bot/data")),
    ({"HCC_LOG_FORMAT": "xml"}, texts.SET_LOG_FORMAT.format(value="xml")),
    # Scheme and host only: Caddy takes the same value as its site address, where "/" would match "/" alone.
    ({"HCC_PUBLIC_URL": "https://bot.sonoivu.gov.vn/"},
     texts.SET_PUBLIC_URL_PATH.format(value="https://bot.sonoivu.gov.vn/", fixed="https://bot.sonoivu.gov.vn")),
    ({"HCC_PUBLIC_URL": "https://sonoivu.gov.vn:8443/bot"},
     texts.SET_PUBLIC_URL_PATH.format(value="https://sonoivu.gov.vn:8443/bot", fixed="https://sonoivu.gov.vn:8443")),
    ({"HCC_FONT": "/usr/share/fonts/khong-co.ttf"},
     texts.SET_FONT_NOT_FILE.format(name="HCC_FONT", path="/usr/share/fonts/khong-co.ttf")),
])
def test_start__wrong_setting__one_vietnamese_line_naming_it(tmp_path, env, expected):
    assert texts.CLI_CONFIG_ERROR.format(problem=expected) == one_line(hcc(["status"], tmp_path, env=env))


def test_start__sqlite_file_in_the_data_folder_not_made_yet__accepted(tmp_path):
    data = tmp_path / "srv" / "hcc"
    result = hcc(["status"], tmp_path, env={"HCC_DATA_DIR": str(data), "HCC_DATABASE_URL": f"sqlite:///{data}/hcc.db"})
    assert (0, "") == (result.returncode, result.stderr)
    assert (data / "hcc.db").is_file()


def test_start__hcc_form_a_workbook_named_yaml__one_line_naming_hcc_form(tmp_path):
    form = tmp_path / "form.yaml"
    form.write_bytes((Path(__file__).parents[1] / "conversations" / "forms" / "report.xlsx").read_bytes())
    line = one_line(hcc(["status"], tmp_path, env={"HCC_FORM": str(form)}))
    assert line.startswith(texts.CLI_CONFIG_ERROR.format(problem=f"HCC_FORM: {form}"))


def test_start__hcc_form_not_yaml__one_line_naming_hcc_form_and_the_line(tmp_path):
    form = tmp_path / "form.yaml"
    form.write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    line = one_line(hcc(["status"], tmp_path, env={"HCC_FORM": str(form)}))
    assert texts.CLI_CONFIG_ERROR.format(problem=f"HCC_FORM: {form}: " + texts.FORM_ERR_YAML.format(
        line=3, column=1, problem="danh sách [ … ] chưa đóng: thiếu ']' hoặc dấu ',' giữa các mục")) == line


def test_start__hcc_form_an_xlsform_workbook__accepted_as_with_campaign_create_form(tmp_path):
    form = Path(__file__).parents[1] / "conversations" / "forms" / "report.xlsx"
    result = hcc(["status"], tmp_path, env={"HCC_FORM": str(form)})
    assert (0, "") == (result.returncode, result.stderr)


# --- the command line's own help and mistakes ----------------------------------------------------


def test_help__in_vietnamese__usage_sections_and_commands(tmp_path):
    result = hcc(["--help"], tmp_path)
    assert 0 == result.returncode
    assert result.stdout.startswith("Cách dùng: hcc-bot [-h] [--version] LỆNH ...")
    assert f"{texts.ARG_OPTIONS}:" in result.stdout and texts.ARG_HELP in result.stdout
    assert "units     danh sách đơn vị của tỉnh" in result.stdout
    assert "usage:" not in result.stdout and "show this help" not in result.stdout


def test_wrong_argument__one_vietnamese_line_pointing_at_help(tmp_path):
    result = hcc(["units", "import", "a.csv", "--replce"], tmp_path)
    assert "hcc-bot: lỗi: tham số không nhận ra: --replce (xem: hcc-bot --help)" == one_line(result)
    result = hcc(["invite", "--days", "nhiều"], tmp_path)
    assert "hcc-bot invite: lỗi: --days: giá trị int không hợp lệ: 'nhiều' (xem: hcc-bot invite --help)" == \
        one_line(result)


def test_version__prints_the_package_version(tmp_path):
    from importlib.metadata import version

    result = hcc(["--version"], tmp_path)
    assert (0, f"hcc-bot {version('hcc-bot')}\n") == (result.returncode, result.stdout)


# --- logging ------------------------------------------------------------------------------------


def test_run__log_format_json__one_object_a_line_start_and_stop_no_personal_data(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HCC_")}
    env.update(HCC_DATA_DIR=str(tmp_path / "data"), HCC_LOG_FORMAT="json", HCC_LISTEN=f"127.0.0.1:{free_port()}")
    bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out = []
        while not any(texts.CLI_RUN_NO_CAMPAIGN in line for line in out):  # said once the bot is up
            line = bot.stdout.readline()
            assert line, bot.stderr.read()
            out.append(line)
        bot.send_signal(signal.SIGTERM)
        assert 0 == bot.wait(timeout=60)
        records = [json.loads(line) for line in bot.stderr.read().splitlines()]
    finally:
        if bot.poll() is None:
            bot.kill()
    messages = [r["message"] for r in records]
    assert messages[0].startswith("hcc-bot started: listening on 127.0.0.1:")
    assert "hcc-bot stopped" == messages[-1]
    assert {"INFO"} == {r["level"] for r in records}
    assert all(set(r) == {"time", "level", "logger", "message"} for r in records)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
async def test_console_browser__no_campaign_yet__next_steps_readable_on_phone_and_desktop(sqlite_db, tmp_path):
    from playwright.async_api import async_playwright, expect

    from tests.test_console_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

    clock = Clock(NOW)
    service = Service(sqlite_db, FORM, tmp_path / "photos", clock, export_dir=tmp_path / "exports")
    app = build_app()
    setup_console(app, service, session_key=os.urandom(32), secure_cookie=False)
    port = free_port()
    runner = await start_app(app, "127.0.0.1", port)
    console = Console(f"http://127.0.0.1:{port}", service, clock, sqlite_db)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        async with async_playwright() as p:
            chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for name, viewport in (("setup.png", {"width": 1280, "height": 720}),
                                   ("setup-phone.png", {"width": 390, "height": 844})):
                page = await chromium.new_page(viewport=viewport, locale="vi-VN")
                await page.goto(await console.link())
                await page.click("#sign-in")
                await expect(page.locator("#setup li")).to_have_count(3)
                await expect(page.locator("h1")).to_have_text(texts.SETUP_TITLE)
                assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
                await page.screenshot(path=str(SCREENSHOTS / name), full_page=False)
                await page.close()
            await chromium.close()
    finally:
        await runner.cleanup()
        await service.close()


def test_missing_subcommand__names_it_and_lists_the_choices_in_vietnamese(tmp_path):
    assert "hcc-bot units: lỗi: thiếu tham số bắt buộc: LỆNH (xem: hcc-bot units --help)" == \
        one_line(hcc(["units"], tmp_path))
    assert "hcc-bot units: lỗi: LỆNH: lựa chọn không hợp lệ: 'x' (chọn một trong 'import', 'list', 'deactivate', " \
           "'activate') (xem: hcc-bot units --help)" == one_line(hcc(["units", "x"], tmp_path))


# --- the badge fonts, from .env as every other setting --------------------------------------------


def test_fonts__set_in_dot_env__checked_at_start_and_used_by_the_badges(tmp_path):
    from tests.test_export_badges import SHIPPED_FONTS, ascii_font

    ascii_font(tmp_path / "ascii.ttf")
    (tmp_path / ".env").write_text("HCC_FONT_BOLD=ascii.ttf\n", encoding="utf-8")
    line = one_line(hcc(["status"], tmp_path))
    before, after = texts.SET_FONT_NOT_VIETNAMESE.split("{lacking}")
    assert line.startswith(texts.CLI_CONFIG_ERROR.format(problem=before.format(name="HCC_FONT_BOLD", path="ascii.ttf")))
    assert line.endswith(after) and "ệ" in line  # the letters it lacks, named

    chosen = tmp_path / "chu-dam.ttf"
    chosen.write_bytes((SHIPPED_FONTS / "DejaVuSans-Bold.ttf").read_bytes())
    (tmp_path / ".env").write_text(f"HCC_FONT_BOLD={chosen}\n", encoding="utf-8")
    started = hcc(["status"], tmp_path)
    assert (0, "") == (started.returncode, started.stderr)
    # What the badges are set in, in a process that read its settings as `hcc-bot run` and `export` do.
    program = ("from bot.settings import load_settings\nfrom exports.fonts import find_font\n"
               "load_settings()\nprint(find_font(), find_font(bold=True))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HCC_")}
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert f"{SHIPPED_FONTS / 'DejaVuSans.ttf'} {chosen}" == done.stdout.strip(), done.stderr
