"""The bot's web server: signed download links that expire, and survive a restart."""

from __future__ import annotations

import aiohttp

from bot.web import DownloadLinks, build_app, load_or_create_key, start_app
from conversations import texts
from tests.test_run import free_port


async def fetch(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return response.status, await response.read()


async def test_download_link__valid_then_expired_and_after_restart__served_then_refused(tmp_path):
    (tmp_path / "exports").mkdir()
    target = tmp_path / "exports" / "tong-hop_1_20170328-100000.zip"
    target.write_bytes(b"PK-zip-bytes")
    now = [1_000_000.0]
    links = DownloadLinks(load_or_create_key(tmp_path), tmp_path / "exports", ttl_seconds=3600, clock=lambda: now[0])
    url_path, expires = links.url_path(target)
    restarted = DownloadLinks(load_or_create_key(tmp_path), tmp_path / "exports", clock=lambda: now[0])
    port = free_port()
    runner = await start_app(build_app(restarted), "127.0.0.1", port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert (200, b"PK-zip-bytes") == await fetch(base + url_path)
        escaped = url_path.replace("tong-hop_1_20170328-100000.zip", "%2E%2E/link.key")
        status, body = await fetch(base + escaped)
        assert 404 == status and load_or_create_key(tmp_path) not in body  # the signing key is never served
        forged = url_path.split("/")
        forged[2] = str(int(forged[2]) + 86400)  # a later expiry with the old signature
        assert 404 == (await fetch(base + "/".join(forged)))[0]
        forged[2] = "9" * 5_000  # more digits than int() takes: a 404 like any bad link, not a 500
        assert (404, texts.LINK_EXPIRED.encode()) == await fetch(base + "/".join(forged))
        now[0] = expires + 1
        assert (404, texts.LINK_EXPIRED.encode()) == await fetch(base + url_path)
    finally:
        await runner.cleanup()
