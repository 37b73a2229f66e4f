"""deploy/: the files an IT person installs, checked by the tools that read them, and the bot behind nginx over HTTPS."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.settings import SETTINGS_HELP, load_settings, read_env_file
from conversations import texts
from tests.test_backup import BotProcess, answer, cli, invite_codes, seed
from tests.test_doctor import TelegramWithWebhookInfo, ZaloWithWebhookInfo, self_signed
from tests.test_run import free_port
from tests.test_zalo import SAMPLE_REPORT

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# Logging settings come with the logging change (HCC_LOG_LEVEL, HCC_LOG_FORMAT); once bot/settings.py lists
# them in SETTINGS_HELP this set adds nothing.
LOGGING = {"HCC_LOG_LEVEL", "HCC_LOG_FORMAT"}


def readme_settings() -> set[str]:
    """The variables the README's tables document (a row starting with | `NAME` |)."""
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", (ROOT / "README.md").read_text("utf-8"), re.M))


def env_example_names() -> set[str]:
    """Every NAME=value in .env.example, set or commented out."""
    text = (ROOT / ".env.example").read_text("utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M))


def compose_variables(compose: dict) -> set[str]:
    """The settings the compose file's services take: their environment keys and every ${VAR} they read."""
    names: set[str] = set()
    for service in compose["services"].values():
        names |= set(service.get("environment") or {})
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", json.dumps(compose)))
    return names


# --- the files, read by what reads them ------------------------------------------------------------------------


def test_env_example__every_setting_listed__and_loads_as_shipped(tmp_path):
    assert set(SETTINGS_HELP) <= env_example_names()
    assert env_example_names() <= set(SETTINGS_HELP) | readme_settings() | LOGGING
    values = read_env_file(ROOT / ".env.example")
    settings = load_settings({**values, "HCC_DATA_DIR": str(tmp_path)}, env_file=None)
    assert ("https://bot.example.gov.vn", "127.0.0.1", 8080) == \
        (settings.public_url, settings.listen_host, settings.listen_port)


def test_compose__services_and_their_settings__as_the_readme_documents():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    assert {"bot", "db", "caddy"} == set(compose["services"])
    bot, db, caddy = (compose["services"][name] for name in ("bot", "db", "caddy"))
    assert compose_variables(compose) - {"POSTGRES_USER", "POSTGRES_DB"} <= readme_settings()
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert "../.env" == bot["env_file"]
    assert bot["environment"]["HCC_DATABASE_URL"].startswith("postgresql://hcc:") and \
        bot["environment"]["HCC_DATABASE_URL"].endswith("@db:5432/hcc")
    assert "hcc-data:/data" in bot["volumes"] and "/data" == bot["environment"]["HCC_DATA_DIR"]
    assert "ports" not in bot  # only Caddy is reachable from outside
    assert {"80:80", "443:443"} == set(caddy["ports"])
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"] and (DEPLOY / "Caddyfile").is_file()
    assert "bot:8080" == caddy["environment"]["HCC_UPSTREAM"]
    assert "service_healthy" == bot["depends_on"]["db"]["condition"] and "healthcheck" in db


def test_dockerfile__non_root_user_data_volume_and_libreoffice_with_fonts():
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text("utf-8").splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert ["hcc"] == users and lines.index("USER hcc") < next(n for n, l in enumerate(lines) if l.startswith("CMD"))
    assert 'VOLUME ["/data"]' in lines
    text = "\n".join(lines)
    for package in ("libreoffice-writer-nogui", "fonts-liberation2", "fonts-crosextra-carlito", "postgresql-client"):
        assert package in text
    for folder in re.findall(r"^COPY (\w+) ", text, re.M):
        assert (ROOT / folder).is_dir()
    assert "HCC_DATA_DIR=/data" in text and 'CMD ["hcc-bot", "run"]' in text


def render_nginx_site(folder: Path, *, https_port: int, http_port: int, upstream: int, cert: Path, key: Path) -> Path:
    """deploy/nginx/hcc-bot.conf as an IT person fills it in, for 127.0.0.1 and unprivileged ports, with a
    main configuration of its own (pid, logs and temp files in `folder`)."""
    site = (DEPLOY / "nginx" / "hcc-bot.conf").read_text("utf-8")
    site = site.replace("bot.example.gov.vn;", "127.0.0.1;")
    site = site.replace("/etc/letsencrypt/live/bot.example.gov.vn/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/bot.example.gov.vn/privkey.pem", str(key))
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
    site = site.replace("proxy_pass http://127.0.0.1:8080;", f"proxy_pass http://127.0.0.1:{upstream};")
    (folder / "hcc-bot.conf").write_text(site, "utf-8")
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  access_log off;\n  client_body_temp_path {folder / 'client_body'};\n"
        f"  proxy_temp_path {folder / 'proxy'};\n  fastcgi_temp_path {folder / 'fastcgi'};\n"
        f"  uwsgi_temp_path {folder / 'uwsgi'};\n  scgi_temp_path {folder / 'scgi'};\n"
        f"  include {folder / 'hcc-bot.conf'};\n"
        "}\n", "utf-8")
    return main


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx-light)")


