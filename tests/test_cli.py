"""The command line as a newcomer and the provincial IT person use it, in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from bot.reminders.plan import example_deadline
from conversations import texts
from conversations.form import QUESTION_TYPES

FULL_REPORT = """\
Nguyễn Thị Lan, 0912 345 678
Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789
Lê Thị Mai, Chuyên viên, 0987 654 321
1
7
{photo1}
Phạm Văn Nam; Chuyên viên; 0905.123.456
nam
40
{photo2}
xong
không có
Võ Thị Hoa, Văn thư, 0934 222 333
xong
125
Sở Tài chính, Cục Thuế tỉnh
12
Công an tỉnh
125
bỏ qua
40
bỏ qua
80
bỏ qua
60
bỏ qua
20
bỏ qua
có
Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị
bỏ qua
Rà soát TTHC; Rà soát 125 TTHC, đề xuất danh mục; 01/04/2017; 30/04/2017; riêng; Sở Nội vụ
xong
Chưa có trụ sở tạm cho bộ phận một cửa.
nộp
"""


def hcc(args: list[str], tmp_path: Path, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m bot ARGS` in tmp_path with an embedded database there."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HCC_")}
    full_env.update({"HCC_DATA_DIR": str(tmp_path / "data")}, **(env or {}))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, input=stdin, text=True,
                          capture_output=True, env=full_env, timeout=120)


def make_photo(path: Path, color: tuple[int, int, int]) -> Path:
    Image.new("RGB", (600, 800), color).save(path, "JPEG")
    return path


def test_demo__whole_report_from_a_script__submitted_and_shown_in_status(tmp_path):
    """A newcomer's first run: the whole report typed into `hcc-bot demo`, then `hcc-bot status` shows it."""
    script = FULL_REPORT.format(photo1=make_photo(tmp_path / "mai.jpg", (200, 30, 30)),
                                photo2=make_photo(tmp_path / "nam.jpg", (30, 30, 200)))
    demo = hcc(["demo"], tmp_path, stdin=script)
    assert 0 == demo.returncode, demo.stderr
    assert "Đã nộp báo cáo lúc" in demo.stdout
    assert texts.DEMO_BYE in demo.stdout
    assert "Đã ghi: Lê Thị Mai · Chuyên viên · 0987 654 321." in demo.stdout
    live = json.loads(hcc(["status", "--json"], tmp_path).stdout)
    assert (None, []) == (live["campaign"], live["units"])  # the demo never touches the real installation
    demo_data = {"HCC_DATA_DIR": str(tmp_path / "data" / "demo")}
    status = hcc(["status", "--json"], tmp_path, env=demo_data)
    assert 0 == status.returncode, status.stderr
    units = {u["code"]: u for u in json.loads(status.stdout)["units"]}
    assert "submitted" == units["STP"]["status"]
    assert "not_started" == units["SNV"]["status"]
    photos = list((tmp_path / "data" / "demo" / "photos").rglob("*.jpg"))
    assert 2 == len([p for p in photos if not p.name.endswith(".orig.jpg")])

    exported = hcc(["export", "--out", "out", "--units", "STP,SNV"], tmp_path, env=demo_data)
    assert 0 == exported.returncode, exported.stderr
    folder = next((tmp_path / "out").glob("tong-hop_1_*/"))
    assert exported.stdout.startswith(texts.CLI_EXPORT_DONE.format(units=2, folder=Path("out") / folder.name))
    assert (tmp_path / "out" / f"{folder.name}.zip").is_file()
    assert ["STP_CHINH_1_Le-Thi-Mai.jpg", "STP_CHINH_2_Pham-Van-Nam.jpg"] == \
        sorted(p.name for p in (folder / "anh-3x4" / "STP").iterdir())
    assert (folder / "the-nhan-su.pdf").is_file() and (folder / "bang-ten.pdf").is_file()
    # SNV never started: no empty document for it.
    assert {"bao-cao_STP.docx"} == {p.name for p in (folder / "bao-cao-don-vi").iterdir()}
    sheet = openpyxl.load_workbook(folder / "tong-hop.xlsx")[texts.SHEET_STATUS]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert texts.STATUS_LABELS["submitted"] == rows["STP"][2]
    assert texts.STATUS_LABELS["not_started"] == rows["SNV"][2]


