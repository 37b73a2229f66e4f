"""Export benchmark: N units x 8 people with photos; prints time and peak memory per size, and the ratio.

Each size runs in its own process so that its peak memory is its own. Goal (issue 5):
time(2,000) / time(200) <= 11 and peak memory <= 500 MB at 2,000 units.

    python bench/export_scale.py            # 200 and 2,000 units
    python bench/export_scale.py 50 500     # other sizes
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
MIDDLE = ["Văn", "Thị", "Hữu", "Ngọc", "Minh", "Thanh"]
LAST = ["An", "Bình", "Chi", "Dũng", "Hạnh", "Hùng", "Lan", "Mai", "Nam", "Tâm", "Thu", "Yến"]


def person(n: int) -> str:
    return f"{FIRST[n % 10]} {MIDDLE[n // 10 % 6]} {LAST[n // 60 % 12]}"


def synthetic_data(units: int, photos_dir: Path):
    """ExportData for `units` units, each: 1 leader, 4 main staff, 2 backup staff, 1 postal contact, a plan."""
    from PIL import Image

    from bot.photos import store_photo
    from conversations.form import load_form
    from exports.data import ExportData, UnitReport

    form = load_form()
    distinct = []
    for n in range(40):  # 40 distinct badge photos, shared by everyone: the builders still copy/embed each use
        buffer = io.BytesIO()
        Image.new("RGB", (600, 800), (n * 6 % 255, 120, 200 - n * 3)).save(buffer, "JPEG", quality=90)
        distinct.append(store_photo(photos_dir, buffer.getvalue()).processed_path)
    reports = []
    for u in range(units):
        answers = {"reporter.name": person(u), "reporter.phone": "+84912345678",
                   "leader[1].name": person(u + 1), "leader[1].position": "Phó Giám đốc", "leader[1].phone": "+84913456789"}
        photos = {}
        for role, count in (("main_staff", 4), ("backup_staff", 2)):
            for i in range(1, count + 1):
                photo_id = u * 10 + i + (4 if role == "backup_staff" else 0)
                photos[photo_id] = distinct[photo_id % len(distinct)]
                answers.update({f"{role}[{i}].name": person(u * 7 + i), f"{role}[{i}].position": "Chuyên viên",
                                f"{role}[{i}].phone": "+84987654321", f"{role}[{i}].photo": photo_id})
                if role == "main_staff":
                    answers.update({f"{role}[{i}].gender": "nu" if i % 2 else "nam",
                                    f"{role}[{i}].shirt_size": "7" if i % 2 else "40"})
        answers.update({"postal_staff[1].name": person(u + 3), "postal_staff[1].position": "Văn thư",
                        "postal_staff[1].phone": "+84934222333"})
        for key, value in (("tthc_total", 120), ("tthc_linked", 10), ("public_services", 120), ("online_services", 40),
                           ("postal_return", 80), ("postal_receive", 60), ("postal_online", 20)):
            answers[f"procedures.{key}"] = value
            answers[f"procedures.{key}_partners"] = "Sở Tài chính, Bưu điện tỉnh"
        answers.update({"pickup.agree": True, "pickup.address": "Tầng 1, số 2 Nguyễn Văn Trị", "pickup.notes": None})
        for i in range(1, 5):
            answers.update({f"plan[{i}].content": f"Nội dung {i}", f"plan[{i}].detail": "Chi tiết công việc",
                            f"plan[{i}].start": "2017-04-01", f"plan[{i}].end": "2017-04-30",
                            f"plan[{i}].responsibility": "rieng", f"plan[{i}].partners": "Sở Nội vụ"})
        answers["issues.text"] = "Đề nghị bố trí kinh phí."
        now = datetime(2017, 3, 28, 3, 0, tzinfo=timezone.utc)
        reports.append(UnitReport(f"U{u:05d}", f"Đơn vị thử {u}", "submitted", answers, now, now, False, photos))
    return ExportData(form=form, campaign_title="Bench", doc_ref=None,
                      deadline_at=datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc),
                      generated_at=datetime(2017, 3, 28, 3, 0, tzinfo=timezone.utc), units=reports)


def run_one(units: int) -> dict:
    """Build one export of `units` units in this process; its figures."""
    from exports.build import build_export

    with tempfile.TemporaryDirectory() as tmp:
        data = synthetic_data(units, Path(tmp) / "photos")
        steps: dict[str, float] = {}
        last = [time.perf_counter(), None]

        def progress(step: str, done: int, total: int) -> None:
            if done == total:
                now = time.perf_counter()
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
                steps[step] = f"{now - last[0]:.1f}s/{peak}MB"  # time of the step / process peak after it
                last[0] = now

        steps["data"] = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}MB"
        started = time.perf_counter()
        last[0] = started
        result = build_export(data, Path(tmp) / "out", campaign_id=1, progress=progress)
        elapsed = time.perf_counter() - started
        size = sum(p.stat().st_size for p in result.folder.rglob("*") if p.is_file())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"units": units, "people": units * 8, "seconds": round(elapsed, 1), "peak_mb": round(peak_mb),
            "output_mb": round(size / 2**20), "steps": steps}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(run_one(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [200, 2000]
    figures = []
    for units in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(units)], capture_output=True, text=True, check=True)
        figure = json.loads(out.stdout.strip().splitlines()[-1])
        figures.append(figure)
        print(f"{units:>6} units ({figure['people']} people): {figure['seconds']:>7.1f} s, peak {figure['peak_mb']} MB, "
              f"output {figure['output_mb']} MB; steps {figure['steps']}", flush=True)
    if len(figures) >= 2:
        small, large = figures[0], figures[-1]
        ratio = large["seconds"] / small["seconds"]
        scale = large["units"] / small["units"]
        print(f"time({large['units']})/time({small['units']}) = {ratio:.1f} (x{scale:.0f} units; goal <= 11)")
        print(f"peak memory at {large['units']} units = {large['peak_mb']} MB (goal <= 500)")


if __name__ == "__main__":
    main(sys.argv[1:])
