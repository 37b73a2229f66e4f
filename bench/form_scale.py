"""Form loading benchmark: an XLSForm of N questions (one group, each question's `relevant` naming the one before,
a choice list every tenth); prints the time to read, map and validate it, or the refusal and how long it took.

Goal (issue 22): 10,000 questions load in under 2 s; 100,000 rows are past the limits (bot/form_files.py: the
sheet decompresses past MAX_PART_MB, and has more than MAX_ROWS rows) and are refused in one line at once, from
the zip's directory, before anything is parsed.

    python bench/form_scale.py                # 1,000 / 10,000 / 100,000 rows
    python bench/form_scale.py 5000           # other sizes
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

from bot.form_files import load_form_file  # noqa: E402
from conversations.form import FormError, parse_form  # noqa: E402


def write_form(path: Path, n: int) -> None:
    """A workbook of n questions in one group (written once, not timed)."""
    book = Workbook(write_only=True)
    survey = book.create_sheet("survey")
    survey.append(["type", "name", "label", "required", "relevant"])
    survey.append(["begin_group", "g", "Nhóm câu hỏi", "", ""])
    for i in range(n):
        kind = "select_one yn" if i % 10 == 0 else "integer"
        survey.append([kind, f"q{i}", f"Câu hỏi số {i}", "yes", f"${{q{i - 1}}} != ''" if i else ""])
    survey.append(["end_group", "", "", "", ""])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["yn", "co", "Có"])
    choices.append(["yn", "khong", "Không"])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["Biểu mẫu lớn", "lon"])
    book.save(path)


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"form_{n}.xlsx"
            write_form(path, n)
            size_kb = path.stat().st_size / 1024
            start = time.perf_counter()
            try:
                form, raw = load_form_file(path)
            except FormError as exc:
                elapsed = time.perf_counter() - start
                print(f"{n:>7,} rows  {size_kb:8.0f} KB  refused in {elapsed:6.2f} s: {str(exc).split(': ', 1)[1]}")
                continue
            elapsed = time.perf_counter() - start
            start = time.perf_counter()
            parse_form(raw, path)
            validation = time.perf_counter() - start
            count = sum(len(s.questions) for s in form.sections)
            goal = "  (goal < 2 s: " + ("met" if elapsed < 2 else "MISSED") + ")" if n == 10_000 else ""
            print(f"{n:>7,} rows  {size_kb:8.0f} KB  {count:,} questions loaded in {elapsed:6.2f} s "
                  f"(of which validation alone {validation:.2f} s){goal}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