def test_demo__asks_for_own_document__told_where_it_was_written(tmp_path):
    result = hcc(["demo"], tmp_path, stdin="Nguyễn Thị Lan, 0912 345 678\n\ntải báo cáo\n")
    assert 0 == result.returncode, result.stderr
    written = tmp_path / "data" / "demo" / "exports" / "don-vi" / "1" / "bao-cao_STP.docx"  # campaign #1
    assert texts.DEMO_FILE_WRITTEN.format(path=written) in result.stdout
    assert written.is_file()
    assert texts.UNSUPPORTED_MESSAGE not in result.stdout  # the empty line was not a message


def test_demo__restarted_midway__resumes_at_the_same_question(tmp_path):
    first = hcc(["demo"], tmp_path, stdin="Nguyễn Thị Lan, 0912 345 678\n")
    assert 0 == first.returncode, first.stderr
    second = hcc(["demo"], tmp_path, stdin="")
    assert texts.WELCOME_BACK.format(unit="Sở Tư pháp") in second.stdout
    assert "Họ và tên lãnh đạo phụ trách trực tiếp?" in second.stdout


def sample_units(tmp_path: Path) -> None:
    imported = hcc(["units", "import", "--sample", "--yes"], tmp_path)
    assert 0 == imported.returncode, imported.stderr


def test_invite__json__gives_code_unit_and_expiry(tmp_path):
    sample_units(tmp_path)
    result = hcc(["invite", "STP", "--json", "--days", "7", "--uses", "2"], tmp_path)
    assert 0 == result.returncode, result.stderr
    data = json.loads(result.stdout)
    assert "STP" == data["unit_code"]
    assert 8 == len(data["code"]) and set(data["code"]) <= set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
    assert 2 == data["max_uses"] and data["expires_at"]


def test_invite__unknown_unit__one_clear_line(tmp_path):
    sample_units(tmp_path)
    result = hcc(["invite", "NOPE"], tmp_path)
    assert 2 == result.returncode
    assert texts.CLI_UNIT_UNKNOWN.format(code="NOPE") == result.stderr.strip()


def test_campaign__create_then_show__deadline_in_local_time(tmp_path):
    created = hcc(["campaign", "create", "--title", "Báo cáo thử", "--deadline", "28/03/2017 16:30", "--force"], tmp_path)
    assert 0 == created.returncode, created.stderr
    shown = json.loads(hcc(["campaign", "show", "--json"], tmp_path).stdout)
    assert "Báo cáo thử" == shown["title"]
    assert "2017-03-28T16:30:00+07:00" == shown["deadline_at"]


def test_campaign__deadline_already_passed__refused_unless_forced(tmp_path):
    result = hcc(["campaign", "create", "--title", "X", "--deadline", "28/03/2017 16:30"], tmp_path)
    assert 2 == result.returncode
    assert texts.CLI_DEADLINE_PAST.format(deadline="16:30 ngày 28/03/2017") == result.stderr.strip()


@pytest.mark.parametrize(("text", "problem"), [
    pytest.param("id: x\ntitle: Báo cáo: quý 1\nsections: []\n",
                 texts.FORM_ERR_YAML.format(line=2, column=15, problem=texts.FORM_ERR_YAML_PROBLEMS[
                     "mapping values are not allowed here"]), id="yaml syntax"),
    pytest.param("id: x\ntitle: X\nsections:\n  - key: s\n    title: S\n    questions:\n"
                 "      - {key: sdt, label: Số điện thoại, prompt: 'Số?', type: telephone}\n",
                 "sections[0] (s).questions[0] (sdt).type: " + texts.FORM_ERR_TYPE.format(
                     type="telephone", types=", ".join(QUESTION_TYPES)), id="unknown type"),
])
def test_campaign_create__broken_form_file__one_vietnamese_line_and_nothing_created(tmp_path, text, problem):
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    result = hcc(["campaign", "create", "--title", "X", "--deadline", "28/03/2030 16:30", "--force",
                  "--form", str(broken)], tmp_path)
    assert 2 == result.returncode
    assert [f"{broken}: {problem}"] == result.stderr.splitlines()
    assert "" == result.stdout
    assert [] == json.loads(hcc(["campaign", "list", "--json"], tmp_path).stdout)


