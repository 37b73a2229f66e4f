"""The sheets of the XLSForm workbooks shipped with the bot: report.xlsx (the same form as report.yaml) and
training.xlsx, as rows of cells (pure; bot/form_files.py writes them with openpyxl).

    python -m bot.form_files      # rewrites both next to this file

report.xlsx is generated from report.yaml, so the two never drift apart (tests/test_xlsform.py loads both and
compares the forms). training.xlsx is written out here by hand, as an author would fill the sheets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FORMS = HERE = Path(__file__).parent
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
    columns = ["type", "name", "label::Vietnamese (vi)", "hcc::prompt", "hint::Vietnamese (vi)", "required",
               "required_message", "constraint", "constraint_message", "relevant", "appearance", "hcc::min",
               "hcc::max", "hcc::item", "hcc::personal"]
    rows = [
        {"type": "begin_group", "name": "contact", "label": "Người liên hệ của đơn vị"},
        {"type": "note", "name": "contact_intro",
         "label": "Người Sở Nội vụ liên hệ khi cần trao đổi về danh sách cử đi học."},
        {"type": "name", "name": "name", "label": "Họ và tên người liên hệ",
         "prompt": "Họ và tên người liên hệ của đơn vị?", "hint": "Ví dụ: Nguyễn Thị Lan.", "required": "yes",
         "required_message": "Vui lòng cho biết họ tên người liên hệ.", "personal": "yes"},
        {"type": "text", "appearance": "numbers", "name": "phone", "label": "Số điện thoại người liên hệ",
         "prompt": "Số điện thoại di động của người liên hệ?", "hint": "Ví dụ: 0912 345 678.", "required": "yes",
         "personal": "yes"},
        {"type": "end_group"},
        {"type": "begin_repeat", "name": "attendees", "label": "Cán bộ được cử tham gia", "min": 1, "max": 5,
         "item": "cán bộ"},
        {"type": "name", "name": "name", "label": "Họ và tên", "prompt": "Họ và tên cán bộ được cử đi học?",
         "hint": "Ví dụ: Trần Văn Hùng.", "required": "yes", "personal": "yes"},
        {"type": "text", "name": "position", "label": "Chức vụ", "prompt": "Chức vụ?", "hint": "Ví dụ: Chuyên viên.",
         "required": "yes", "constraint": "string-length(.) >= 3",
         "constraint_message": "Chức vụ cần ít nhất 3 ký tự, ví dụ: Chuyên viên.", "personal": "yes"},
        {"type": "phone", "name": "phone", "label": "Số điện thoại", "prompt": "Số điện thoại di động?",
         "hint": "Ví dụ: 0987 654 321.", "required": "yes", "personal": "yes"},
        {"type": "date", "name": "birth_date", "label": "Ngày sinh", "prompt": "Ngày sinh?",
         "hint": "Ví dụ: 15/08/1985.", "required": "yes", "personal": "yes"},
        {"type": "select_one gender", "name": "gender", "label": "Giới tính", "prompt": "Giới tính?",
         "required": "yes"},
        {"type": "decimal", "name": "years", "label": "Số năm công tác", "prompt": "Số năm công tác?",
         "hint": "Ví dụ: 12,5.", "required": "yes", "constraint": ". <= 45",
         "constraint_message": "Số năm công tác không quá 45, ví dụ: 12,5."},
        {"type": "select_one mode", "name": "mode", "label": "Hình thức tham gia",
         "prompt": "Hình thức tham gia lớp bồi dưỡng?", "required": "yes"},
        {"type": "text", "name": "venue_note", "label": "Đề nghị về chỗ ở",
         "prompt": "Đề nghị về chỗ ở khi học trực tiếp (nếu có)?", "hint": "Ví dụ: cần bố trí chỗ ở 3 đêm.",
         "required": "no", "relevant": "${mode} = 'truc_tiep' and ${years} >= 0"},
        {"type": "end_repeat"},
    ]
    short = {c: c.split("::")[-1] if c.startswith("hcc::") else c.split("::")[0] for c in columns}
    survey = [columns] + [[row.get(short[c], "") for c in columns] for row in rows]
    choices = [
        ["list_name", "name", "label::Vietnamese (vi)"],
        ["gender", "nu", "Nữ"],
        ["gender", "nam", "Nam"],
        ["mode", "truc_tiep", "Trực tiếp"],
        ["mode", "truc_tuyen", "Trực tuyến"],
    ]
    settings = [["form_title", "form_id", "version", "default_language"],
                ["Đăng ký cử cán bộ tham gia lớp bồi dưỡng", "training_registration", "2017032801", "Vietnamese (vi)"]]
    return {"survey": survey, "choices": choices, "settings": settings}
