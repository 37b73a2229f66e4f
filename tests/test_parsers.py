import datetime

import pytest

from conversations import texts
from conversations.parsers import (
    ParseError,
    clean_text,
    fold,
    format_date,
    format_options,
    format_phone,
    parse_choice,
    parse_date,
    parse_integer,
    parse_long_text,
    parse_phone,
    parse_text,
    parse_yes_no,
    parse_name, parse_times, split_compact, split_trailing_phone,
)

TODAY = datetime.date(2025, 6, 15)
GENDERS = [("male", "Nam"), ("female", "Nữ")]
LEVELS = [("province", "Cấp tỉnh"), ("district", "Cấp huyện"), ("commune", "Cấp xã")]


def error_of(function, *args, **kwargs) -> str:
    with pytest.raises(ParseError) as caught:
        function(*args, **kwargs)
    return caught.value.message


# --- fold ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Quay LẠI ", "quay lai"),
        ("Nữ", "nu"),
        ("Đồng ý", "dong y"),
        ("đĐ", "dd"),
        ("Bỏ\t\tqua\n", "bo qua"),
        ("Cấp   HUYỆN", "cap huyen"),
        ("Nguye\u0302\u0303n", "nguyen"),  # decomposed input
        ("", ""),
        ("abc", "abc"),
    ],
)
def test_fold__various_text__lowercase_ascii_single_spaces(raw, expected):
    assert expected == fold(raw)


# --- clean_text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn\u200b Văn\u200c A\u200d\u2060\ufeff", "Nguyễn Văn A"),
        ("\u202eabc\u202c \u200e\u200fx\u2066y\u2069", "abc xy"),
        ("a\x00b\x07c\x1bd", "abcd"),
        ("dòng 1\ndòng 2", "dòng 1 dòng 2"),
        ("a\tb  \t c", "a b c"),
        ("a\u00a0\u00a0b", "a b"),
        ("  Xin chào 👋🇻🇳  ", "Xin chào 👋🇻🇳"),
        ("Nguye\u0302\u0303n", "Nguyễn"),
        ("a\r\nb", "a b"),
    ],
)
def test_clean_text__single_line__invisible_removed_spaces_collapsed(raw, expected):
    assert expected == clean_text(raw, multiline=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"),
        ("a   \nb\t\n", "a\nb"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("a\n  \n \n\nb", "a\n\nb"),
        ("\n\n  đoạn\x00 một\u200b  \n", "đoạn một"),
        ("a\tb", "a b"),
    ],
)
def test_clean_text__multiline__newlines_kept_and_tidied(raw, expected):
    assert expected == clean_text(raw, multiline=True)


# --- parse_text / parse_long_text ---------------------------------------------------------------------


def test_parse_text__normal_name__cleaned_text():
    assert "Nguyễn Văn A" == parse_text("  Nguyễn  Văn A\u200b ")


@pytest.mark.parametrize("raw", ["", "   ", "\n\t "])
def test_parse_text__blank__empty_answer(raw):
    assert texts.EMPTY_ANSWER == error_of(parse_text, raw)


@pytest.mark.parametrize("raw", ["\u200b", "\u202e\u202c", "\x00\x01", " \ufeff "])
def test_parse_text__only_invisible_chars__not_printable(raw):
    assert texts.TEXT_NOT_PRINTABLE == error_of(parse_text, raw)


def test_parse_text__ten_thousand_chars__too_long():
    expected = texts.TEXT_TOO_LONG.format(length=10_000, max_len=300)
    assert expected == error_of(parse_text, "a" * 10_000)


def test_parse_text__exactly_max_len__accepted():
    assert "a" * 300 == parse_text("a" * 300)


def test_parse_text__custom_max_len__too_long():
    assert texts.TEXT_TOO_LONG.format(length=6, max_len=5) == error_of(parse_text, "abcdef", max_len=5)


def test_parse_text__emoji__kept():
    assert "Tốt lắm 👍😀" == parse_text("Tốt lắm 👍😀")


def test_parse_long_text__several_paragraphs__line_breaks_kept():
    assert "Ý kiến 1\n\nÝ kiến 2" == parse_long_text("Ý kiến 1\r\n\r\n\r\n\r\nÝ kiến 2  ")


def test_parse_long_text__ten_thousand_chars__too_long():
    expected = texts.TEXT_TOO_LONG.format(length=10_000, max_len=3000)
    assert expected == error_of(parse_long_text, "ý" * 10_000)


