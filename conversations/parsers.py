"""Read what people type (text, phone, number, date, choice, yes/no) into clean values, or explain what to send.

Pure functions: no I/O. Every error carries a Vietnamese message from conversations.texts.
"""

import datetime
import re
import unicodedata
from collections.abc import Sequence

import phonenumbers

from conversations import texts


class ParseError(ValueError):
    """A person's answer could not be read; .message is the Vietnamese text telling them what to send instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- Text ---------------------------------------------------------------------------------------------

# Zero-width characters, bidi controls, soft hyphen and the Arabic letter mark: invisible, always dropped.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
             "\u2066\u2067\u2068\u2069\u00ad\u061c")
)
# Line breaks other than '\n' that become '\n' (multiline) or a space (single line).
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def fold(text: str) -> str:
    """Reduce text to lowercase ASCII-like letters with single spaces, for matching commands and choices."""
    decomposed = unicodedata.normalize("NFD", clean_text(text, multiline=False))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().replace("đ", "d").split())


def _is_noncharacter(c: str) -> bool:
    """U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF: never text, and XML (so xlsx and docx) refuses them."""
    code = ord(c)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


# Whitespace but a newline (`\s` is str.isspace()); what clean_text drops once whitespace is spaces: the other
# control characters (Cc), lone surrogates (Cs) and the noncharacters (see _is_noncharacter). Regular
# expressions: a message is checked in C, not a character at a time in Python (about 200 calls an answer).
_SPACE = re.compile(r"[^\S\n]")
_DROPPED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                      + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17)) + "]")


def normalize_line_breaks(raw: str) -> str:
    """Every kind of line break (CR LF, U+2028, U+2029, NEL, vertical tab...) as '\\n'."""
    return _LINE_BREAKS.sub("\n", raw)


def clean_text(raw: str, *, multiline: bool) -> str:
    """Normalize to NFC, drop invisible and control characters, and tidy whitespace."""
    text = normalize_line_breaks(raw.translate(_INVISIBLE))
    if not multiline:
        text = text.replace("\n", " ")
    # Whitespace controls (tab...) become spaces so words do not run together; other controls go away.
    text = _SPACE.sub(" ", text)
    text = _DROPPED.sub("", text)
    text = re.sub(r" {2,}", " ", unicodedata.normalize("NFC", text))
    if multiline:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
        text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _parse_cleaned(raw: str, *, multiline: bool, max_len: int) -> str:
    text = clean_text(raw, multiline=multiline)
    if not text:
        if any(not c.isspace() for c in raw):
            raise ParseError(texts.TEXT_NOT_PRINTABLE)
        raise ParseError(texts.EMPTY_ANSWER)
    if len(text) > max_len:
        raise ParseError(texts.TEXT_TOO_LONG.format(length=len(text), max_len=max_len))
    return text


def parse_text(raw: str, *, max_len: int = 300) -> str:
    """Read a one-line text answer."""
    return _parse_cleaned(raw, multiline=False, max_len=max_len)


def parse_name(raw: str, *, max_len: int = 300) -> str:
    """Read a person's full name: one line, no digits, no list separators (those mean several answers)."""
    text = _parse_cleaned(raw, multiline=False, max_len=max_len)
    if any(c.isdigit() for c in text):
        raise ParseError(texts.NAME_HAS_DIGITS)
    if any(c in text for c in ",;"):
        raise ParseError(texts.NAME_HAS_SEPARATORS)
    return text


def parse_long_text(raw: str, *, max_len: int = 3000) -> str:
    """Read a multi-line text answer, keeping line breaks."""
    return _parse_cleaned(raw, multiline=True, max_len=max_len)


def _require(raw: str) -> str:
    text = clean_text(raw, multiline=False)
    if not text:
        raise ParseError(texts.EMPTY_ANSWER)
    return text


# --- Phone --------------------------------------------------------------------------------------------

