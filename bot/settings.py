"""Settings from environment variables and an optional `.env` file in the working directory."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from conversations.form import DEFAULT_FORM
from storage.db import normalize_url

# Zalo's media hosts: a photo URL in an update is fetched only from these (https, the host or a subdomain), or
# from the API's own origin. Anything else (the bot's own pages, 127.0.0.1, another site) is refused.
ZALO_PHOTO_HOSTS = ("zdn.vn", "zadn.vn", "zalo.me", "zaloapp.com", "zaloplatforms.com", "zapps.me")

SETTINGS_HELP = {
    "HCC_DATABASE_URL": "database URL; default: SQLite file hcc.db in HCC_DATA_DIR",
    "HCC_DATA_DIR": "folder for the SQLite file and photos; default ./data",
    "HCC_FORM": "the report form file (YAML); default: the shipped form",
    "HCC_ZALO_BOT_TOKEN": "Zalo Bot token (enables the Zalo channel)",
    "HCC_ZALO_API_URL": "Zalo Bot API root; default https://bot-api.zaloplatforms.com",
    "HCC_TELEGRAM_TOKEN": "Telegram bot token (enables the Telegram channel)",
    "HCC_TELEGRAM_API_URL": "Telegram Bot API root; default https://api.telegram.org",
    "HCC_PUBLIC_URL": "public HTTPS address of this bot (webhooks, download links); unset: polling",
    "HCC_LISTEN": "host:port of the bot's web server; default 127.0.0.1:8080",
    "HCC_PROVINCE": "the province's name on badges, name tags and reports (e.g. Đồng Nai); default: the campaign's",
    "HCC_ZALO_PHOTO_HOSTS": "hosts Zalo photos are fetched from (https, subdomains too), comma-separated; "
                            "default: " + ",".join(ZALO_PHOTO_HOSTS),
}


class ConfigError(ValueError):
    """A setting is wrong; str() is one line naming the setting and what is expected."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    form_path: Path
    zalo_token: str | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    public_url: str | None = None
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    zalo_photo_hosts: tuple[str, ...] = ZALO_PHOTO_HOSTS
    province: str | None = None  # HCC_PROVINCE: overrides the campaign's province in the exports

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; comments and blank lines ignored, optional quotes removed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()):
            raise ConfigError(f"{path}:{n}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Read and check every setting; the environment wins over the .env file."""
    env = dict(read_env_file(env_file) if env_file else {})
    env.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    data_dir = Path(get("HCC_DATA_DIR") or "data")
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"HCC_DATA_DIR: {data_dir} exists and is not a folder; expected a folder path")
    url = get("HCC_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'hcc.db'}"
    try:
        url = normalize_url(url)
    except ValueError as exc:
        raise ConfigError(f"HCC_DATABASE_URL: {exc}") from None
    form_path = Path(get("HCC_FORM") or DEFAULT_FORM)
    if not form_path.is_file():
        raise ConfigError(f"HCC_FORM: {form_path} is not a file; expected the path of a form YAML file")
    public_url = get("HCC_PUBLIC_URL")
    if public_url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", public_url):
        raise ConfigError(f"HCC_PUBLIC_URL: expected an address like https://bot.example.gov.vn, got {public_url!r}")
    listen = get("HCC_LISTEN") or "127.0.0.1:8080"
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"HCC_LISTEN: expected host:port such as 127.0.0.1:8080, got {listen!r}")
    for name in ("HCC_ZALO_API_URL", "HCC_TELEGRAM_API_URL"):
        value = get(name)
        if value and not re.fullmatch(r"https?://\S+", value):
            raise ConfigError(f"{name}: expected an http(s) URL, got {value!r}")
    hosts = tuple(h.strip().lower().strip(".") for h in (get("HCC_ZALO_PHOTO_HOSTS") or "").split(",") if h.strip())
    for host in hosts:
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host):
            raise ConfigError(f"HCC_ZALO_PHOTO_HOSTS: expected host names such as zdn.vn, got {host!r}")
    return Settings(
        database_url=url,
        data_dir=data_dir,
        form_path=form_path,
        zalo_token=get("HCC_ZALO_BOT_TOKEN"),
        zalo_api_url=(get("HCC_ZALO_API_URL") or Settings.zalo_api_url).rstrip("/"),
        telegram_token=get("HCC_TELEGRAM_TOKEN"),
        telegram_api_url=(get("HCC_TELEGRAM_API_URL") or Settings.telegram_api_url).rstrip("/"),
        public_url=public_url.rstrip("/") if public_url else None,
        listen_host=host.strip("[]"),
        listen_port=int(port),
        zalo_photo_hosts=hosts or ZALO_PHOTO_HOSTS,
        province=" ".join((get("HCC_PROVINCE") or "").split()) or None,
    )
