"""Settings from environment variables and an optional `.env` file in the working directory."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from sqlalchemy.engine import make_url

from conversations import texts
from conversations.form import DEFAULT_FORM, Form, FormError
from storage.db import normalize_url

# Zalo's media hosts: a photo URL in an update is fetched only from these (https, the host or a subdomain), or
# from the API's own origin. Anything else (the bot's own pages, 127.0.0.1, another site) is refused.
ZALO_PHOTO_HOSTS = ("zdn.vn", "zadn.vn", "zalo.me", "zaloapp.com", "zaloplatforms.com", "zapps.me")

SETTINGS_HELP = {
    "HCC_DATABASE_URL": "địa chỉ cơ sở dữ liệu; mặc định: tệp SQLite hcc.db trong HCC_DATA_DIR",
    "HCC_DATA_DIR": "thư mục dữ liệu (tệp SQLite, ảnh, bản xuất); mặc định ./data",
    "HCC_FORM": "tệp biểu mẫu báo cáo (YAML hoặc XLSForm .xlsx); mặc định: biểu mẫu kèm theo",
    "HCC_ZALO_BOT_TOKEN": "token Zalo Bot (bật kênh Zalo)",
    "HCC_ZALO_API_URL": "địa chỉ Zalo Bot API; mặc định https://bot-api.zaloplatforms.com",
    "HCC_TELEGRAM_TOKEN": "token bot Telegram (bật kênh Telegram)",
    "HCC_TELEGRAM_API_URL": "địa chỉ Telegram Bot API; mặc định https://api.telegram.org",
    "HCC_PUBLIC_URL": "địa chỉ HTTPS công khai của bot (webhook, liên kết tải), chỉ giao thức và tên miền; "
                      "để trống: hỏi tin (polling); http chỉ với 127.0.0.1/localhost",
    "HCC_LISTEN": "máy:cổng của máy chủ web của bot; mặc định 127.0.0.1:8080",
    "HCC_PROVINCE": "tên tỉnh trên thẻ, bảng tên, báo cáo (ví dụ Đồng Nai); mặc định: của đợt báo cáo",
    "HCC_ZALO_PHOTO_HOSTS": "các máy chủ ảnh Zalo được tải (https, cả tên miền con), cách nhau bằng dấu phẩy; "
                            "mặc định: " + ",".join(ZALO_PHOTO_HOSTS),
    "HCC_LOG_LEVEL": "DEBUG, INFO, WARNING hoặc ERROR; mặc định INFO (khởi động, dừng, kênh, webhook, bản xuất)",
    "HCC_LOG_FORMAT": "text, hoặc json: mỗi dòng một đối tượng JSON; mặc định text",
    "HCC_FONT": "tệp phông chữ .ttf (đủ chữ tiếng Việt) in thẻ và bảng tên; mặc định DejaVu Sans kèm theo",
    "HCC_FONT_BOLD": "tệp phông chữ đậm .ttf cho thẻ và bảng tên; mặc định: HCC_FONT nếu có, không thì DejaVu Sans Bold",
}
# Read by exports/fonts.py from the process environment: a value from .env is put there at load (see
# load_settings), so the exports (and every process `run --workers` starts) see what the operator set.
FONT_SETTINGS = ("HCC_FONT", "HCC_FONT_BOLD")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")  # http is accepted only there: a trial on this machine


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
    log_level: str = "INFO"
    log_format: str = "text"
    font: Path | None = None  # HCC_FONT: badges and name tags (exports/fonts.py)
    font_bold: Path | None = None  # HCC_FONT_BOLD

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
            raise ConfigError(texts.SET_ENV_LINE.format(path=path, line=n))
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
        raise ConfigError(texts.SET_DATA_DIR_NOT_FOLDER.format(path=data_dir))
    url = get("HCC_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'hcc.db'}"
    try:
        url = normalize_url(url)
    except ValueError as exc:
        raise ConfigError(f"HCC_DATABASE_URL: {exc}") from None
    if get("HCC_DATABASE_URL"):
        _check_sqlite_folder(url, data_dir)
    form_path = Path(get("HCC_FORM") or DEFAULT_FORM)
    if not form_path.is_file():
        raise ConfigError(texts.SET_FORM_NOT_FILE.format(path=form_path))
    public_url = get("HCC_PUBLIC_URL")
    if public_url:
        _check_public_url(public_url)
    listen = get("HCC_LISTEN") or "127.0.0.1:8080"
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(texts.SET_LISTEN_FORM.format(value=listen))
    for name in ("HCC_ZALO_API_URL", "HCC_TELEGRAM_API_URL"):
        value = get(name)
        if value and not re.fullmatch(r"https?://\S+", value):
            raise ConfigError(texts.SET_API_URL.format(name=name, value=value))
    hosts = tuple(h.strip().lower().strip(".") for h in (get("HCC_ZALO_PHOTO_HOSTS") or "").split(",") if h.strip())
    for photo_host in hosts:
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", photo_host):
            raise ConfigError(texts.SET_PHOTO_HOSTS.format(value=photo_host))
    log_level = (get("HCC_LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(texts.SET_LOG_LEVEL.format(value=get("HCC_LOG_LEVEL")))
    log_format = (get("HCC_LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(texts.SET_LOG_FORMAT.format(value=get("HCC_LOG_FORMAT")))
    fonts = {name: _check_font(name, get(name)) for name in FONT_SETTINGS}
    if environ is None:  # this process's own settings: the exports read the fonts from its environment
        for name, path in fonts.items():
            if path is not None and name not in os.environ:
                os.environ[name] = str(path.resolve())
    return Settings(
        database_url=url,
        data_dir=data_dir,
        form_path=form_path,
        zalo_token=get("HCC_ZALO_BOT_TOKEN"),
        zalo_api_url=(get("HCC_ZALO_API_URL") or Settings.zalo_api_url).rstrip("/"),
        telegram_token=get("HCC_TELEGRAM_TOKEN"),
        telegram_api_url=(get("HCC_TELEGRAM_API_URL") or Settings.telegram_api_url).rstrip("/"),
        public_url=public_url,
        listen_host=host.strip("[]"),
        listen_port=int(port),
        zalo_photo_hosts=hosts or ZALO_PHOTO_HOSTS,
        province=" ".join((get("HCC_PROVINCE") or "").split()) or None,
        log_level=log_level,
        log_format=log_format,
        font=fonts["HCC_FONT"],
        font_bold=fonts["HCC_FONT_BOLD"],
    )


def _check_sqlite_folder(url: str, data_dir: Path) -> None:
    """A SQLite file in a folder that does not exist (other than HCC_DATA_DIR, made at start) is a mistyped path:
    said now, not as a driver's traceback."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return
    folder = Path(parsed.database).expanduser().parent
    if not folder.is_dir() and folder.resolve() != data_dir.expanduser().resolve():
        raise ConfigError(texts.SET_SQLITE_FOLDER.format(folder=folder))


