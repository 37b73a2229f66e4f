"""`hcc-bot run --workers N`: several bot processes behind one address, on PostgreSQL with webhooks only."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.runner import check_workers
from bot.settings import ConfigError, Settings
from bot.web import start_app
from conversations import texts
from conversations.form import DEFAULT_FORM
from tests.conftest import POSTGRES_URL_ENV


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_LISTEN": f"127.0.0.1:{free_port()}",
                   "PATH": "/usr/bin:/bin", **env}
    return subprocess.run([sys.executable, "-m", "bot", "run", *args], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_run__two_workers_on_sqlite__one_line_and_exit_code_2(tmp_path):
    result = run_cli(tmp_path, "--workers", "2", HCC_ZALO_BOT_TOKEN="1:token", HCC_PUBLIC_URL="https://bot.example")
    assert 2 == result.returncode
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines)
    assert lines[0].startswith(texts.CLI_CONFIG_ERROR.format(problem=texts.SET_WORKERS_SQLITE.format(workers=2)))
    assert not (tmp_path / "data" / "hcc.db").exists()  # refused before anything was opened


def test_workers__postgres_without_webhooks__refused_naming_the_setting(tmp_path):
    settings = Settings(database_url="postgresql://bot@db/hcc", data_dir=tmp_path, form_path=DEFAULT_FORM,
                        zalo_token="1:token")
    try:
        check_workers(settings, 2)
    except ConfigError as exc:
        assert texts.SET_WORKERS_POLLING.format(workers=2) == str(exc)
    else:
        raise AssertionError("polling with two workers was accepted")


def test_workers__postgres_with_webhooks__accepted(tmp_path):
    settings = Settings(database_url="postgresql://bot@db/hcc", data_dir=tmp_path, form_path=DEFAULT_FORM,
                        zalo_token="1:token", public_url="https://bot.example")
    assert None is check_workers(settings, 2)
    assert None is check_workers(Settings(database_url="sqlite:///x.db", data_dir=tmp_path, form_path=DEFAULT_FORM), 1)


async def test_start_app__reuse_port__two_servers_share_the_address_and_both_answer():
    """What `--workers` rests on: a second server on the same host:port starts (SO_REUSEPORT) and the kernel
    gives connections to both."""
    port = free_port()
    runners = []
    for name in ("a", "b"):
        app = web.Application()

        async def hello(request: web.Request, name: str = name) -> web.Response:
            return web.Response(text=name)

        app.router.add_get("/", hello)
        runners.append(await start_app(app, "127.0.0.1", port, reuse_port=True))
    try:
        seen = set()
        for _ in range(200):  # a new connection each time: the kernel picks a listener by the connection's hash
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
                async with session.get(f"http://127.0.0.1:{port}/") as response:
                    seen.add(await response.text())
            if seen == {"a", "b"}:
                break
        assert {"a", "b"} == seen
    finally:
        for runner in runners:
            await runner.cleanup()
        await asyncio.sleep(0)


def listening_pids(port: int) -> set[int]:
    """The processes holding a listening TCP socket on 127.0.0.1:port (from /proc: socket inodes)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:  # 0A: LISTEN
            inodes.add(f"socket:[{inode}]")
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def test_run__two_workers_on_postgres__both_listen_on_one_address_and_stop_on_sigterm(tmp_path):
    """`hcc-bot run --workers 2` (the console alone: no channel token, so no webhook needed): two processes
    answer on HCC_LISTEN, and a SIGTERM to the command stops them all, exit code 0, nothing on stderr.
    It migrates the test database's default schema (a URL cannot name a schema)."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: PostgreSQL tests skipped")
    port = free_port()
    env = {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_LISTEN": f"127.0.0.1:{port}", "PATH": "/usr/bin:/bin",
           "HCC_DATABASE_URL": url}
    process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--workers", "2"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        pids: set[int] = set()
        while time.monotonic() < deadline and len(pids) < 2:
            time.sleep(0.5)  # polling a subprocess's start-up: no clock to inject
            pids = listening_pids(port)
        assert 2 == len(pids)
        assert process.pid not in pids  # the command only watches its workers
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert 0 == process.returncode
    # both workers said they started and stopped (HCC_LOG_LEVEL's default INFO), and nothing else: no warning
    lines = err.splitlines()
    assert (2, 2, []) == (sum("hcc-bot started" in line for line in lines), sum("hcc-bot stopped" in line for line in lines),
                          [line for line in lines if " INFO " not in line])
    assert set() == listening_pids(port)
