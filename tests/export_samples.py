"""Sample data for export tests: units filled through the real engine and form, with real badge photos."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image

from bot.photos import store_photo
from conversations.engine import Photo, ReportInfo, State, Text, step
from conversations.form import Form, load_form
from exports.data import ExportData, UnitReport

NOW = datetime(2017, 3, 28, 3, 0, tzinfo=timezone.utc)  # 10:00 on the due day
DEADLINE = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)

FULL_REPORT = [
    "Nguyễn Thị Lan, 0912 345 678",
    "Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789",
    "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "7", "PHOTO",
    "Phạm Văn Nam, Chuyên viên, 0905 123 456", "2", "40", "PHOTO",
    "Đỗ Thị Hạnh, Cán sự, 0934 111 222", "nữ", "9", "PHOTO",
    "xong",
    "Bùi Văn Long, Chuyên viên, 0977 333 444", "PHOTO",
    "Hồ Thị Thu, Chuyên viên, 0966 555 666", "PHOTO",
    "xong",
    "Võ Thị Hoa, Văn thư, 0934 222 333",
    "xong",
    "125", "Sở Tài chính, Cục Thuế tỉnh",
    "12", "Công an tỉnh, Sở Y tế",
    "125", "bỏ qua",
    "40", "bỏ qua",
    "80", "Bưu điện tỉnh",
    "60", "Bưu điện tỉnh",
    "20", "Bưu điện tỉnh",
    "không", "09:30 và 14:30", "Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa", "Cổng sau đóng sau 16:30.",
    "Rà soát TTHC; Rà soát 125 TTHC, đề xuất danh mục; 01/04/2017; 15/04/2017; riêng; Sở Nội vụ",
    "Đào tạo nhân sự; Tập huấn quy trình một cửa; 10/04/2017; 20/04/2017; chung; Sở Nội vụ, Bưu điện tỉnh",
    "Thử nghiệm phần mềm; Chạy thử phần mềm một cửa điện tử; 20/04/2017; 30/04/2017; chung; Sở Thông tin và Truyền thông",
    "Vận hành chính thức; Tiếp nhận hồ sơ tại Trung tâm; 02/05/2017; 31/05/2017; riêng",
    "xong",
    "Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan.",
    "nộp",
]

HALF_REPORT = [
    "Phan Văn Đức, 0916 222 333",
    "Lý Thị Ngọc, Giám đốc, 0918 444 555",
    "Trương Văn Bình, Thủ quỹ, 0919 666 777", "2", "41", "bỏ qua",
]

# Text that a spreadsheet would run as a formula, typed by a unit contact as a staff name and position (a name
# holds no digits, so its formulas are made of letters).
FORMULA_REPORT = [
    "=A+B",
    "0912 345 678",
    "+SUM(A:B)\n@cmd|' /C calc'!A0\n0913 456 789",
    "-A+B\n=HYPERLINK(\"http://x\",\"bấm\")\n0987 654 321",
]


def portrait(color: tuple[int, int, int]) -> bytes:
    """A 600x800 portrait with a real face (scikit-image's astronaut, framed as an ID photo), tinted with `color`
    so each photo is its own file; every badge has a face to find."""
    from tests.face_photos import id_photo

    buffer = io.BytesIO()
    id_photo(color).save(buffer, "JPEG")
    return buffer.getvalue()


def fill(form: Form, script: list[str], photos_dir: Path, unit_name: str, seed: int) -> tuple[UnitReport, ...]:
    """Run a script through the engine; the answers, the status and the stored badge photos."""
    state = State(answers={}, report=ReportInfo(unit_name, DEADLINE))
    photos: dict[int, Path] = {}
    state, _ = step(form, state, Text("/start"), NOW)
    for n, line in enumerate(script):
        if line == "PHOTO":
            stored = store_photo(photos_dir, portrait(((seed * 37 + n * 23) % 200, 90 + n % 100, 160)))
            photo_id = seed * 100 + n
            photos[photo_id] = stored.processed_path
            event = Photo(photo_id)
        else:
            event = Text(line)
        state, _ = step(form, state, event, NOW)
    return state, photos


def sample_export_data(tmp_path: Path, form: Form | None = None) -> ExportData:
    """Four units: one submitted in full, one half done, one not started, one that typed formulas."""
    form = form or load_form()
    photos_dir = tmp_path / "photos"
    units = []
    for seed, (code, name, script) in enumerate([
        ("STP", "Sở Tư pháp", FULL_REPORT),
        ("CTHUE", "Cục Thuế tỉnh", HALF_REPORT),
        ("BUUDIEN", "Bưu điện tỉnh", []),
        ("SYT", "Sở Y tế", FORMULA_REPORT),
    ], 1):
        if not script:
            units.append(UnitReport(code, name, "not_started", {}))
            continue
        state, photos = fill(form, script, photos_dir, name, seed)
        units.append(UnitReport(code, name, state.report.status, dict(state.answers),
                                state.report.submitted_at, NOW, False, photos))
    return ExportData(form=form, campaign_title="Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công tỉnh",
                      doc_ref="số 123/SNV-CCHC ngày 27/3/2017", deadline_at=DEADLINE, generated_at=NOW, units=units,
                      province="Đồng Nai")


MORE_UNITS = ["Sở Kế hoạch và Đầu tư", "Sở Tài chính", "Sở Công Thương", "Sở Nông nghiệp và Phát triển nông thôn",
              "Sở Giao thông vận tải", "Sở Xây dựng", "Sở Tài nguyên và Môi trường", "Sở Thông tin và Truyền thông",
              "Sở Lao động - Thương binh và Xã hội", "Sở Văn hóa, Thể thao và Du lịch", "Sở Khoa học và Công nghệ",
              "Sở Giáo dục và Đào tạo", "Sở Ngoại vụ", "Thanh tra tỉnh", "Ban Quản lý các Khu công nghiệp",
              "Kho bạc Nhà nước tỉnh", "Bảo hiểm xã hội tỉnh", "Công an tỉnh", "Cảnh sát Phòng cháy chữa cháy tỉnh",
              "Ban Dân tộc", "Sở Nội vụ"]


def realistic_export_data(tmp_path: Path, form: Form | None = None) -> ExportData:
    """A province on the due day: 3 units submitted in full, 1 half done, 21 not started (25 in all)."""
    import dataclasses

    data = sample_export_data(tmp_path, form)
    full = [dataclasses.replace(data.units[0], code=code, name=name)
            for code, name in [("STP", "Sở Tư pháp"), ("SYT", "Sở Y tế"), ("SGDDT", "Sở Giáo dục và Đào tạo")]]
    rest = [UnitReport(f"U{n:02d}", name, "not_started", {}) for n, name in enumerate(MORE_UNITS) if
            name != "Sở Giáo dục và Đào tạo"]
    return dataclasses.replace(data, units=[*full, data.units[1], *rest, UnitReport("BUUDIEN", "Bưu điện tỉnh",
                                                                                      "not_started", {})])