# 11-digit mobile prefixes renamed in 2018 -> their 10-digit replacements.
LEGACY_MOBILE_PREFIXES = {
    # Viettel
    "0162": "032", "0163": "033", "0164": "034", "0165": "035",
    "0166": "036", "0167": "037", "0168": "038", "0169": "039",
    # MobiFone
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    # VinaPhone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    # Vietnamobile
    "0186": "056", "0188": "058",
    # Gmobile
    "0199": "059",
}
_PHONE_SEPARATORS = re.compile(r"[ .\-–—()]")


def _vn_national(digits: str) -> str:
    """Turn a separator-free VN number (without country code) into a 10-digit national number if it was legacy."""
    national = digits if digits.startswith("0") else "0" + digits
    if len(national) == 11 and national[:4] in LEGACY_MOBILE_PREFIXES:
        return LEGACY_MOBILE_PREFIXES[national[:4]] + national[4:]
    return national


def parse_phone(raw: str) -> str:
    """Read a Vietnamese mobile number in any common spelling; return it in E.164 form."""
    text = unicodedata.normalize("NFKC", _require(raw))
    compact = _PHONE_SEPARATORS.sub("", text)
    if not re.fullmatch(r"\+?[0-9]+", compact):
        raise ParseError(texts.PHONE_INVALID)
    if compact.startswith("+"):
        international = compact[1:]
    elif compact.startswith("00"):
        international = compact[2:]
    elif compact.startswith("84") and len(compact) in (11, 12):
        international = compact
    else:
        international = None
    if international is not None and not international.startswith("84"):
        try:
            phonenumbers.parse("+" + international, None)  # a known country code means a foreign number
        except phonenumbers.NumberParseException:
            raise ParseError(texts.PHONE_INVALID) from None
        raise ParseError(texts.PHONE_FOREIGN)
    if international is not None:
        rest = international[2:]
        compact = rest[1:] if rest.startswith("0") else rest  # "+84 (0) 912..."
    try:
        number = phonenumbers.parse(_vn_national(compact), "VN")
    except phonenumbers.NumberParseException:
        raise ParseError(texts.PHONE_INVALID) from None
    if not phonenumbers.is_valid_number(number):
        raise ParseError(texts.PHONE_INVALID)
    if phonenumbers.region_code_for_number(number) != "VN":
        raise ParseError(texts.PHONE_FOREIGN)
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise ParseError(texts.PHONE_NOT_MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """Show a stored E.164 number the way people read it: "0912 345 678", or international for foreign ones."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code != 84:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = "0" + phonenumbers.national_significant_number(number)
    if len(national) == 10:
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


# --- Numbers and dates --------------------------------------------------------------------------------

_INTEGER = re.compile(r"([0-9]{1,3}(?:([., ])[0-9]{3})(?:\2[0-9]{3})*|[0-9]+)")


def parse_integer(raw: str, *, minimum: int = 0, maximum: int = 100_000) -> int:
    """Read a whole non-negative number, allowing thousands separators such as "1.200"."""
    text = _require(raw)
    if re.fullmatch(r"[-−–] ?" + _INTEGER.pattern, text):
        raise ParseError(texts.INTEGER_NEGATIVE)
    if not _INTEGER.fullmatch(text):
        raise ParseError(texts.INTEGER_INVALID)
    digits = re.sub(r"[^0-9]", "", text).lstrip("0") or "0"
    if len(digits) > 18:  # thousands of digits: refuse before int() (and quote nothing huge)
        raise ParseError(texts.INTEGER_TOO_LARGE.format(value=digits[:12] + "…", maximum=maximum))
    value = int(digits)
    if value > maximum:
        raise ParseError(texts.INTEGER_TOO_LARGE.format(value=value, maximum=maximum))
    if value < minimum:
        raise ParseError(texts.INTEGER_INVALID)
    return value


_DATE = re.compile(r"([0-9]{1,2}) ?[/.\-] ?([0-9]{1,2})(?: ?[/.\-] ?([0-9]{4}|[0-9]{2}))?")


def parse_date(raw: str, *, today: datetime.date, example: datetime.date | None = None) -> datetime.date:
    """Read a day/month[/year] date; a missing year means today's year, a two-digit year means 20yy.

    `example` is the date the error messages suggest (one the caller would accept); today by default.
    """
    text = _require(raw)
    shown = format_date(example or today)
    match = _DATE.fullmatch(text)
    if not match:
        raise ParseError(texts.DATE_INVALID.format(example=shown))
    day, month, year = match.groups()
    if year is None:
        full_year = today.year
    else:
        full_year = int(year) + (2000 if len(year) == 2 else 0)
    try:
        return datetime.date(full_year, int(month), int(day))
    except ValueError:
        raise ParseError(texts.DATE_NOT_EXIST.format(raw=text, example=shown)) from None


_CLOCK = re.compile(r"([0-9]{1,2}) ?(?:[:hg.]|giờ) ?([0-9]{1,2})?(?: ?(?:phút|p))?|([0-9]{1,2}) ?(?:h|g|giờ)")


def parse_time(raw: str) -> str:
    """A time of day, 24-hour: "14:30", "8:30", "8h30", "8h", "8 giờ 30" -> "HH:MM"."""
    text = _require(raw).lower()
    match = _CLOCK.fullmatch(text)
    if not match:
        raise ParseError(texts.TIME_INVALID)
    hour = int(match[1] or match[3])
    minute = int(match[2] or 0)
    if hour > 23 or minute > 59:
        raise ParseError(texts.TIME_INVALID)
    return f"{hour:02d}:{minute:02d}"


def parse_datetime(raw: str, *, today: datetime.date) -> str:
    """A date and a time, "28/03/2017 14:30" (either order, "lúc" allowed) -> "YYYY-MM-DDTHH:MM"."""
    text = " ".join(_require(raw).lower().replace(",", " ").replace("lúc", " ").replace("ngày", " ").split())
    for date_part, time_part in ((text.rpartition(" ")[0], text.rpartition(" ")[2]),
                                 (text.partition(" ")[2], text.partition(" ")[0])):
        if not date_part or not _DATE.fullmatch(date_part):
            continue
        try:
            day = parse_date(date_part, today=today)
            clock = parse_time(time_part)
        except ParseError:
            break
        return f"{day.isoformat()}T{clock}"
    raise ParseError(texts.DATETIME_INVALID)


_COORDS = re.compile(r"(-?[0-9]{1,3}(?:\.[0-9]+)?)\s*[,;\s]\s*(-?[0-9]{1,3}(?:\.[0-9]+)?)")
_MAP_LINK = re.compile(r"(?:@|[?&](?:q|query|ll|center)=(?:loc:)?)(-?[0-9]{1,3}\.[0-9]+),\s*(-?[0-9]{1,3}\.[0-9]+)")


def check_geopoint(lat: float, lon: float) -> dict:
    """A location as stored: {"lat": …, "lon": …}, refused when out of range."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ParseError(texts.GEOPOINT_OUT_OF_RANGE)
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


def parse_geopoint(raw: str) -> dict:
    """Typed coordinates ("10.95, 106.82", "10.95 106.82") or a Google Maps link holding them."""
    text = _require(raw)
    match = _COORDS.fullmatch(text.strip()) or _MAP_LINK.search(text)
    if not match:
        raise ParseError(texts.GEOPOINT_INVALID)
    return check_geopoint(float(match[1]), float(match[2]))


def format_date(d: datetime.date) -> str:
    """Show a date as dd/mm/yyyy."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


_TIME = re.compile(r"([01]?[0-9]|2[0-3])(?:[h:.g]([0-5][0-9])?)?")
_TIME_SEPARATORS = re.compile(r" ?(?:,|;|/|\+|-|–|\bvà\b|\bva\b|\bhoặc\b|\bhoac\b) ?| (?=[0-9])")


def parse_times(raw: str, *, max_count: int = 6) -> str:
    """Read one or more times of day ("8h30 và 14h00", "9:00, 14:00") into "08:30, 14:00"."""
    text = _require(raw).lower()
    text = re.sub(r" ?(?:phút|p)\b", "", re.sub(r" ?(?:giờ|gio)(?: (?=[0-9]))?", "h", text))  # "9 giờ 30" -> "9h30"
    parts = [p.strip() for p in _TIME_SEPARATORS.split(text) if p and p.strip()]
    if not parts or len(parts) > max_count:
        raise ParseError(texts.TIMES_INVALID)
    out = []
    for part in parts:
        match = _TIME.fullmatch(part)
        if not match:
            raise ParseError(texts.TIMES_INVALID)
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        shown = f"{hour:02d}:{minute:02d}"
        if shown not in out:
            out.append(shown)
    return ", ".join(sorted(out))


def looks_like_phone(raw: str) -> bool:
    """Whether a part of a message is meant as a phone number: mostly digits, seven or more of them."""
    text = unicodedata.normalize("NFKC", clean_text(raw, multiline=False))
    digits = sum(c.isdigit() for c in text)
    return digits >= 7 and bool(re.fullmatch(r"[+0-9 .\-–—()]+", text))


_PHONE_AT_END = re.compile(r"^(.*?[^\d\s+.\-–—()])[\s:\-–—]*(\+?[0-9][0-9 .\-–—()]{6,}[0-9])$")


def split_trailing_phone(raw: str) -> tuple[str, str] | None:
    """"Nguyễn Văn An 0912 345 678" -> ("Nguyễn Văn An", "0912 345 678"); None when no phone ends the text."""
    match = _PHONE_AT_END.match(clean_text(raw, multiline=False))
    if not match or not looks_like_phone(match.group(2)):
        return None
    return match.group(1).strip(), match.group(2).strip()


# --- Choices ------------------------------------------------------------------------------------------

_TRAILING_PUNCTUATION = " .,;:!?…"


def format_options(options: Sequence[tuple[str, str]]) -> str:
    """List options as "1 – Nam, 2 – Nữ"."""
    return ", ".join(f"{i} – {label}" for i, (_, label) in enumerate(options, start=1))


def parse_choice(raw: str, options: Sequence[tuple[str, str]]) -> str:
    """Read a choice by its number or its label (diacritics and case ignored); return the option value."""
    text = _require(raw)
    match = re.fullmatch(r"([0-9]{1,4}) ?[.)]?", text)
    if match and 1 <= int(match.group(1)) <= len(options):
        return options[int(match.group(1)) - 1][0]
    wanted = fold(text).rstrip(_TRAILING_PUNCTUATION)
    for value, label in options:
        if wanted in (fold(label).rstrip(_TRAILING_PUNCTUATION), fold(value)):
            return value
    raise ParseError(texts.CHOICE_INVALID.format(options=format_options(options)))


_YES = {"co", "c", "yes", "y", "1", "ok", "oke", "okay", "dong y", "co dong y", "vang", "vang co", "da", "da co",
        "da vang", "u", "uh", "co chu"}
_NO = {"khong", "k", "ko", "kg", "khg", "kh", "no", "n", "2", "khong dong y", "da khong", "vang khong",
       "khong co"}


def parse_yes_no(raw: str) -> bool:
    """Read a yes/no answer such as "có", "Không!", "ok" or "1"/"2"."""
    answer = fold(_require(raw)).rstrip(_TRAILING_PUNCTUATION)
    answer = answer.removesuffix(" a").rstrip(_TRAILING_PUNCTUATION)  # polite "ạ": "có ạ", "không ạ"
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    raise ParseError(texts.YES_NO_INVALID)


def split_compact(raw: str) -> list[str]:
    """Split one message holding several answers: by lines if 2+, else by ';', else by ','."""
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    if len(lines) >= 2:
        return lines
    text = lines[0] if lines else ""
    separator = ";" if ";" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]
