"""Build the XLSForm workbooks shipped with the bot: report.xlsx (the same form as report.yaml) and training.xlsx.

    python -m conversations.forms.make_report_xlsx      # rewrites both next to this file

report.xlsx is generated from report.yaml, so the two never drift apart (tests/test_xlsform.py loads both and
compares the forms). training.xlsx is written out here by hand, as an author would fill the sheets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conversations.xlsform import write_xlsx

HERE = Path(__file__).parent
SURVEY = ["type", "name", "label", "hcc::prompt", "hint", "required", "required_message", "constraint",
          "constraint_message", "relevant", "choice_filter", "appearance", "repeat_count", "hcc::min", "hcc::max",
          "hcc::item", "hcc::compact", "hcc::personal", "hcc::deferrable", "hcc::badge", "hcc::not_above",
          "hcc::not_before"]
TYPES = {"text": ("text", ""), "long_text": ("text", "multiline"), "name": ("name", ""), "phone": ("phone", ""),
         "times": ("times", ""), "integer": ("integer", ""), "decimal": ("decimal", ""), "date": ("date", ""),
         "yes_no": ("yes_no", ""), "photo": ("image", "")}


def _relevant(ask_if: dict) -> str:
    """An ask_if as the relevant expression the importer reads back as the same ask_if."""
    k = ask_if["key"]
    if "gt" in ask_if:
        return f"${{{k}}} > {ask_if['gt']}"
    op = "equals" if "equals" in ask_if else "not_equals"
    value = ask_if[op]
    value = ("yes" if value else "no") if isinstance(value, bool) else value
    return f"${{{k}}} = '{value}'" if op == "equals" else f"${{{k}}} != '' and ${{{k}}} != '{value}'"


def report_sheets(raw: dict) -> dict[str, list[list[Any]]]:
    """The sheets of an XLSForm workbook with the same form as a YAML form document."""
    survey: list[list[Any]] = [SURVEY]
    lists: dict[str, list] = dict(raw.get("choice_lists") or {})

    def row(**cells: Any) -> None:
        survey.append([cells.get(c.replace("hcc::", "hcc_"), "") for c in SURVEY])

    for section in raw["sections"]:
        repeat = section.get("repeat")
        extras: dict[str, Any] = {"hcc_compact": ", ".join(section.get("compact") or [])}
        if repeat:
            extras.update(hcc_min=repeat.get("min", 0), hcc_max=repeat["max"], hcc_item=repeat["item"])
        row(type="begin_repeat" if repeat else "begin_group", name=section["key"], label=section["title"], **extras)
        if section.get("intro"):
            row(type="note", name=f"{section['key']}_intro", label=section["intro"])
        for q in section["questions"]:
            cells: dict[str, Any] = {}
            if q["type"] in ("choice", "multi_choice"):
                list_name = q["choices"]
                if not isinstance(list_name, str):  # an inline list gets a list of its own
                    list_name = f"{section['key']}_{q['key']}"
                    lists[list_name] = q["choices"]
                kind = "select_one" if q["type"] == "choice" else "select_multiple"
                cells["type"] = f"{kind} {list_name}"
            else:
                cells["type"], cells["appearance"] = TYPES[q["type"]]
            if q.get("filter_by"):
                cells["choice_filter"] = f"when=${{{q['filter_by']}}}"
            if q.get("ask_if"):
                cells["relevant"] = _relevant(q["ask_if"])
            for name in ("hint", "required_message", "constraint", "constraint_message", "relevant"):
                if q.get(name):
                    cells[name] = q[name]
            for name in ("personal", "deferrable", "badge"):
                if q.get(name):
                    cells[f"hcc_{name}"] = "yes"
            for name in ("not_above", "not_before"):
                if q.get(name):
                    cells[f"hcc_{name}"] = q[name]
            row(name=q["key"], label=q["label"], hcc_prompt=q["prompt"],
                required="yes" if q.get("required", True) else "no", **cells)
        row(type="end_repeat" if repeat else "end_group")
    choices: list[list[Any]] = [["list_name", "name", "label", "when"]]
    for list_name, entries in lists.items():
        for entry in entries:
            if not isinstance(entry, dict):
                entry = {"value": str(entry), "label": str(entry)}
            choices.append([list_name, entry["value"], entry["label"], entry.get("when", "")])
    settings = [["form_title", "form_id", "version"], [raw["title"], raw["id"], raw.get("version", "")]]
    return {"survey": survey, "choices": choices, "settings": settings}


def training_sheets() -> dict[str, list[list[Any]]]:
    """Đăng ký cử cán bộ tham gia lớp bồi dưỡng: a short registration, as an author writes an XLSForm."""
    vi = "label::Vietnamese (vi)"
    hint = "hint::Vietnamese (vi)"
    survey = [
        ["type", "name", vi, hint, "required", "required_message", "constraint", "constraint_message",
         "relevant", "appearance", "hcc::min", "hcc::max", "hcc::item", "hcc::compact", "hcc::personal"],
        ["begin_group", "contact", "Người liên hệ của đơn vị", "", "", "", "", "", "", "", "", "", "", "", ""],
        ["note", "contact_intro", "Người Sở Nội vụ liên hệ khi cần trao đổi về danh sách cử đi học.",
         "", "", "", "", "", "", "", "", "", "", "", ""],
        ["name", "name", "Họ và tên người liên hệ", "Ví dụ: Nguyễn Thị Lan.", "yes",
         "Vui lòng cho biết họ tên người liên hệ.", "", "", "", "", "", "", "", "", "yes"],
        ["text", "phone", "Số điện thoại người liên hệ", "Ví dụ: 0912 345 678.", "yes", "", "", "", "",
         "numbers", "", "", "", "", "yes"],
        ["end_group", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
        ["begin_repeat", "attendees", "Cán bộ được cử tham gia", "", "", "", "", "", "", "", "1", "5",
         "cán bộ", "", ""],
        ["name", "name", "Họ và tên", "Ví dụ: Trần Văn Hùng.", "yes", "", "", "", "", "", "", "", "", "", "yes"],
        ["text", "position", "Chức vụ", "Ví dụ: Chuyên viên.", "yes", "", "string-length(.) >= 3",
         "Chức vụ cần ít nhất 3 ký tự, ví dụ: Chuyên viên.", "", "", "", "", "", "", "yes"],
        ["phone", "phone", "Số điện thoại di động", "Ví dụ: 0987 654 321.", "yes", "", "", "", "", "", "", "", "",
         "", "yes"],
        ["date", "birth_date", "Ngày sinh", "Ví dụ: 15/08/1985.", "yes", "", "", "", "", "", "", "", "", "", "yes"],
        ["select_one gender", "gender", "Giới tính", "", "yes", "", "", "", "", "", "", "", "", "", ""],
        ["decimal", "years", "Số năm công tác", "Ví dụ: 12,5.", "yes", "", ". <= 45",
         "Số năm công tác không quá 45, ví dụ: 12,5.", "", "", "", "", "", "", ""],
        ["select_one mode", "mode", "Hình thức tham gia", "", "yes", "", "", "", "", "", "", "", "", "", ""],
        ["text", "venue_note", "Đề nghị về chỗ ở khi học trực tiếp",
         "Nếu không có đề nghị, gõ “bỏ qua”.", "no", "", "", "", "${mode} = 'truc_tiep' and ${years} >= 0", "",
         "", "", "", "", ""],
        ["end_repeat", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
    ]
    choices = [
        ["list_name", "name", vi],
        ["gender", "nu", "Nữ"],
        ["gender", "nam", "Nam"],
        ["mode", "truc_tiep", "Trực tiếp"],
        ["mode", "truc_tuyen", "Trực tuyến"],
    ]
    settings = [["form_title", "form_id", "version", "default_language"],
                ["Đăng ký cử cán bộ tham gia lớp bồi dưỡng", "training_registration", "2017032801", "Vietnamese (vi)"]]
    return {"survey": survey, "choices": choices, "settings": settings}


def main() -> None:
    raw = yaml.safe_load((HERE / "report.yaml").read_text(encoding="utf-8"))
    write_xlsx(HERE / "report.xlsx", report_sheets(raw))
    write_xlsx(HERE / "training.xlsx", training_sheets())


if __name__ == "__main__":
    main()