def _check_public_url(value: str) -> None:
    """https only: Telegram and Zalo deliver webhooks to HTTPS addresses; http for a trial on this machine.

    Scheme and host only: the bot's pages and webhooks are at the host's root, and deploy/Caddyfile takes the
    same value as its site address, where even a trailing "/" would match the path "/" alone."""
    match = re.fullmatch(r"(https?)://([^\s/:?#]+|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?([/?#]\S*)?", value)
    if not match:
        raise ConfigError(texts.SET_PUBLIC_URL_FORM.format(value=value))
    if match.group(1) == "http" and match.group(2).lower() not in LOCAL_HOSTS:
        raise ConfigError(texts.SET_PUBLIC_URL_HTTPS.format(value=value))
    if match.group(4):
        raise ConfigError(texts.SET_PUBLIC_URL_PATH.format(value=value, fixed=value[:match.start(4)]))


def _check_font(name: str, value: str | None) -> Path | None:
    """A font the operator set: a file with every Vietnamese letter, checked now rather than at the first export."""
    if not value:
        return None
    from exports.fonts import VIETNAMESE_SAMPLE, covered_characters

    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(texts.SET_FONT_NOT_FILE.format(name=name, path=path))
    lacking = "".join(sorted(set(VIETNAMESE_SAMPLE) - covered_characters(path) - {" "}))
    if lacking:
        raise ConfigError(texts.SET_FONT_NOT_VIETNAMESE.format(name=name, path=path, lacking=lacking[:20]))
    return path


def load_settings_form(settings: Settings) -> Form:
    """The installation's form (HCC_FORM): YAML or an XLSForm .xlsx, read as `campaign create --form` reads it.

    A file that cannot be read or is not a form is one line naming HCC_FORM."""
    from bot.form_files import load_form_file

    try:
        return load_form_file(settings.form_path)[0]
    except FormError as exc:
        raise ConfigError(texts.SET_FORM_UNREADABLE.format(problem=exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(texts.SET_FORM_UNREADABLE.format(
            problem=f"{settings.form_path}: {getattr(exc, 'strerror', None) or exc.__class__.__name__}")) from None


def prepare_data_dir(settings: Settings) -> None:
    """Create HCC_DATA_DIR (0700, files 0600); a folder that cannot be made or used is one line naming it."""
    from bot.files import secure_data_dir

    try:
        secure_data_dir(settings.data_dir)
    except OSError as exc:
        raise ConfigError(texts.SET_DATA_DIR_UNUSABLE.format(path=settings.data_dir)) from exc