def test_parse_long_text__only_zero_width__not_printable():
    assert texts.TEXT_NOT_PRINTABLE == error_of(parse_long_text, "\u200b\n\u200b")


def test_parse_long_text__blank__empty_answer():
    assert texts.EMPTY_ANSWER == error_of(parse_long_text, "\n\n")


# --- parse_phone --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("0912-345-678", "+84912345678"),
        ("(091) 2345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084912345678", "+84912345678"),
        ("+84 (0) 912 345 678", "+84912345678"),
        ("0912\u00a0345\u00a0678", "+84912345678"),
        ("  0912 345 678\u200b ", "+84912345678"),
        ("０９１２３４５６７８", "+84912345678"),  # full-width digits
        ("0387 654 321", "+84387654321"),
        ("0868 123 456", "+84868123456"),
        # Viettel legacy
        ("0162 234 5678", "+84322345678"),
        ("0168 234 5678", "+84382345678"),
        ("01692345678", "+84392345678"),
        ("+84 168 234 5678", "+84382345678"),
        ("841662345678", "+84362345678"),
        # MobiFone legacy
        ("0120 234 5678", "+84702345678"),
        ("0121 234 5678", "+84792345678"),
        ("0122.234.5678", "+84772345678"),
        ("0126 234 5678", "+84762345678"),
        ("0128 234 5678", "+84782345678"),
        # VinaPhone legacy
        ("0123 234 5678", "+84832345678"),
        ("0124 234 5678", "+84842345678"),
        ("0125 234 5678", "+84852345678"),
        ("0127 234 5678", "+84812345678"),
        ("+84 129 234 5678", "+84822345678"),
        # Vietnamobile legacy
        ("0186 234 5678", "+84562345678"),
        ("0188-234-5678", "+84582345678"),
        # Gmobile legacy
        ("0199 234 5678", "+84592345678"),
        ("0084 199 234 5678", "+84592345678"),
    ],
)
def test_parse_phone__vietnamese_mobile__e164(raw, expected):
    assert expected == parse_phone(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 650 253 0000", texts.PHONE_FOREIGN),
        ("+86 138 0013 8000", texts.PHONE_FOREIGN),
        ("0086 138 0013 8000", texts.PHONE_FOREIGN),
        ("+44 20 7946 0958", texts.PHONE_FOREIGN),
        ("028 3829 1234", texts.PHONE_NOT_MOBILE),
        ("0251 3822 222", texts.PHONE_NOT_MOBILE),
        ("024 3825 3536", texts.PHONE_NOT_MOBILE),
        ("+84 28 3829 1234", texts.PHONE_NOT_MOBILE),
        ("091234567", texts.PHONE_INVALID),
        ("0912", texts.PHONE_INVALID),
        ("09123456789", texts.PHONE_INVALID),
        ("0912345678901234567890", texts.PHONE_INVALID),
        ("0912abc678", texts.PHONE_INVALID),
        ("không có", texts.PHONE_INVALID),
        ("0912 345 678 (Zalo)", texts.PHONE_INVALID),
        ("0912/345/678", texts.PHONE_INVALID),
        ("0912+345678", texts.PHONE_INVALID),
        ("+", texts.PHONE_INVALID),
        ("01302345678", texts.PHONE_INVALID),
        ("0552 345 678", texts.PHONE_INVALID),
        ("+999 123 456 789", texts.PHONE_INVALID),
        ("", texts.EMPTY_ANSWER),
        ("   ", texts.EMPTY_ANSWER),
    ],
)
def test_parse_phone__not_a_vietnamese_mobile__error_message(raw, expected):
    assert expected == error_of(parse_phone, raw)


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+84912345678", "0912 345 678"),
        ("+84382345678", "0382 345 678"),
        ("+16502530000", "+1 650-253-0000"),
        ("+8613800138000", "+86 138 0013 8000"),
        ("+842838291234", "028 3829 1234"),
        ("not a phone", "not a phone"),
        ("", ""),
    ],
)
def test_format_phone__stored_number__readable_text(e164, expected):
    assert expected == format_phone(e164)


def test_format_phone__parsed_number__round_trip():
    assert "0168 234 5678" != format_phone(parse_phone("0168 234 5678"))
    assert "0382 345 678" == format_phone(parse_phone("0168 234 5678"))


