"""The font, the 3x4 photo archive, and the print-ready badges and name tags (A4 PDF)."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from PIL import Image

from conversations import texts
from exports import fonts
from exports.badges import (BADGE_W, LEADING, LIST_ROWS_PER_PAGE, PT, Box, Face, badge_center_name, build_badges,
                            build_name_tags, fit_text, wrap)
from exports.data import ExportData, UnitReport
from exports.fonts import FontMissing, advance_widths, find_font
from exports.photo_archive import INDEX_NAME, build_photo_archive, photo_file_name
from tests.export_samples import sample_export_data

VIETNAMESE_LETTERS = ("ĂÂĐÊÔƠƯăâđêôơư"
                      "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
ALL_VIETNAMESE = VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper()
STP_FILES = ["STP/STP_CHINH_1_Le-Thi-Mai.jpg", "STP/STP_CHINH_2_Pham-Van-Nam.jpg", "STP/STP_CHINH_3_Do-Thi-Hanh.jpg",
             "STP/STP_DUPHONG_1_Bui-Van-Long.jpg", "STP/STP_DUPHONG_2_Ho-Thi-Thu.jpg"]
BADGE_NAMES = ["Lê Thị Mai", "Phạm Văn Nam", "Đỗ Thị Hạnh", "Bùi Văn Long", "Hồ Thị Thu"]
A4 = "[0 0 595.28 841.89]"
PDFTOTEXT = shutil.which("pdftotext")
CENTER_DONG_NAI = "TRUNG TÂM HÀNH CHÍNH CÔNG TỈNH ĐỒNG NAI"
NOT_SUBMITTED, NO_PHOTO = texts.BADGE_MISSING_NOT_SUBMITTED, texts.BADGE_MISSING_NO_PHOTO
# The sample's people without a badge by default: CTHUE and SYT have not submitted, and have no photo either.
SAMPLE_UNPRINTED = [("1", "Cục Thuế tỉnh", "Nhân sự chính", "Trương Văn Bình", NOT_SUBMITTED),
                    ("2", "Sở Y tế", "Nhân sự chính", "-A+B", NOT_SUBMITTED)]
SHIPPED_FONTS = fonts.SHIPPED_DIR  # before any test points it elsewhere


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> ExportData:
    return sample_export_data(tmp_path_factory.mktemp("sample"))


@pytest.fixture
def no_fonts_anywhere(monkeypatch, tmp_path):
    """Neither the shipped fonts nor any system font can be found."""
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    monkeypatch.delenv(fonts.BOLD_FONT_ENV, raising=False)
    monkeypatch.setattr(fonts, "SHIPPED_DIR", tmp_path / "no-shipped-fonts")
    monkeypatch.setattr(fonts, "SYSTEM_DIRS", [])


def ascii_font(path: Path) -> Path:
    """A valid TrueType font with glyphs for ASCII only."""
    names = [".notdef"] + [f"c{code}" for code in range(32, 127)]
    pen = TTGlyphPen(None)
    pen.moveTo((50, 0)), pen.lineTo((50, 700)), pen.lineTo((500, 700)), pen.lineTo((500, 0)), pen.closePath()
    glyph = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({code: f"c{code}" for code in range(32, 127)})
    builder.setupGlyf({name: glyph for name in names})
    builder.setupHorizontalMetrics({name: (600, 50) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Ascii Only", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))
    return path


# --- A small reader of the PDFs fpdf2 writes: pages, images, and the text layer through ToUnicode ---------


def pdf_objects(raw: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary, stream data decompressed, or None)."""
    objects = {}
    for m in re.finditer(rb"(\d+) 0 obj\s*(<<.*?>>)\s*(stream\r?\n|endobj)", raw, re.S):
        data = None
        if m[3].startswith(b"stream"):
            length = int(re.search(rb"/Length (\d+)", m[2])[1])
            data = raw[m.end():m.end() + length]
            if b"/FlateDecode" in m[2] and b"/Subtype /Image" not in m[2]:
                data = zlib.decompress(data)
        objects[int(m[1])] = (m[2], data)
    return objects


def literal_strings(content: bytes) -> list[tuple[bytes, bytes]]:
    """(font resource name, string bytes) of every `(...) Tj` in a content stream, escapes undone."""
    found, font, i = [], b"", 0
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < len(content):
        if content[i:i + 1] == b"/":
            m = re.match(rb"/(\w+) [\d.]+ Tf", content[i:])
            if m:
                font = m[1]
                i += m.end()
                continue
        if content[i:i + 1] == b"(":
            out, depth, i = bytearray(), 1, i + 1
            while True:
                c = content[i]
                if c == ord("\\"):
                    nxt = content[i + 1]
                    octal = re.match(rb"[0-7]{1,3}", content[i + 1:i + 4])
                    if octal:
                        out.append(int(octal[0], 8))
                        i += 1 + len(octal[0])
                        continue
                    out += escapes.get(nxt, bytes([nxt]))
                    i += 2
                    continue
                depth += (c == ord("(")) - (c == ord(")"))
                if depth == 0:
                    break
                out.append(c)
                i += 1
            found.append((font, bytes(out)))
        i += 1
    return found