def test_campaign__bad_deadline__says_the_expected_format(tmp_path):
    result = hcc(["campaign", "create", "--title", "X", "--deadline", "mai"], tmp_path)
    assert 2 == result.returncode
    assert texts.CLI_DEADLINE_INVALID.format(value="mai", example=example_deadline()) == result.stderr.strip()


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"HCC_DATABASE_URL": "mysql://root@localhost/x"}, "HCC_DATABASE_URL"),
        ({"HCC_LISTEN": "localhost"}, "HCC_LISTEN"),
        ({"HCC_PUBLIC_URL": "bot.example"}, "HCC_PUBLIC_URL"),
        ({"HCC_FORM": "/nonexistent/form.yaml"}, "HCC_FORM"),
    ],
)
def test_start__bad_setting__one_line_naming_it(tmp_path, env, setting):
    result = hcc(["status"], tmp_path, env=env)
    assert 2 == result.returncode
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines)
    assert lines[0].startswith(texts.CLI_CONFIG_ERROR.format(problem=setting))


def test_start__broken_form__one_line_naming_file_and_field(tmp_path):
    form = tmp_path / "broken.yaml"
    form.write_text("id: x\ntitle: X\nsections:\n  - key: a\n    title: A\n    questions:\n"
                    "      - {key: q, label: Q, prompt: P, type: phon}\n", encoding="utf-8")
    result = hcc(["status"], tmp_path, env={"HCC_FORM": str(form)})
    assert 2 == result.returncode
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines)
    assert "broken.yaml" in lines[0] and "questions[0] (q).type" in lines[0] and "phon" in lines[0]


def test_start__unreachable_postgresql__one_line(tmp_path):
    result = hcc(["status"], tmp_path, env={"HCC_DATABASE_URL": "postgresql://u:secret@127.0.0.1:1/x"})
    assert 2 == result.returncode
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines)
    assert lines[0].startswith(texts.CLI_DATABASE_ERROR.format(problem=""))
    assert "secret" not in lines[0]


def test_demo__name_position_and_a_mobile_short_of_a_digit__name_and_position_kept_phone_asked_again(tmp_path):
    demo = hcc(["demo"], tmp_path, stdin="Nguyễn Thị Lan, 0912 345 678\n"
                                          "Hoàng Văn Long, Phó Giám đốc, 0905 123 45\n0905 123 456\n")
    assert 0 == demo.returncode, demo.stderr
    assert "Đã ghi: Hoàng Văn Long · Phó Giám đốc." in demo.stdout
    assert texts.PHONE_INVALID in demo.stdout
    assert "Đã lưu lãnh đạo: Hoàng Văn Long." in demo.stdout
    status = hcc(["export", "--out", "out", "--units", "STP", "--no-zip"], tmp_path,
                 env={"HCC_DATA_DIR": str(tmp_path / "data" / "demo")})
    assert 0 == status.returncode, status.stderr
    import openpyxl
    book = openpyxl.load_workbook(next((tmp_path / "out").rglob("*.xlsx")))
    staff = [[c.value for c in row] for row in book[texts.SHEET_STAFF].iter_rows(min_row=2)]
    assert any(row[5:8] == ["Hoàng Văn Long", "Phó Giám đốc", "0905 123 456"] for row in staff), staff


def test_start__bad_sslmode__one_line_naming_the_setting_and_the_values(tmp_path):
    result = hcc(["status"], tmp_path, env={"HCC_DATABASE_URL": "postgresql://u:secret@db/hcc?sslmode=on"})
    assert 2 == result.returncode
    assert [texts.CLI_CONFIG_ERROR.format(
        problem="HCC_DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, "
                "got 'on'")] == result.stderr.strip().splitlines()


def test_start__sslmode_require_on_a_server_without_tls__one_line_saying_so(tmp_path):
    url = os.environ.get("HCC_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HCC_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    result = hcc(["status"], tmp_path, env={"HCC_DATABASE_URL": f"{url}?sslmode=require"})
    assert 2 == result.returncode
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines)
    assert lines[0].startswith(texts.CLI_DATABASE_ERROR.format(problem="cannot reach the database at "))
    assert lines[0].endswith("rejected SSL upgrade")