# --- parse_integer ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("0", 0),
        ("007", 7),
        ("1.200", 1200),
        ("1,200", 1200),
        ("1 200", 1200),
        ("1\u00a0200", 1200),
        ("12.345", 12345),
        ("100.000", 100_000),
        ("100000", 100_000),
    ],
)
def test_parse_integer__valid_number__value(raw, expected):
    assert expected == parse_integer(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("-5", texts.INTEGER_NEGATIVE),
        ("- 5", texts.INTEGER_NEGATIVE),
        ("-1.200", texts.INTEGER_NEGATIVE),
        ("3.5", texts.INTEGER_INVALID),
        ("1.20", texts.INTEGER_INVALID),
        ("1.2000", texts.INTEGER_INVALID),
        ("1.200,5", texts.INTEGER_INVALID),
        ("1.200.00", texts.INTEGER_INVALID),
        ("1,200.000", texts.INTEGER_INVALID),
        ("abc", texts.INTEGER_INVALID),
        ("12 thủ tục", texts.INTEGER_INVALID),
        ("+5", texts.INTEGER_INVALID),
        ("", texts.EMPTY_ANSWER),
        ("  ", texts.EMPTY_ANSWER),
        ("100001", texts.INTEGER_TOO_LARGE.format(value=100001, maximum=100_000)),
        ("1.000.000", texts.INTEGER_TOO_LARGE.format(value=1_000_000, maximum=100_000)),
    ],
)
def test_parse_integer__bad_number__error_message(raw, expected):
    assert expected == error_of(parse_integer, raw)


def test_parse_integer__custom_bounds__limits_applied():
    assert 5 == parse_integer("5", minimum=1, maximum=10)
    assert texts.INTEGER_INVALID == error_of(parse_integer, "0", minimum=1, maximum=10)
    assert texts.INTEGER_TOO_LARGE.format(value=11, maximum=10) == error_of(parse_integer, "11", maximum=10)


# --- parse_date / format_date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("28/03/2017", datetime.date(2017, 3, 28)),
        ("28/3/2017", datetime.date(2017, 3, 28)),
        ("1/2/2017", datetime.date(2017, 2, 1)),
        ("28-03-2017", datetime.date(2017, 3, 28)),
        ("28.03.2017", datetime.date(2017, 3, 28)),
        (" 28 / 3 / 2017 ", datetime.date(2017, 3, 28)),
        ("28/3/17", datetime.date(2017, 3, 28)),
        ("28/3", datetime.date(2025, 3, 28)),
        ("5.1", datetime.date(2025, 1, 5)),
        ("29/02/2016", datetime.date(2016, 2, 29)),
        ("29/02/2000", datetime.date(2000, 2, 29)),
        ("31/12/2024", datetime.date(2024, 12, 31)),
    ],
)
def test_parse_date__valid_date__date(raw, expected):
    assert expected == parse_date(raw, today=TODAY)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("29/02/2017", texts.DATE_NOT_EXIST.format(raw="29/02/2017", example="15/06/2025")),
        ("29/02/1900", texts.DATE_NOT_EXIST.format(raw="29/02/1900", example="15/06/2025")),
        ("29/2", texts.DATE_NOT_EXIST.format(raw="29/2", example="15/06/2025")),  # 2025 is not a leap year
        ("31/02/2017", texts.DATE_NOT_EXIST.format(raw="31/02/2017", example="15/06/2025")),
        ("00/3/2017", texts.DATE_NOT_EXIST.format(raw="00/3/2017", example="15/06/2025")),
        ("12/13/2017", texts.DATE_NOT_EXIST.format(raw="12/13/2017", example="15/06/2025")),
        ("  31/4/17 ", texts.DATE_NOT_EXIST.format(raw="31/4/17", example="15/06/2025")),
        ("hôm qua", texts.DATE_INVALID.format(example="15/06/2025")),
        ("28032017", texts.DATE_INVALID.format(example="15/06/2025")),
        ("28/03/217", texts.DATE_INVALID.format(example="15/06/2025")),
        ("2017-03-28", texts.DATE_INVALID.format(example="15/06/2025")),
        ("28", texts.DATE_INVALID.format(example="15/06/2025")),
        ("28/3/2017 sáng", texts.DATE_INVALID.format(example="15/06/2025")),
        ("", texts.EMPTY_ANSWER),
    ],
)
def test_parse_date__bad_date__error_message(raw, expected):
    assert expected == error_of(parse_date, raw, today=TODAY)


def test_parse_date__short_form_in_leap_year__february_29():
    assert datetime.date(2024, 2, 29) == parse_date("29/2", today=datetime.date(2024, 5, 1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.date(2017, 3, 28), "28/03/2017"),
        (datetime.date(2025, 1, 5), "05/01/2025"),
    ],
)
def test_format_date__date__dd_mm_yyyy(value, expected):
    assert expected == format_date(value)