def pdf_lines(path: Path) -> list[str]:
    """Every line of text drawn, decoded through each font's ToUnicode map, in drawing order."""
    objects = pdf_objects(path.read_bytes())
    fonts_by_name = {}
    for dictionary, _ in objects.values():
        for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", dictionary):
            font = objects[int(number)][0]
            cmap = objects[int(re.search(rb"/ToUnicode (\d+) 0 R", font)[1])][1]
            fonts_by_name[name] = {int(code, 16): chr(int(uni, 16))
                                   for code, uni in re.findall(rb"<([0-9A-F]{4})> <([0-9A-F]{4})>", cmap)}
    lines = []
    for dictionary, _ in objects.values():
        if b"/Type /Page\n" in dictionary:
            content = objects[int(re.search(rb"/Contents (\d+) 0 R", dictionary)[1])][1]
            for font, text in literal_strings(content):
                codes = [int.from_bytes(text[k:k + 2], "big") for k in range(0, len(text), 2)]
                lines.append("".join(fonts_by_name[font][code] for code in codes))
    return lines


def page_texts(path: Path) -> list[str]:
    """What a reader sees on each page, as pdftotext lays it out."""
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def listed(path: Path) -> list[tuple[str, ...]]:
    """The rows of the list of who got no badge: (STT, unit, role, name, reason)."""
    rows = []
    for page in page_texts(path):
        if texts.BADGE_MISSING_TITLE.upper() in page:
            rows += [tuple(cells) for line in page.splitlines()
                     if len(cells := re.split(r"\s{2,}", line.strip())) == 5 and cells[0].isdigit()]
    return rows


def submitted(unit: UnitReport) -> UnitReport:
    return replace(unit, status="submitted")


def page_count(path: Path) -> int:
    return len(re.findall(rb"/Type /Page\n", path.read_bytes()))


def images(path: Path) -> list[bytes]:
    """The dictionaries of the embedded images."""
    return [d for d, _ in pdf_objects(path.read_bytes()).values() if b"/Subtype /Image" in d]


def contents(path: Path) -> bytes:
    """All page content streams, decompressed."""
    raw = path.read_bytes()
    objects = pdf_objects(raw)
    return b"".join(objects[int(n)][1] for n in re.findall(rb"/Contents (\d+) 0 R", raw))


def photos_placed(path: Path) -> int:
    """How many times an image is drawn at 354 px / 300 dpi = 29.97 mm = 84.96 pt wide (300 dpi exactly)."""
    return len(re.findall(rb"q 84\.96 0 0 113\.28 [\d.]+ [\d.]+ cm /I\d+ Do Q", contents(path)))


# --- Font ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_shipped_font__vietnamese_sample__every_letter_in_cmap(bold):
    cmap = TTFont(SHIPPED_FONTS / fonts.SHIPPED[bold]).getBestCmap()
    assert "" == "".join(c for c in ALL_VIETNAMESE if ord(c) not in cmap)


def test_vietnamese_sample__letters__upper_and_lower_case_are_all_checked():
    assert set(ALL_VIETNAMESE) <= set(fonts.VIETNAMESE_SAMPLE)


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_find_font__no_setting__shipped_dejavu(monkeypatch, bold):
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    monkeypatch.delenv(fonts.BOLD_FONT_ENV, raising=False)
    assert SHIPPED_FONTS / fonts.SHIPPED[bold] == find_font(bold)


def test_find_font__hcc_font_covers_vietnamese__that_font_for_both_styles(monkeypatch, tmp_path):
    chosen = Path(shutil.copy(SHIPPED_FONTS / "DejaVuSans-Bold.ttf", tmp_path / "chosen.ttf"))
    monkeypatch.setenv(fonts.FONT_ENV, str(chosen))
    monkeypatch.delenv(fonts.BOLD_FONT_ENV, raising=False)
    assert (chosen, chosen) == (find_font(), find_font(bold=True))


