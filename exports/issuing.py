"""How a campaign's consolidated report is issued, as Nghị định 30/2020/NĐ-CP lays a document out: the cơ quan
chủ quản over the issuing body, "Số: …/BC-SNV", the signer's authority, title and name, and the Nơi nhận list
ending with the "Lưu:" line.

Each campaign may set these (`campaign create|edit --doc-code … --signer-name …`, or the console); what it does
not set takes the decree's usual form: the number left as "…/" for the văn thư to fill in, ký hiệu "BC-SNV"
(báo cáo of Sở Nội vụ), the Giám đốc signing, "Như trên" and "Lưu: VT, CCHC.".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations import texts

DEFAULT_DOC_CODE = "BC-SNV"
DEFAULT_SIGNER_TITLE = "GIÁM ĐỐC"
DEFAULT_RECIPIENTS = ("Như trên",)
DEFAULT_FILING = "Lưu: VT, CCHC."
ISSUER = "SỞ NỘI VỤ"
NUMBER_BLANK = "…"  # the văn thư writes the number in when the document is registered
_FILING = re.compile(r"^\s*lưu\s*:", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[-–•]\s*")
FIELD_LIMITS = {"doc_code": 100, "doc_number": 20, "signer_authority": 100, "signer_title": 100,
                "signer_name": 200, "parent_body": 200, "filing_line": 200, "recipient": 300}
MAX_RECIPIENTS = 30


@dataclass(frozen=True)
class Issuing:
    """A campaign's issuing details, each None when not set (the defaults below then apply)."""

    doc_code: str | None = None
    doc_number: str | None = None
    signer_authority: str | None = None  # "KT. GIÁM ĐỐC"
    signer_title: str | None = None  # "PHÓ GIÁM ĐỐC"
    signer_name: str | None = None
    recipients: tuple[str, ...] | None = None  # without the leading "- " and the ";"
    parent_body: str | None = None  # "UBND TỈNH ĐỒNG NAI"
    filing_line: str | None = None  # "Lưu: VT, CCHC."

    def number_line(self) -> str:
        """"Số: …/BC-SNV" (or "Số: 12/BC-SNV" once the number is given)."""
        return texts.ISSUING_NUMBER.format(number=self.doc_number or NUMBER_BLANK,
                                           code=self.doc_code or DEFAULT_DOC_CODE)

    def reference(self) -> str:
        """"…/BC-SNV" as an annex cites it."""
        return f"{self.doc_number or NUMBER_BLANK}/{self.doc_code or DEFAULT_DOC_CODE}"

    def parent(self, province: str | None) -> str:
        """The cơ quan chủ quản: the campaign's, else UBND of the province."""
        if self.parent_body:
            return self.parent_body.upper()
        province = (province or "").strip()
        return texts.REPORT_AUTHORITY.format(province=province.upper()) if province else \
            texts.REPORT_AUTHORITY_NO_PROVINCE

    def signer_lines(self) -> list[str]:
        """The signer's authority (when signing on behalf: "KT. GIÁM ĐỐC") then the title."""
        title = (self.signer_title or DEFAULT_SIGNER_TITLE).upper()
        return [self.signer_authority.upper(), title] if self.signer_authority else [title]

    def recipient_lines(self) -> list[str]:
        """The Nơi nhận lines as printed: "- Như trên;" … "- Lưu: VT, CCHC."."""
        names = list(self.recipients) if self.recipients is not None else list(DEFAULT_RECIPIENTS)
        filing = (self.filing_line or DEFAULT_FILING).strip()
        if not filing.endswith("."):
            filing += "."
        return [f"- {name};" for name in names] + [f"- {filing}"]


def parse_recipients(text: str) -> tuple[list[str], str | None]:
    """Recipients given one per line or separated by ";": (the lines, the "Lưu: …" line if one is among them).

    Leading dashes and trailing punctuation are dropped; the order is kept.
    """
    lines, filing = [], None
    for part in re.split(r"[;\n]", text or ""):
        part = _BULLET.sub("", part).strip().rstrip(".;,").strip()
        if not part:
            continue
        if _FILING.match(part):
            filing = part + "."
        else:
            lines.append(part)
    return lines, filing