@needs_nginx
def test_nginx_site__nginx_t__accepted(tmp_path):
    cert, key = self_signed(tmp_path)
    main = render_nginx_site(tmp_path, https_port=free_port(), http_port=free_port(), upstream=8080, cert=cert,
                             key=key)
    done = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True)
    assert 0 == done.returncode, done.stderr
    assert "test is successful" in done.stderr


needs_caddy = pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed (Debian package caddy)")
CADDY_DROP_IN = DEPLOY / "systemd" / "caddy.service.d" / "hcc-bot.conf"


@needs_caddy
def test_caddyfile__caddy_validate__valid_for_the_public_host():
    done = subprocess.run(["caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                          capture_output=True, text=True, env={**os.environ, "HCC_PUBLIC_URL": "https://bot.example.gov.vn"})
    assert 0 == done.returncode, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def caddy_environment() -> tuple[str, dict[str, str]]:
    """The file the drop-in makes caddy.service read, and what the README tells the IT person to write in it."""
    drop_in = CADDY_DROP_IN.read_text("utf-8")
    assert "[Service]" in drop_in.splitlines()
    target = re.fullmatch(r"(?s).*^EnvironmentFile=(/\S+)$.*", drop_in, re.M).group(1)
    section = (ROOT / "README.md").read_text("utf-8").split("## Đưa vào vận hành")[1]
    written = re.findall(rf"echo '([^']*)' \| sudo tee {re.escape(target)}$", section, re.M)
    assert 1 == len(written), f"the README writes {target} once"
    assert f"cp {CADDY_DROP_IN.relative_to(ROOT)} /etc/systemd/system/caddy.service.d/" in section
    values = {}
    for line in written[0].splitlines():  # systemd's EnvironmentFile: KEY=VALUE lines, # and ; comments
        if line.strip() and not line.lstrip().startswith(("#", ";")):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip("'\"")
    return target, values


@needs_caddy
def test_caddyfile__debian_caddy_service_with_the_drop_in__valid_with_exactly_that_environment(tmp_path):
    """Debian's caddy.service passes the Caddyfile no HCC_PUBLIC_URL of its own: the drop-in's EnvironmentFile,
    written as the README says, is all it gets."""
    target, values = caddy_environment()
    assert ("/etc/default/caddy", {"HCC_PUBLIC_URL"}) == (target, set(values))
    # The same value the bot takes from .env.
    assert values["HCC_PUBLIC_URL"] == load_settings({**values, "HCC_DATA_DIR": str(tmp_path)}, env_file=None).public_url
    service = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path)}  # what systemd gives any service

    def validate(env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(["caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                              capture_output=True, text=True, env=env, cwd=tmp_path)

    done = validate({**service, **values})
    assert 0 == done.returncode, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr
    done = validate(service)  # Debian's unit alone, without the drop-in
    assert 0 != done.returncode and "unrecognized global option" in done.stderr


@needs_caddy
def test_caddyfile__request_body_limits__a_web_form_photo_passes_webhooks_stay_small():
    from bot.photos import MAX_BYTES

    done = subprocess.run(["caddy", "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                          capture_output=True, text=True, env={**os.environ, "HCC_PUBLIC_URL": "https://bot.example.gov.vn"})
    assert 0 == done.returncode, done.stderr
    limits = []

    def walk(routes: list) -> None:
        for route in routes:
            for handler in route.get("handle", []):
                if handler["handler"] == "request_body":
                    limits.append((route.get("match"), handler["max_size"]))
                walk(handler.get("routes", []))

    walk(json.loads(done.stdout)["apps"]["http"]["servers"]["srv0"]["routes"])
    save = {"path": ["/web/luu", "/web/xoa"]}
    assert [([save], 21 * 2 ** 20), ([{"not": [save]}], 2 * 2 ** 20)] == limits
    assert MAX_BYTES + 64 * 1024 < 21 * 2 ** 20  # a 20 MB photo and the form's fields


CADDY_SERVICE = next((p for p in (Path("/lib/systemd/system/caddy.service"), Path("/usr/lib/systemd/system/caddy.service"))
                      if p.is_file()), None)


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (Debian package systemd)")
def test_systemd_units__systemd_analyze_verify__no_complaint(tmp_path):
    """Checked with the repository in place of /srv/hcc-bot (verify needs ExecStart's program to exist)."""
    for name in ("hcc-bot.service", "hcc-bot-backup.service", "hcc-bot-backup.timer"):
        text = (DEPLOY / "systemd" / name).read_text("utf-8").replace("/srv/hcc-bot", str(ROOT))
        (tmp_path / name).write_text(text, "utf-8")
    if not (ROOT / ".venv" / "bin" / "hcc-bot").exists():
        pytest.skip("no .venv/bin/hcc-bot in the repository for ExecStart")
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", *(str(tmp_path / n) for n in
                                                          ("hcc-bot.service", "hcc-bot-backup.service",
                                                           "hcc-bot-backup.timer"))],
                          capture_output=True, text=True, cwd=tmp_path)
    assert (0, "") == (done.returncode, done.stderr.strip())


@pytest.mark.skipif(SYSTEMD_ANALYZE is None or CADDY_SERVICE is None, reason="systemd-analyze or caddy not installed")
def test_caddy_drop_in__systemd_analyze_verify__read_with_debians_caddy_service(tmp_path):
    shutil.copy(CADDY_SERVICE, tmp_path / "caddy.service")
    (tmp_path / "caddy.service.d").mkdir()
    shutil.copy(CADDY_DROP_IN, tmp_path / "caddy.service.d" / CADDY_DROP_IN.name)
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", str(tmp_path / "caddy.service")], capture_output=True, text=True,
                          cwd=tmp_path)
    assert (0, "") == (done.returncode, done.stderr.strip())


def test_systemd_unit__non_root_restarts_on_failure_and_only_the_data_folder_writable():
    unit = (DEPLOY / "systemd" / "hcc-bot.service").read_text("utf-8")
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert ("hcc", "on-failure", "strict", "/var/lib/hcc-bot") == \
        (settings["User"], settings["Restart"], settings["ProtectSystem"], settings["ReadWritePaths"])
    assert "HCC_DATA_DIR=/var/lib/hcc-bot" in (ROOT / ".env.example").read_text("utf-8")


def test_readme__operations_section__reachable_from_the_top_and_in_order():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "## Đưa vào vận hành" in readme
    assert "(#đưa-vào-vận-hành)" in readme[:readme.index("## Configuration")]
    section = readme[readme.index("## Đưa vào vận hành"):]
    section = section[:section.index("\n## ", 5)]
    steps = [int(n) for n in re.findall(r"^(\d+)\. ", section, re.M)]
    assert list(range(1, len(steps) + 1)) == steps[:len(steps)] and len(steps) >= 6
    for needed in ("hcc-bot doctor", "hcc-bot backup", "hcc-bot restore", "hcc-bot-backup.timer", "crontab",
                   "deploy/compose.yaml", "deploy/systemd/hcc-bot.service", "deploy/nginx/hcc-bot.conf",
                   "deploy/Caddyfile", ".env.example"):
        assert needed in section, needed


# --- end to end: the bot behind nginx over HTTPS ---------------------------------------------------------------


class Nginx:
    """Debian's nginx run by the test with its own prefix and configuration."""

    def __init__(self, main: Path, prefix: Path):
        self.main, self.prefix = main, prefix
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Nginx":
        self.process = subprocess.Popen([NGINX, "-p", str(self.prefix), "-c", str(self.main), "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def wait_https(url: str, trust: ssl.SSLContext) -> None:
    for _ in range(200):
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(url, ssl=trust) as response:
                    if response.status == 200:
                        return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


async def post(url: str, body: dict, headers: dict, trust: ssl.SSLContext) -> int:
    """What a platform does: POST the update to the webhook it was given, over HTTPS."""
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body, headers=headers, ssl=trust) as response:
            return response.status


async def post_photo(url: str, size: int, trust: ssl.SSLContext) -> tuple[int, str]:
    """What the web form's page does when a photo is chosen: one multipart POST with the file and the CSRF token."""
    form = aiohttp.FormData()
    form.add_field("csrf", "x")
    form.add_field("staff[1][photo]", b"\xff\xd8" + os.urandom(size - 2), filename="anh.jpg",
                   content_type="image/jpeg")
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=form, headers={"Accept": "application/json"}, ssl=trust) as response:
            return response.status, await response.text()


def personal_data(report: list[str]) -> set[str]:
    """The names and mobiles of a sample report, the mobiles as typed and as stored."""
    found = set()
    for line in report:
        for name, phone in re.findall(r"^([^,\d]+),.*?(0[\d ]{9,})$", line):
            digits = phone.replace(" ", "")
            found |= {name.strip(), phone, digits, "+84" + digits[1:]}
    return found


@needs_nginx
@pytest.mark.timeout(600)
async def test_end_to_end__bot_behind_nginx_over_https__report_completed_and_download_served(tmp_path):
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    https_port, bot_port = free_port(), free_port()
    public = f"https://127.0.0.1:{https_port}"
    main = render_nginx_site(tmp_path, https_port=https_port, http_port=free_port(), upstream=bot_port, cert=cert,
                             key=key)
    zalo, telegram = await ZaloWithWebhookInfo().start(), TelegramWithWebhookInfo()
    await telegram.start()
    env = {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_PUBLIC_URL": public, "HCC_LISTEN": f"127.0.0.1:{bot_port}",
           "HCC_ZALO_BOT_TOKEN": zalo.token, "HCC_ZALO_API_URL": zalo.url,
           "HCC_TELEGRAM_TOKEN": telegram.token, "HCC_TELEGRAM_API_URL": telegram.url}
    await asyncio.to_thread(seed, env, tmp_path)
    codes = await invite_codes(f"sqlite:///{tmp_path / 'data' / 'hcc.db'}", ["STP", "CAT"])
    try:
        with Nginx(main, tmp_path):
            async with BotProcess(env, tmp_path) as bot:
                await wait_https(f"{public}/healthz", trust)
                assert f"{public}/zalo/webhook" == zalo.webhook_url
                assert f"{public}/telegram/webhook" == telegram.webhook_url
                secrets = {zalo.token, telegram.token, zalo.webhook_secret, telegram.webhook_secret, *codes.values()}

                # A photo from the web form's page (up to 20 MB) gets through nginx to the bot, which answers
                # for itself (no session here: 401); a webhook of 3 MB is still refused by nginx.
                status, answer_text = await post_photo(f"{public}/web/luu", 5 * 1024 * 1024, trust)
                assert (401, texts.WEB_FORM_SIGNED_OUT) == (status, answer_text)
                assert 413 == await post(zalo.webhook_url, {"padding": "x" * 3 * 1024 * 1024},
                                         {"X-Bot-Api-Secret-Token": zalo.webhook_secret}, trust)

                async def zalo_says(update: dict) -> list[str]:
                    """The platform posts the update through nginx; the bot's first reply."""
                    before = len(zalo.texts_to("stp"))
                    status = await post(zalo.webhook_url, update, {"X-Bot-Api-Secret-Token": zalo.webhook_secret},
                                        trust)
                    assert 200 == status
                    return await say_after(zalo, "stp", before)

                bound = await zalo_says(zalo.text("stp", codes["STP"]))
                assert bound[0].startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
                for n in range(len(SAMPLE_REPORT)):
                    await zalo_says(answer(zalo, "stp", n))
                assert (await zalo_says(zalo.text("stp", "nộp")))[0].startswith("Đã nộp báo cáo lúc")
                # The unit's document: Zalo cannot carry files, so a link, served through nginx.
                before = len(zalo.texts_to("stp"))
                await zalo_says(zalo.text("stp", texts.UNIT_DOCUMENT_WORDS[0]))
                link_pattern = re.compile(rf"{re.escape(public)}/tai/\S+")
                while not link_pattern.search("\n".join(zalo.texts_to("stp")[before:])):
                    await say_after(zalo, "stp", len(zalo.texts_to("stp")))
                link = link_pattern.search("\n".join(zalo.texts_to("stp")[before:])).group(0)
                async with aiohttp.ClientSession() as session:
                    async with session.get(link, ssl=trust) as response:
                        body = await response.read()
                        assert (200, "attachment") == (response.status,
                                                       response.headers["Content-Disposition"].split(";")[0])
                        assert "max-age=63072000" == response.headers["Strict-Transport-Security"]
                assert body.startswith(b"PK")  # a .docx

                # Telegram posts through nginx too: the contact is bound.
                command = {"entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
                update = telegram.message(77, text=f"/start {codes['CAT']}", **command)
                assert 200 == await post(telegram.webhook_url, update,
                                         {"X-Telegram-Bot-Api-Secret-Token": telegram.webhook_secret}, trust)
                await telegram.wait_until(lambda: telegram.sent(77), timeout=30)
                assert telegram.sent(77)[0]["text"].startswith(texts.BOUND_UNIT.format(unit="Công an tỉnh"))

                # doctor, run as the IT person would, trusting the test's certificate like a public CA's.
                done = await asyncio.to_thread(cli, {**env, "SSL_CERT_FILE": str(cert)}, "doctor", "--json",
                                               cwd=tmp_path)
                red = {c["name"] for c in json.loads(done.stdout)["checks"] if not c["ok"]}
                lacking = set() if shutil.which("soffice") or shutil.which("libreoffice") else {"libreoffice"}
                assert lacking == red, done.stdout
                assert (1 if lacking else 0) == done.returncode
    finally:
        await zalo.stop()
        await telegram.stop()

    # The bot's log (journald's view of it): start, each webhook set, stop; no one's name or mobile, no token,
    # secret, invite code or download link.
    log = bot.output.read_text("utf-8")
    assert re.search(r"^\S+ \S+ INFO bot\.runner: hcc-bot started: listening on 127\.0\.0\.1:\d+", log, re.M), log
    for channel in ("zalo", "telegram"):
        assert f"INFO bot.runner: {channel} channel started: webhook set at {public}/{channel}/webhook" in log, log
    assert "INFO bot.runner: hcc-bot stopped" in log
    leaked = {word for word in personal_data(SAMPLE_REPORT) | secrets | {link, "/tai/"} if word in log}
    assert set() == leaked


async def say_after(fake, user: str, before: int, timeout: float = 30) -> list[str]:
    """The messages `user` got after the first `before` ones, once there is at least one more."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(fake.texts_to(user)) <= before:
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, f"no reply to {user}"
        fake.sent_event.clear()
        try:
            await asyncio.wait_for(fake.sent_event.wait(), timeout=remaining)
        except asyncio.TimeoutError:
            pass
    return fake.texts_to(user)[before:]
