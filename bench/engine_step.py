"""Engine step benchmark: the time of one `step` (an answer typed in the chat) on forms of growing size, with
notes, calculations (a running total, a sum over a repeat) and a `relevant` naming another section; the
expressions are parsed once when the form loads, so a step only walks their small trees.

    python bench/engine_step.py             # 20, 100 and 400 questions
    python bench/engine_step.py 50 1000     # other sizes
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conversations.answers import LOCAL_TZ  # noqa: E402
from conversations.engine import ReportInfo, State, Text, step  # noqa: E402
from conversations.form import load_form  # noqa: E402

NOW = datetime(2027, 3, 2, 9, 0, tzinfo=LOCAL_TZ)


def form_yaml(questions: int) -> str:
    """Sections of 10 questions: 8 integers, a note and a running total; then a repeat of 3 questions."""
    lines = ["id: bench", "title: Bench", "sections:"]
    sections = max(1, questions // 10)
    for s in range(sections):
        lines += [f"  - key: s{s}", f"    title: Mục {s + 1}", "    questions:"]
        for n in range(8):
            relevant = f", relevant: \"${{q0_0}} >= 0\"" if s and n == 0 else ""
            lines.append(f"      - {{key: q{s}_{n}, label: Câu {s}.{n}, prompt: \"Số {s}.{n}?\", type: integer{relevant}}}")
        lines.append(f"      - {{key: n{s}, label: \"Đã xong mục {s + 1}: ${{t{s}}}.\", type: note}}")
        total = " + ".join(f"${{q{s}_{n}}}" for n in range(8))
        previous = f" + ${{t{s - 1}}}" if s else ""
        lines.append(f"      - {{key: t{s}, label: Tổng {s}, type: calculate, calculation: \"{total}{previous}\"}}")
    lines += ["  - key: people", "    title: Người", "    repeat: {min: 0, max: 200, item: người}", "    questions:",
              "      - {key: name, label: Tên, prompt: \"Tên?\", type: text}",
              "      - {key: hours, label: Giờ, prompt: \"Giờ?\", type: integer}",
              "  - key: end", "    title: Cuối", "    questions:",
              "      - {key: hsum, label: Tổng giờ, type: calculate, calculation: \"sum(${hours})\"}",
              "      - {key: ok, label: Ghi chú, prompt: \"Ghi chú?\", type: text}"]
    return "\n".join(lines) + "\n"


def run(questions: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.yaml"
        path.write_text(form_yaml(questions), encoding="utf-8")
        started = time.perf_counter()
        form = load_form(path)
        load_ms = (time.perf_counter() - started) * 1000
    state = State(answers={}, report=ReportInfo(unit_name="Sở Tư pháp", deadline_at=datetime(2027, 3, 20, tzinfo=LOCAL_TZ)))
    state, _ = step(form, state, Text("/start"), NOW)
    asked = sum(1 for s in form.sections if s.repeat is None for q in s.asked)
    timings = []
    for n in range(asked - 1):
        started = time.perf_counter()
        state, _ = step(form, state, Text(str(n % 7)), NOW)
        timings.append(time.perf_counter() - started)
    for n in range(20):  # 20 people in the list
        for said in (f"Người {n}", "3", "có"):
            started = time.perf_counter()
            state, _ = step(form, state, Text(said), NOW)
            timings.append(time.perf_counter() - started)
    timings.sort()
    print(f"{questions:>5} questions, {len(state.answers):>4} answers stored: load {load_ms:7.1f} ms, step median "
          f"{timings[len(timings) // 2] * 1000:6.2f} ms, p95 {timings[int(len(timings) * 0.95)] * 1000:6.2f} ms, "
          f"max {timings[-1] * 1000:6.2f} ms")


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [20, 100, 400]:
        run(size)