# --- parse_choice / format_options --------------------------------------------------------------------


def test_format_options__two_options__numbered_list():
    assert "1 – Nam, 2 – Nữ" == format_options(GENDERS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "male"),
        ("2", "female"),
        (" 2 ", "female"),
        ("2.", "female"),
        ("2)", "female"),
        ("Nữ", "female"),
        ("nu", "female"),
        ("NỮ", "female"),
        ("nam", "male"),
        ("Nam.", "male"),
        ("female", "female"),
    ],
)
def test_parse_choice__gender__value(raw, expected):
    assert expected == parse_choice(raw, GENDERS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", "commune"),
        ("cấp huyện", "district"),
        ("cap  huyen", "district"),
        ("CẤP TỈNH", "province"),
    ],
)
def test_parse_choice__level__value(raw, expected):
    assert expected == parse_choice(raw, LEVELS)


@pytest.mark.parametrize("raw", ["3", "0", "-1", "nữ giới", "huyện", "1 2"])
def test_parse_choice__unknown_answer__choice_invalid(raw):
    expected = texts.CHOICE_INVALID.format(options="1 – Nam, 2 – Nữ")
    assert expected == error_of(parse_choice, raw, GENDERS)


def test_parse_choice__blank__empty_answer():
    assert texts.EMPTY_ANSWER == error_of(parse_choice, "  ", GENDERS)


# --- parse_yes_no -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["có", "Có", "CÓ", "co", "c", "có.", "Có!", "yes", "Y", "1", "ok", "OK", "Đồng ý", "dong y", "có đồng ý",
     "vâng", "dạ có", "có ạ", "Dạ có ạ."],
)
def test_parse_yes_no__yes_answer__true(raw):
    assert True is parse_yes_no(raw)


@pytest.mark.parametrize(
    "raw",
    ["không", "Không!", "KHÔNG", "khong", "k", "ko", "kg", "no", "N", "2", "không đồng ý", "không ạ", "dạ không"],
)
def test_parse_yes_no__no_answer__false(raw):
    assert False is parse_yes_no(raw)


@pytest.mark.parametrize("raw", ["có lẽ", "3", "maybe", "không biết", "có không"])
def test_parse_yes_no__unclear_answer__yes_no_invalid(raw):
    assert texts.YES_NO_INVALID == error_of(parse_yes_no, raw)


def test_parse_yes_no__blank__empty_answer():
    assert texts.EMPTY_ANSWER == error_of(parse_yes_no, "")


# --- split_compact ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Văn A, Phó Giám đốc, 0912 345 678", ["Nguyễn Văn A", "Phó Giám đốc", "0912 345 678"]),
        ("Nguyễn Văn A; Phó Giám đốc, Sở Nội vụ; 0912 345 678",
         ["Nguyễn Văn A", "Phó Giám đốc, Sở Nội vụ", "0912 345 678"]),
        ("Nguyễn Văn A\nPhó Giám đốc; Sở Nội vụ\n\n0912 345 678",
         ["Nguyễn Văn A", "Phó Giám đốc; Sở Nội vụ", "0912 345 678"]),
        ("a\r\nb", ["a", "b"]),
        ("0912 345 678", ["0912 345 678"]),
        ("  chỉ một câu  ", ["chỉ một câu"]),
        ("a,, b ,", ["a", "b"]),
        ("\n  a, b  \n\n", ["a", "b"]),
        ("", []),
        (" ; ; ", []),
        (" , , ", []),
    ],
)
def test_split_compact__message__parts(raw, expected):
    assert expected == split_compact(raw)


# --- Names and times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("Nguyễn Thị Lan", "Nguyễn Thị Lan"),
    ("  Đặng   Thị Thu Trang ", "Đặng Thị Thu Trang"),
    ("Nguyễn Thị Ánh-Tuyết", "Nguyễn Thị Ánh-Tuyết"),
])
def test_parse_name__a_name__cleaned(raw, expected):
    assert expected == parse_name(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Hoàng Văn Long 0905 123 45", texts.NAME_HAS_DIGITS),
    ("Lê Thị Mai 2", texts.NAME_HAS_DIGITS),
    ("Đặng Thị Thu Trang, Cán bộ", texts.NAME_HAS_SEPARATORS),
    ("Lan; Mai", texts.NAME_HAS_SEPARATORS),
    ("", texts.EMPTY_ANSWER),
])
def test_parse_name__digits_or_separators__refused_with_what_to_send(raw, expected):
    assert expected == error_of(parse_name, raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("8h30 và 14h00", "08:30, 14:00"),
    ("9:00, 14:00", "09:00, 14:00"),
    ("09:30 và 14:30", "09:30, 14:30"),
    ("14h30; 8h", "08:00, 14:30"),
    ("9 giờ 30 và 15 giờ", "09:30, 15:00"),
    ("7.45", "07:45"),
])
def test_parse_times__times_as_people_type_them__hh_mm_in_order(raw, expected):
    assert expected == parse_times(raw)