def check_lengths(values: dict[str, object]) -> str | None:
    """The first value longer than its column can hold, as a Vietnamese line for the operator; None if all fit."""
    for name, value in values.items():
        if name == "recipients" and value is not None:
            if len(value) > MAX_RECIPIENTS:
                return texts.ISSUING_TOO_MANY_RECIPIENTS.format(max=MAX_RECIPIENTS)
            for line in value:
                if len(line) > FIELD_LIMITS["recipient"]:
                    return texts.ISSUING_TOO_LONG.format(field=texts.ISSUING_FIELDS["recipients"],
                                                         max=FIELD_LIMITS["recipient"])
        elif isinstance(value, str) and len(value) > FIELD_LIMITS.get(name, 200):
            return texts.ISSUING_TOO_LONG.format(field=texts.ISSUING_FIELDS[name], max=FIELD_LIMITS[name])
    return None


def trich_yeu(campaign_title: str) -> str:
    """The report's trích yếu from the campaign's title, the document type said once: "Báo cáo tiến độ …" gives
    "Tổng hợp tiến độ …"; "Báo cáo tổng hợp …" gives "Tổng hợp …"; any other "X…" gives "Tổng hợp x…"."""
    title = " ".join((campaign_title or "").split())
    words = title.split(" ")
    if len(words) > 1 and words[0].casefold() == "báo" and words[1].casefold() == "cáo":
        title = " ".join(words[2:])
    if title.casefold().startswith("tổng hợp"):
        return title[0].upper() + title[1:]
    if not title:
        return texts.ISSUING_SUBJECT.format(subject="").strip()
    first = title.split(" ")[0]
    if not (len(first) > 1 and first.isupper()):  # an acronym ("UBND", "TTHC") keeps its capitals
        title = title[0].lower() + title[1:]
    return texts.ISSUING_SUBJECT.format(subject=title)


def issuing_of(campaign) -> Issuing:
    """A campaign row's issuing details (an object with the model's columns)."""
    recipients = getattr(campaign, "recipients", None)
    return Issuing(doc_code=getattr(campaign, "doc_code", None), doc_number=getattr(campaign, "doc_number", None),
                   signer_authority=getattr(campaign, "signer_authority", None),
                   signer_title=getattr(campaign, "signer_title", None),
                   signer_name=getattr(campaign, "signer_name", None),
                   recipients=tuple(recipients) if recipients is not None else None,
                   parent_body=getattr(campaign, "parent_body", None),
                   filing_line=getattr(campaign, "filing_line", None))


# The flags of `campaign create|edit` and the console's form fields, in order: (column, flag).
FIELDS = (("doc_code", "--doc-code"), ("doc_number", "--doc-number"), ("signer_authority", "--signer-authority"),
          ("signer_title", "--signer-title"), ("signer_name", "--signer-name"), ("recipients", "--recipients"),
          ("parent_body", "--parent-body"))
# The seed letter's own (Sở Nội vụ Đồng Nai, 3/2017): the demo campaign's.
SEED = {"doc_code": "BC-SNV", "signer_authority": "KT. GIÁM ĐỐC", "signer_title": "PHÓ GIÁM ĐỐC",
        "signer_name": "Tạ Quang Trường", "recipients": ["Như trên", "GĐ, các PGĐ SNV"],
        "parent_body": "UBND TỈNH ĐỒNG NAI", "filing_line": "Lưu: VT, CCHC."}


class IssuingError(ValueError):
    """A value that cannot be stored, as one Vietnamese line."""


def parse_issuing(given: dict[str, str | None]) -> dict[str, object]:
    """The columns to change from the given texts (flag or form field, None: not given). An empty text clears the
    value (the default applies again); recipients are split into the Nơi nhận lines and the "Lưu:" line.
    Raises IssuingError, changing nothing, when a value is too long."""
    values: dict[str, object] = {}
    for name, _ in FIELDS:
        text = given.get(name)
        if text is None:
            continue
        text = " ".join(text.split()) if name != "recipients" else text
        if name == "recipients":
            lines, filing = parse_recipients(text)
            values["recipients"] = lines if text.strip() else None
            values["filing_line"] = filing
        else:
            values[name] = text or None
    problem = check_lengths(values)
    if problem:
        raise IssuingError(problem)
    return values


def apply_issuing(campaign, values: dict[str, object]) -> dict[str, tuple[object, object]]:
    """Set the values on the campaign row; what changed, as {column: (old, new)} for the audit."""
    changed = {}
    for name, value in values.items():
        old = getattr(campaign, name)
        if old != value:
            setattr(campaign, name, value)
            changed[name] = (old, value)
    return changed