def test_find_font__hcc_font_does_not_exist__one_line_error(monkeypatch, tmp_path, no_fonts_anywhere):
    monkeypatch.setenv(fonts.FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(FontMissing) as error:
        find_font()
    message = str(error.value)
    assert (1, True, True) == (len(message.splitlines()), message.startswith("HCC_FONT:"),
                               "fonts-dejavu-core" in message)


def test_find_font__hcc_font_without_vietnamese__one_line_error(monkeypatch, tmp_path, no_fonts_anywhere):
    monkeypatch.setenv(fonts.FONT_ENV, str(ascii_font(tmp_path / "ascii.ttf")))
    with pytest.raises(FontMissing) as error:
        find_font(bold=True)
    message = str(error.value)
    assert (1, True, True) == (len(message.splitlines()), "lacks Vietnamese letters" in message,
                               "HCC_FONT" in message)


def test_find_font__nothing_installed__one_line_error(no_fonts_anywhere):
    with pytest.raises(FontMissing) as error:
        find_font()
    message = str(error.value)
    assert (1, True) == (len(message.splitlines()), "install fonts-dejavu-core" in message)


def test_find_font__shipped_font_missing__system_font_that_covers_vietnamese(monkeypatch, tmp_path,
                                                                             no_fonts_anywhere):
    system = tmp_path / "system"
    (system / "truetype" / "ascii").mkdir(parents=True)
    (system / "truetype" / "dejavu").mkdir()
    ascii_font(system / "truetype" / "ascii" / "LiberationSans-Regular.ttf")  # a known name, but no Vietnamese
    shutil.copy(SHIPPED_FONTS / "DejaVuSans.ttf", system / "truetype" / "dejavu" / "DejaVuSans.ttf")
    monkeypatch.setattr(fonts, "SYSTEM_DIRS", [system])
    assert system / "truetype" / "dejavu" / "DejaVuSans.ttf" == find_font()


def test_find_font__only_a_font_without_vietnamese_on_the_system__one_line_error(monkeypatch, tmp_path,
                                                                                  no_fonts_anywhere):
    ascii_font(tmp_path / "DejaVuSans.ttf")  # right name, wrong letters
    monkeypatch.setattr(fonts, "SYSTEM_DIRS", [tmp_path])
    with pytest.raises(FontMissing) as error:
        find_font()
    assert 1 == len(str(error.value).splitlines())


# --- Photo file names and the archive --------------------------------------------------------------------


@pytest.mark.parametrize("args, expected", [
    (("STP", "main_staff", 1, "Lê Thị Mai"), "STP_CHINH_1_Le-Thi-Mai.jpg"),
    (("STP", "backup_staff", 2, "Đỗ Thị Hạnh"), "STP_DUPHONG_2_Do-Thi-Hanh.jpg"),
    (("UB_HUYEN-1", "main_staff", 10, "  Nguyễn   Thị Ánh-Tuyết (Tư) "),
     "UB_HUYEN-1_CHINH_10_Nguyen-Thi-Anh-Tuyet-Tu.jpg"),
    (("SYT", "leader", 1, "Ưng Hoàng Phúc"), "SYT_LD_1_Ung-Hoang-Phuc.jpg"),
    (("SYT", "main_staff", 1, "=1+2"), "SYT_CHINH_1_12.jpg"),
    (("SYT", "main_staff", 1, "@@ !!"), "SYT_CHINH_1.jpg"),
    (("SYT", "extra_staff", 3, "Lý Thị Ỷ"), "SYT_EXTRASTAFF_3_Ly-Thi-Y.jpg"),
], ids=["simple", "d-bar", "spaces-and-symbols", "leader", "formula", "nothing-left", "section-not-in-texts"])
def test_photo_file_name__person__ascii_name_without_diacritics(args, expected):
    assert expected == photo_file_name(*args)


def test_photo_file_name__very_long_name__name_part_cut_at_80_characters():
    assert "STP_CHINH_1_" + "A" * 80 + ".jpg" == photo_file_name("STP", "main_staff", 1, "A" * 300)


def test_build_photo_archive__sample__one_file_per_photo_named_after_the_person(data, tmp_path):
    written = build_photo_archive(data, tmp_path / "anh")
    expected = [INDEX_NAME] + STP_FILES
    assert expected == [p.relative_to(tmp_path / "anh").as_posix() for p in written]


def test_build_photo_archive__sample__jpegs_of_354x472(data, tmp_path):
    build_photo_archive(data, tmp_path / "anh")
    sizes = []
    for name in STP_FILES:
        with Image.open(tmp_path / "anh" / name) as image:
            sizes.append((image.format, image.size))
    assert [("JPEG", (354, 472))] * 5 == sizes


def test_build_photo_archive__stored_badge_jpeg__copied_byte_for_byte(data, tmp_path):
    build_photo_archive(data, tmp_path / "anh")
    stp = data.units[0]
    stored = stp.photos[stp.answers["main_staff[1].photo"]]
    assert stored.read_bytes() == (tmp_path / "anh" / STP_FILES[0]).read_bytes()


def test_build_photo_archive__sample__csv_maps_every_person_to_the_file(data, tmp_path):
    build_photo_archive(data, tmp_path / "anh")
    raw = (tmp_path / "anh" / INDEX_NAME).read_bytes()
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert raw.startswith(b"\xef\xbb\xbf")
    done, draft = texts.STATE_LABELS["submitted"], texts.STATE_LABELS["in_progress"]
    assert [[*texts.PHOTO_INDEX_COLUMNS[:3], texts.COL_STATUS, *texts.PHOTO_INDEX_COLUMNS[3:]],
            [STP_FILES[0], "STP", "Sở Tư pháp", done, "Nhân sự chính", "1", "Lê Thị Mai", "Chuyên viên", "0987 654 321"],
            [STP_FILES[1], "STP", "Sở Tư pháp", done, "Nhân sự chính", "2", "Phạm Văn Nam", "Chuyên viên",
             "0905 123 456"],
            [STP_FILES[2], "STP", "Sở Tư pháp", done, "Nhân sự chính", "3", "Đỗ Thị Hạnh", "Cán sự", "0934 111 222"],
            [STP_FILES[3], "STP", "Sở Tư pháp", done, "Nhân sự dự phòng", "1", "Bùi Văn Long", "Chuyên viên",
             "0977 333 444"],
            [STP_FILES[4], "STP", "Sở Tư pháp", done, "Nhân sự dự phòng", "2", "Hồ Thị Thu", "Chuyên viên",
             "0966 555 666"],
            ["", "CTHUE", "Cục Thuế tỉnh", draft, "Nhân sự chính", "1", "Trương Văn Bình", "Thủ quỹ", "0919 666 777"],
            ["", "SYT", "Sở Y tế", draft, "Nhân sự chính", "1", "'-A+B", "'=HYPERLINK(\"http://x\",\"bấm\")",
             "0987 654 321"],
            ] == rows


def test_build_photo_archive__stored_photo_of_another_size__refitted_to_354x472(data, tmp_path):
    odd = tmp_path / "odd.png"
    Image.new("RGB", (900, 900), (10, 120, 200)).save(odd)
    stp = data.units[0]
    unit = replace(stp, photos={**stp.photos, stp.answers["main_staff[1].photo"]: odd})
    build_photo_archive(replace(data, units=[unit]), tmp_path / "anh")
    with Image.open(tmp_path / "anh" / STP_FILES[0]) as image:
        assert ("JPEG", (354, 472), (300, 300)) == (image.format, image.size, tuple(map(round, image.info["dpi"])))


def test_build_photo_archive__photo_file_gone_from_disk__listed_without_file(data, tmp_path):
    stp = data.units[0]
    unit = replace(stp, photos={**stp.photos, stp.answers["main_staff[1].photo"]: tmp_path / "gone.jpg"})
    written = build_photo_archive(replace(data, units=[unit]), tmp_path / "anh")
    rows = list(csv.reader((tmp_path / "anh" / INDEX_NAME).read_text("utf-8-sig").splitlines()))
    assert (5, ["", "Lê Thị Mai"]) == (len(written), [rows[1][0], rows[1][6]])


def test_build_photo_archive__progress__reported_after_each_unit(data, tmp_path):
    calls = []
    build_photo_archive(data, tmp_path / "anh", progress=lambda done, total: calls.append((done, total)))
    assert [(1, 4), (2, 4), (3, 4), (4, 4)] == calls


# --- Badges ----------------------------------------------------------------------------------------------


def test_build_badges__sample_with_5_photos__a4_page_of_badges_then_the_list(data, tmp_path):
    [path] = build_badges(data, tmp_path / "the.pdf")
    raw = path.read_bytes()
    pages = page_texts(path)
    boxes = set(re.findall(rb"/MediaBox (\[[^]]*\])", raw))
    assert (tmp_path / "the.pdf", 2, {A4.encode()}) == (path, page_count(path), boxes)
    assert (True, False, True) == ("Lê Thị Mai" in pages[0], texts.BADGE_MISSING_TITLE.upper() in pages[0],
                                   texts.BADGE_MISSING_TITLE.upper() in pages[1])


def test_build_badges__sample__one_300_dpi_jpeg_per_badge_embedded_as_stored(data, tmp_path):
    [path] = build_badges(data, tmp_path / "the.pdf")
    raw = path.read_bytes()
    stored = [p.read_bytes() for p in data.units[0].photos.values()]
    found = images(path)
    assert (5, True, True) == (len(found), all(b"/Width 354" in d and b"/Height 472" in d and b"/DCTDecode" in d
                                               for d in found), all(jpeg in raw for jpeg in stored))
    assert 5 == photos_placed(path)


def test_build_badges__sample__vietnamese_names_in_the_text_layer(data, tmp_path):
    [path] = build_badges(data, tmp_path / "the.pdf")
    lines = pdf_lines(path)
    assert BADGE_NAMES == [line for line in lines if line in BADGE_NAMES]
    assert ([texts.BADGE_ROLE_MAIN] * 3 + [texts.BADGE_ROLE_BACKUP] * 2
            == [line for line in lines if line in (texts.BADGE_ROLE_MAIN, texts.BADGE_ROLE_BACKUP)])
    assert (5, 5) == (lines.count("Sở Tư pháp"), " ".join(lines).count(texts.BADGE_CENTER_NAME.split()[0]))


def test_build_badges__sample__dejavu_subsets_embedded(data, tmp_path):
    [path] = build_badges(data, tmp_path / "the.pdf")
    raw = path.read_bytes()
    assert ({b"DejaVuSansBook", b"DejaVuSansBold"}, 2) == (
        set(re.findall(rb"/FontName /[A-Z]{6}\+(\w+)", raw)), raw.count(b"/FontFile2"))


def test_build_badges__more_badges_than_a_file_holds__files_split_between_units(data, tmp_path):
    stp = data.units[0]
    units = [replace(stp, code=f"U{n}") for n in range(3)]  # 5 badges each
    written = build_badges(replace(data, units=units), tmp_path / "the.pdf", per_file=12)
    assert ([tmp_path / "the_1.pdf", tmp_path / "the_2.pdf"], [10, 5], [2, 1], False) == (
        written, [photos_placed(p) for p in written], [page_count(p) for p in written], (tmp_path / "the.pdf").exists())


def test_build_badges__no_one_to_print_or_list__no_file(data, tmp_path):
    """The unit that never started has no people: nothing to print, nobody to list."""
    assert ([], False) == (build_badges(replace(data, units=[data.units[2]]), tmp_path / "the.pdf"),
                           (tmp_path / "the.pdf").exists())


def test_build_badges__ten_badges__two_pages_of_nine_and_one(data, tmp_path):
    stp = data.units[0]
    [path] = build_badges(replace(data, units=[stp, replace(stp, code="X")]), tmp_path / "the.pdf")
    assert (2, 10, 5) == (page_count(path), photos_placed(path), len(images(path)))  # same photos: stored once


def test_build_badges__font_missing__fails_before_writing(data, tmp_path, no_fonts_anywhere):
    with pytest.raises(FontMissing):
        build_badges(data, tmp_path / "the.pdf")
    assert [] == list(tmp_path.glob("*.pdf"))


def test_build_badges__progress__reported_after_each_unit(data, tmp_path):
    calls = []
    build_badges(data, tmp_path / "the.pdf", progress=lambda done, total: calls.append((done, total)))
    assert [(1, 4), (2, 4), (3, 4), (4, 4)] == calls


def test_build_badges__name_with_a_character_the_font_lacks__left_out(data, tmp_path):
    stp = data.units[0]
    unit = replace(stp, answers={**stp.answers, "main_staff[1].name": "Lê Thị\u0890 Mai"})  # unassigned code point
    [path] = build_badges(replace(data, units=[unit]), tmp_path / "the.pdf")
    assert "Lê Thị Mai" in pdf_lines(path)


# --- Name tags -------------------------------------------------------------------------------------------


def test_build_name_tags__sample_with_5_main_staff__two_a4_pages(data, tmp_path):
    [path] = build_name_tags(data, tmp_path / "bang-ten.pdf", include_drafts=True)
    assert (2, True, []) == (page_count(path), f"/MediaBox {A4}".encode() in path.read_bytes(), images(path))


def test_build_name_tags__include_drafts__main_staff_of_every_unit_in_the_text_layer(data, tmp_path):
    [path] = build_name_tags(data, tmp_path / "bang-ten.pdf", include_drafts=True)
    lines = pdf_lines(path)
    expected = ["Lê Thị Mai", "Phạm Văn Nam", "Đỗ Thị Hạnh", "Trương Văn Bình", "-A+B"]
    assert expected == [line for line in lines if line in expected + ["Bùi Văn Long", "Hồ Thị Thu"]]
    assert (5, 1) == (lines.count(CENTER_DONG_NAI), lines.count("Cục Thuế tỉnh"))


def test_build_name_tags__by_default__submitted_units_only(data, tmp_path):
    [path] = build_name_tags(data, tmp_path / "bang-ten.pdf")
    text = " ".join(page_texts(path))
    assert ([True] * 3, False, False, 1) == ([n in text for n in BADGE_NAMES[:3]], "Trương Văn Bình" in text,
                                             "Cục Thuế tỉnh" in text, page_count(path))


def test_build_name_tags__only_draft_units__no_file(data, tmp_path):
    assert [] == build_name_tags(replace(data, units=data.units[1:]), tmp_path / "bang-ten.pdf")


def test_build_name_tags__province__in_the_title(data, tmp_path):
    [path] = build_name_tags(data, tmp_path / "bang-ten.pdf")
    assert [CENTER_DONG_NAI] * 3 == [line.strip() for line in page_texts(path)[0].splitlines()
                                     if "TRUNG TÂM" in line]


def test_build_name_tags__no_province__title_without_it(data, tmp_path):
    [path] = build_name_tags(replace(data, province=None), tmp_path / "bang-ten.pdf")
    assert 3 == pdf_lines(path).count(texts.NAME_TAG_TITLE.upper())


def test_build_name_tags__no_main_staff__no_file(data, tmp_path):
    assert [] == build_name_tags(replace(data, units=[data.units[2]]), tmp_path / "bang-ten.pdf")


# --- Fitting text in a box -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bold_face() -> Face:
    return Face(advance_widths(find_font(bold=True)))


def test_fit_text__short_name__largest_size_one_line(bold_face):
    assert (11.5, ["Lê Thị Mai"]) == fit_text(bold_face, "Lê Thị Mai", Box(0, 0, 50, 9.5), (11.5, 6), 2)


@pytest.mark.parametrize("text", [
    "Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Ngọc Huyền Trân",
    "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh Đồng Nai",
    "Nguyễnthịánhtuyếtnguyễnthịánhtuyếtnguyễnthịánhtuyếtnguyễnthịánhtuyết",
    "X" * 300,
], ids=["long-name", "long-unit", "one-long-word", "absurd"])
def test_fit_text__long_text__inside_the_box(bold_face, text):
    box = Box(0, 0, BADGE_W - 4, 9.5)
    size, lines = fit_text(bold_face, text, box, (11.5, 6), 2)
    widest = max(bold_face.width(line, size) for line in lines)
    assert (True, True) == (widest <= box.w, len(lines) * size * PT * LEADING <= box.h)


def test_fit_text__text_too_long_at_smallest_size__ends_with_ellipsis(bold_face):
    size, lines = fit_text(bold_face, "Trung tâm " * 40, Box(0, 0, 50, 6), (8, 6), 2)
    assert (6, 2, True) == (size, len(lines), lines[-1].endswith("…"))


def test_build_badges__photo_id_not_in_the_units_photos__listed_without_photo(data, tmp_path):
    """A photo answer whose stored photo is unknown (deleted, or another unit's) gives no badge."""
    unit = UnitReport("X", "Đơn vị X", "submitted", {"main_staff[1].name": "Lê Văn An", "main_staff[1].photo": 105})
    [path] = build_badges(replace(data, units=[unit]), tmp_path / "the.pdf")
    assert (0, [("1", "Đơn vị X", "Nhân sự chính", "Lê Văn An", NO_PHOTO)]) == (photos_placed(path), listed(path))


def test_build_photo_archive__damaged_stored_photo__listed_without_file(data, tmp_path):
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(b"not a jpeg")
    stp = data.units[0]
    unit = replace(stp, photos={**stp.photos, stp.answers["main_staff[1].photo"]: damaged})
    written = build_photo_archive(replace(data, units=[unit]), tmp_path / "anh")
    rows = list(csv.reader((tmp_path / "anh" / INDEX_NAME).read_text("utf-8-sig").splitlines()))
    assert (5, "", False) == (len(written), rows[1][0], (tmp_path / "anh" / STP_FILES[0]).exists())


def test_build_badges__damaged_stored_photo__that_badge_left_out(data, tmp_path):
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(b"not a jpeg")
    stp = data.units[0]
    unit = replace(stp, photos={**stp.photos, stp.answers["main_staff[1].photo"]: damaged})
    [path] = build_badges(replace(data, units=[unit]), tmp_path / "the.pdf")
    assert (4, False, [("1", "Sở Tư pháp", "Nhân sự chính", "Lê Thị Mai", NO_PHOTO)]) == (
        photos_placed(path), "Lê Thị Mai" in page_texts(path)[0], listed(path))


# --- Who gets a badge, and the list of who does not ------------------------------------------------------


def draft_with_photos(data: ExportData) -> UnitReport:
    """STP's five people with their photos, in a unit that has not submitted yet."""
    return replace(data.units[0], code="NHAP", name="Sở Nháp", status="in_progress")


def test_build_badges__province__in_every_badge_heading(data, tmp_path):
    [path] = build_badges(data, tmp_path / "the.pdf")
    lines = pdf_lines(path)
    headings = [" ".join(lines[n:n + 2]) for n, line in enumerate(lines) if line.startswith("TRUNG TÂM")]
    assert [CENTER_DONG_NAI] * 5 == headings


def test_build_badges__no_province__heading_without_it(data, tmp_path):
    [path] = build_badges(replace(data, province=None), tmp_path / "the.pdf")
    lines = pdf_lines(path)
    headings = [" ".join(lines[n:n + 2]) for n, line in enumerate(lines) if line.startswith("TRUNG TÂM")]
    assert [texts.BADGE_CENTER_NAME] * 5 == headings


def test_build_badges__draft_unit__staff_listed_not_printed(data, tmp_path):
    [path] = build_badges(replace(data, units=[data.units[0], draft_with_photos(data)]), tmp_path / "the.pdf")
    first = page_texts(path)[0]
    assert (5, ["Phạm Văn Nam"], False) == (photos_placed(path), [n for n in ["Phạm Văn Nam"] if n in first],
                                            "Sở Nháp" in first)
    assert [(str(n), "Sở Nháp", role, name, NOT_SUBMITTED) for n, (role, name) in enumerate(
        [("Nhân sự chính", n) for n in BADGE_NAMES[:3]] + [("Nhân sự dự phòng", n) for n in BADGE_NAMES[3:]], 1)
            ] == listed(path)


def test_build_badges__sample__drafts_listed_the_not_started_unit_not(data, tmp_path):
    [path] = build_badges(data, tmp_path / "the.pdf")
    assert (SAMPLE_UNPRINTED, False) == (listed(path), "Bưu điện tỉnh" in " ".join(page_texts(path)))


def test_build_badges__submitted_person_without_photo__listed_as_no_photo(data, tmp_path):
    stp = data.units[0]
    unit = replace(stp, answers={k: v for k, v in stp.answers.items() if k != "main_staff[2].photo"})
    [path] = build_badges(replace(data, units=[unit]), tmp_path / "the.pdf")
    assert (4, False, [("1", "Sở Tư pháp", "Nhân sự chính", "Phạm Văn Nam", NO_PHOTO)]) == (
        photos_placed(path), "Phạm Văn Nam" in page_texts(path)[0], listed(path))


def test_build_badges__include_drafts__drafts_printed_the_rest_listed_as_no_photo(data, tmp_path):
    units = [*data.units, draft_with_photos(data)]
    [path] = build_badges(replace(data, units=units), tmp_path / "the.pdf", include_drafts=True)
    badge_text = " ".join(page_texts(path)[:2])
    assert (10, 5) == (photos_placed(path), badge_text.count("Sở Nháp"))
    assert [row[:4] + (NO_PHOTO,) for row in SAMPLE_UNPRINTED] == listed(path)


def test_build_badges__only_drafts__the_pdf_holds_just_the_list(data, tmp_path):
    [path] = build_badges(replace(data, units=data.units[1:]), tmp_path / "the.pdf")
    raw = path.read_bytes()
    assert (1, [], SAMPLE_UNPRINTED) == (page_count(path), images(path), listed(path))
    assert ({b"DejaVuSansBook", b"DejaVuSansBold"}, f"/MediaBox {A4}".encode() in raw) == (
        set(re.findall(rb"/FontName /[A-Z]{6}\+(\w+)", raw)), True)
    assert [texts.BADGE_MISSING_TITLE.upper(), data.campaign_title, texts.BADGE_MISSING_COUNT.format(count=2),
            *texts.BADGE_MISSING_COLUMNS] == pdf_lines(path)[:8]


def test_build_badges__long_list__several_pages_each_with_the_heading(data, tmp_path):
    cthue = data.units[1]
    units = [replace(cthue, code=f"D{n}") for n in range(LIST_ROWS_PER_PAGE + 3)]
    [path] = build_badges(replace(data, units=units), tmp_path / "the.pdf")
    pages = page_texts(path)
    assert [(True, True, f"Trang {n}/2" in page) for n, page in enumerate(pages, 1)] == [
        (texts.BADGE_MISSING_TITLE.upper() in page, "Họ và tên" in page, True) for page in pages]
    assert [str(n) for n in range(1, LIST_ROWS_PER_PAGE + 4)] == [row[0] for row in listed(path)]
    assert (2, LIST_ROWS_PER_PAGE + 3) == (len(pages), len(listed(path)))


def test_build_badges__files_split__the_list_in_the_last_file(data, tmp_path):
    stp, cthue = data.units[:2]
    units = [replace(stp, code=f"U{n}") for n in range(3)] + [cthue]
    first, last = build_badges(replace(data, units=units), tmp_path / "the.pdf", per_file=12)
    assert ([], SAMPLE_UNPRINTED[:1], [2, 2]) == (listed(first), listed(last), [page_count(first), page_count(last)])


def test_build_badges__rows_of_the_list__inside_the_page(data, tmp_path):
    """A long unit name and a long name shrink or wrap inside their cells, never over the next column."""
    long_unit = "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh Đồng Nai"
    unit = replace(data.units[1], name=long_unit, answers={**data.units[1].answers,
                                                           "main_staff[1].name": "Tôn Nữ Hoàng Thị Phương Thảo"})
    [path] = build_badges(replace(data, units=[unit]), tmp_path / "the.pdf")
    text = " ".join(page_texts(path)[0].split())
    assert (True, True, True) == ("Văn phòng Đoàn đại biểu" in text, "Tôn Nữ Hoàng" in text, NOT_SUBMITTED in text)


# --- Balanced wrap: no word left alone on the last line --------------------------------------------------


def greedy_lines(face: Face, size: float, text: str, width: float) -> list[str]:
    """The plain greedy wrap (the fewest lines, top lines full)."""
    lines: list[str] = []
    for word in text.split():
        if lines and face.width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def test_wrap__greedy_would_leave_one_word__last_line_gets_two(bold_face):
    text = "Trung tâm Hành chính công tỉnh Đồng Nai"
    width = bold_face.width("Trung tâm Hành chính công tỉnh Đồng", 7.5) + 0.1
    lines = wrap(bold_face, 7.5, text, width)
    assert (["Trung tâm Hành chính công tỉnh Đồng", "Nai"], 2, True) == (
        greedy_lines(bold_face, 7.5, text, width), len(lines), " " in lines[-1])
    assert (text, True) == (" ".join(lines), all(bold_face.width(line, 7.5) <= width for line in lines))


def test_fit_text__center_name_with_province_at_badge_width__two_balanced_lines(bold_face):
    assert (8.5, ["TRUNG TÂM HÀNH CHÍNH", "CÔNG TỈNH ĐỒNG NAI"]) == fit_text(
        bold_face, badge_center_name("Đồng Nai"), Box(0, 0, BADGE_W - 5, 10), (8.5, 5.5), 2)


def test_fit_text__center_name_without_province__no_lone_word(bold_face):
    size, lines = fit_text(bold_face, texts.BADGE_CENTER_NAME, Box(0, 0, BADGE_W - 5, 10), (8.5, 5.5), 2)
    assert (8.5, 2, True) == (size, len(lines), all(" " in line for line in lines))


@pytest.mark.parametrize("text", [
    "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh Đồng Nai",
    "Ban Quản lý các Khu công nghiệp tỉnh Đồng Nai",
    "Sở Lao động - Thương binh và Xã hội",
    "Cảnh sát Phòng cháy chữa cháy tỉnh",
    "Tôn Nữ Hoàng Thị Phương Thảo",
    "Trung tâm Hành chính công tỉnh Bà Rịa - Vũng Tàu",
])
@pytest.mark.parametrize("width", [20.0, 30.0, 40.0, 50.0])
def test_wrap__any_text_and_width__fewest_lines_longest_line_shortest_no_lone_last_word(bold_face, text, width):
    size = 7.5
    lines = wrap(bold_face, size, text, width)
    words = text.split()
    fewest = greedy_lines(bold_face, size, text, width)
    # Every way to cut the words into that many lines whose last line holds 2+ words.
    cuts = _splits(words, len(fewest))
    fitting = [c for c in cuts if max(bold_face.width(line, size) for line in c) <= width and " " in c[-1]]
    best = min(max(bold_face.width(line, size) for line in c) for c in fitting)
    assert (text, len(fewest), True, True) == (
        " ".join(lines), len(lines), " " in lines[-1],
        abs(max(bold_face.width(line, size) for line in lines) - best) < 1e-3)


def _splits(words: list[str], count: int) -> list[list[str]]:
    if count == 1:
        return [[" ".join(words)]]
    return [[" ".join(words[:n])] + rest for n in range(1, len(words) - count + 2)
            for rest in _splits(words[n:], count - 1)]


def test_wrap__last_two_words_wider_than_the_width__one_word_on_the_last_line_rather_than_overflow(bold_face):
    lines = wrap(bold_face, 10, "Lê Thị Nguyễnthịánhtuyết", bold_face.width("Nguyễnthịánhtuyết", 10) + 1)
    assert ["Lê Thị", "Nguyễnthịánhtuyết"] == lines


def test_wrap__word_wider_than_the_width_or_more_lines_than_allowed__none(bold_face):
    assert (None, None) == (wrap(bold_face, 10, "Nguyễnthịánhtuyết", 10),
                            wrap(bold_face, 10, "Trung tâm Hành chính công", 20, max_lines=2))


def test_build_badges__long_unit_and_name__no_line_with_a_lone_word(data, tmp_path):
    """What pdftotext reads off a badge: every line (heading, name, position, unit, role) holds 2+ words."""
    stp = data.units[0]
    answers = {k: v for k, v in stp.answers.items() if k.startswith("main_staff[1].")}  # one badge
    answers["main_staff[1].name"] = "Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Ngọc Huyền Trân"
    unit = replace(stp, name="Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh Đồng Nai", answers=answers)
    [path] = build_badges(replace(data, units=[unit]), tmp_path / "the.pdf")
    lines = [line.strip() for line in page_texts(path)[0].splitlines() if line.strip()]
    assert (1, True, True) == (photos_placed(path), len(lines) >= 7, all(" " in line for line in lines))
    assert ["TRUNG TÂM HÀNH CHÍNH", "CÔNG TỈNH ĐỒNG NAI"] == lines[:2]


def test_build_photo_archive__draft_unit_with_a_photo__kept_apart_in_a_folder_named_for_why(data, tmp_path):
    """The archive's top holds the people of the badge sheet; a draft's photo is archived apart, and listed."""
    stp = data.units[0]
    draft = replace(stp, code="CTHUE", name="Cục Thuế tỉnh", status="in_progress")
    written = build_photo_archive(replace(data, units=[stp, draft]), tmp_path / "anh")
    names = [p.relative_to(tmp_path / "anh").as_posix() for p in written]
    aside = [f"{texts.PHOTO_ASIDE_NOT_SUBMITTED}/CTHUE/{name.split('/', 1)[1].replace('STP_', 'CTHUE_')}"
             for name in STP_FILES]
    assert [INDEX_NAME, *STP_FILES, *aside] == names
    rows = list(csv.reader((tmp_path / "anh" / INDEX_NAME).read_text(encoding="utf-8-sig").splitlines()))
    assert [aside[0], "CTHUE", "Cục Thuế tỉnh", texts.STATE_LABELS["in_progress"]] == rows[6][:4]
    badges_only = [n for n in names if n.startswith("STP/")]
    assert len(badges_only) == len(STP_FILES)  # the badge sheet's five people at the top, no one else