@pytest.mark.parametrize("raw", ["sáng và chiều", "25:00", "8h75", "lúc nào cũng được", "1, 2, 3, 4, 5, 6, 7"])
def test_parse_times__not_times__refused_with_an_example(raw):
    assert texts.TIMES_INVALID == error_of(parse_times, raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Nguyễn Văn An 0912 345 678", ("Nguyễn Văn An", "0912 345 678")),
    ("Nguyễn Văn An - 0912.345.678", ("Nguyễn Văn An", "0912.345.678")),
    ("Nguyễn Văn An", None),
    ("Phòng 2", None),
])
def test_split_trailing_phone__text__name_and_phone_or_none(raw, expected):
    assert expected == split_trailing_phone(raw)


# --- time, datetime, geopoint (issue 24) ---------------------------------------------------------------------

from conversations.parsers import parse_datetime, parse_geopoint, parse_time  # noqa: E402


@pytest.mark.parametrize(("raw", "expected"), [
    ("14:30", "14:30"), ("8:30", "08:30"), ("8h30", "08:30"), ("8h", "08:00"), ("8 giờ 30", "08:30"),
    ("08.15", "08:15"), ("20g", "20:00"), ("0:00", "00:00"), ("23:59", "23:59"),
])
def test_parse_time__as_people_write_it__hh_mm_24h(raw, expected):
    assert expected == parse_time(raw)


@pytest.mark.parametrize("raw", ["24:00", "8:60", "sáng", "8:30 sáng mai", "1230"])
def test_parse_time__not_a_time__message_with_an_example(raw):
    with pytest.raises(ParseError) as caught:
        parse_time(raw)
    assert texts.TIME_INVALID == caught.value.message and "08:30" in caught.value.message


@pytest.mark.parametrize(("raw", "expected"), [
    ("28/03/2017 14:30", "2017-03-28T14:30"), ("14:30 28/03/2017", "2017-03-28T14:30"),
    ("28/3 8h", "2017-03-28T08:00"), ("lúc 9h30 ngày 01/04/2017", "2017-04-01T09:30"),
])
def test_parse_datetime__date_and_time_either_order__iso_minutes(raw, expected):
    assert expected == parse_datetime(raw, today=datetime.date(2017, 3, 1))


@pytest.mark.parametrize("raw", ["28/03/2017", "14:30", "31/02/2017 8h", "28/03/2017 25:00", "mai"])
def test_parse_datetime__incomplete_or_impossible__message_with_an_example(raw):
    with pytest.raises(ParseError) as caught:
        parse_datetime(raw, today=datetime.date(2017, 3, 1))
    assert texts.DATETIME_INVALID == caught.value.message and "28/03/2017 14:30" in caught.value.message


@pytest.mark.parametrize(("raw", "expected"), [
    ("10.95, 106.82", {"lat": 10.95, "lon": 106.82}),
    ("10.95 106.82", {"lat": 10.95, "lon": 106.82}),
    ("-33.8688, 151.2093", {"lat": -33.8688, "lon": 151.2093}),
    ("https://www.google.com/maps/@10.9468,106.8242,17z", {"lat": 10.9468, "lon": 106.8242}),
    ("https://maps.google.com/?q=10.9468,106.8242", {"lat": 10.9468, "lon": 106.8242}),
])
def test_parse_geopoint__coordinates_or_map_link__lat_lon(raw, expected):
    assert expected == parse_geopoint(raw)


@pytest.mark.parametrize(("raw", "message"), [
    ("91, 106", texts.GEOPOINT_OUT_OF_RANGE), ("10, 181", texts.GEOPOINT_OUT_OF_RANGE),
    ("gần chợ Biên Hòa", texts.GEOPOINT_INVALID), ("https://maps.app.goo.gl/abc", texts.GEOPOINT_INVALID),
])
def test_parse_geopoint__out_of_range_or_unreadable__says_what_to_send(raw, message):
    with pytest.raises(ParseError) as caught:
        parse_geopoint(raw)
    assert message == caught.value.message
