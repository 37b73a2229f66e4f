"""Transcripts: what a person types and what the bot answers, through the real form file.

Each script is a list of (what the person sends, what the bot must say). What the bot must say is a list of
phrases the answer contains, or Exact(...) for the whole message as a channel without buttons shows it.
A reviewer who reads Vietnamese can follow the conversation top to bottom.
"""

from datetime import datetime

import pytest

from conversations import texts
from conversations.answers import LOCAL_TZ
from conversations.engine import (
    SUBMITTED, Event, Photo, PhotoRefused, ReportInfo, Start, State, Text, render_plain, step,
)
from conversations.form import load_form

FORM = load_form()
NOW = datetime(2017, 3, 28, 9, 0, tzinfo=LOCAL_TZ)
DEADLINE = datetime(2017, 3, 28, 16, 30, tzinfo=LOCAL_TZ)
START = Start()


class Exact(str):
    """The whole message, exactly."""


def options(*labels: str) -> str:
    """The numbered options line of a channel without buttons."""
    return texts.TYPE_A_NUMBER.format(options=", ".join(f"{n} – {label}" for n, label in enumerate(labels, 1)))


class Chat:
    """One contact talking to the engine; counts the bot's messages."""

    def __init__(self, unit: str):
        self.state = State(answers={}, report=ReportInfo(unit_name=unit, deadline_at=DEADLINE))
        self.messages = 0
        self.last = None

    def send(self, said: str | Event) -> str:
        event = Text(said) if isinstance(said, str) else said
        self.state, replies = step(FORM, self.state, event, NOW)
        assert 1 == len(replies), "one reply per event"
        self.messages += len(replies)
        self.last = replies[0]
        return render_plain(replies[0])

    def run(self, script: list) -> None:
        for n, (said, expected) in enumerate(script, 1):
            answer = self.send(said)
            if isinstance(expected, Exact):
                assert expected == answer, f"step {n}: {said!r}"
            else:
                absent = [phrase for phrase in expected if phrase not in answer]
                assert [] == absent, f"step {n}: after {said!r} the bot said:\n{answer}"


# --- Sở Tư pháp: a complete report --------------------------------------------------------------------------

PHOTO_QUESTION = "Ảnh 3x4 để in thẻ: chụp rõ mặt, nền sáng, ảnh dọc."
SMALL_PHOTO = texts.PHOTO_TOO_SMALL.format(width=120, height=160, min_width=300, min_height=400)
MAIN = "【I.2. Nhân sự chính tại trung tâm (từ 1 đến 10)】"
BACKUP = "【I.3. Nhân sự dự phòng tại trung tâm (từ 0 đến 10)】"
POSTAL = "【I.4. Nhân sự tiếp nhận - trả hồ sơ tại đơn vị với bưu điện (từ 1 đến 3)】"
PROCEDURES = "【II. Về quy trình tiếp nhận – chuyển hồ sơ】"
PICKUP = "【II. Lịch thu gom – giao nhận hồ sơ của bưu điện】"
PLAN = "【III. Kế hoạch chi tiết triển khai (từ 1 đến 20)】"

SO_TU_PHAP = [
    # Bà Hà, văn thư Sở Tư pháp, mở cuộc trò chuyện.
    (START, Exact(
        texts.WELCOME.format(unit="Sở Tư pháp", title=texts.DEFAULT_CAMPAIGN_TITLE, deadline="16:30 ngày 28/03/2017") + "\n\n"
        "【Người điền báo cáo】 · câu 1/2\n"
        "Để Sở Nội vụ biết cần liên hệ với ai khi cần làm rõ báo cáo.\n"
        "Họ và tên của bạn (người điền báo cáo)? Ví dụ: Nguyễn Thị Lan.\n"
        "Có thể gửi cả họ tên và số di động trong một tin, mỗi ý một dòng hoặc cách nhau bằng dấu phẩy.")),
    # Họ tên và số di động trong một tin, mỗi ý một dòng.
    ("Phạm Thị Thu Hà\n0912.345.678", [
        texts.COMPACT_ACK.format(summary="Phạm Thị Thu Hà · 0912 345 678"),
        "【I.1. Lãnh đạo phụ trách trực tiếp】", "Họ và tên lãnh đạo phụ trách trực tiếp?"]),
    # Lãnh đạo: họ tên, chức vụ, số di động cách nhau bằng dấu phẩy.
    ("Nguyễn Văn Tâm, Phó Giám đốc Sở, 0913 456 789", [
        texts.COMPACT_ACK.format(summary="Nguyễn Văn Tâm · Phó Giám đốc Sở · 0913 456 789"),
        texts.ITEM_SAVED_ONE.format(item="lãnh đạo", name="Nguyễn Văn Tâm"),
        MAIN, "Nhân sự chính thứ 1", "Họ và tên nhân sự chính?"]),
    # Nhân sự chính thứ 1: cách nhau bằng dấu chấm phẩy; chọn giới tính bằng chữ, cỡ áo bằng cỡ.
    ("Lê Thị Mai; Chuyên viên Phòng Hành chính tư pháp; 0987 654 321", [
        texts.COMPACT_ACK.format(summary="Lê Thị Mai · Chuyên viên Phòng Hành chính tư pháp · 0987 654 321"),
        "Giới tính", options("Nữ", "Nam")]),
    ("Nữ", ["Cỡ áo sơ mi may sẵn An Phước?", options("5", "7", "9", "12")]),
    ("9", [PHOTO_QUESTION, texts.HINT_DEFERRABLE]),
    (Photo(101), [texts.ITEM_SAVED.format(item="nhân sự chính", n=1, name="Lê Thị Mai"),
                  "Nhân sự chính thứ 2", texts.HINT_DONE.format(item="nhân sự chính")]),
    # Nhân sự chính thứ 2: nam, cỡ áo theo số thứ tự; ảnh đầu tiên quá nhỏ nên gửi lại.
    ("Trần Văn Bình, Chuyên viên, 0905 111 222", ["Giới tính"]),
    ("2", [options("38", "39", "40", "41", "42")]),
    ("40", [PHOTO_QUESTION]),
    (PhotoRefused(SMALL_PHOTO), Exact(
        f"{SMALL_PHOTO}\n\n{PHOTO_QUESTION}\n{texts.HINT_DEFERRABLE}")),
    (Photo(102), [texts.ITEM_SAVED.format(item="nhân sự chính", n=2, name="Trần Văn Bình"), "Nhân sự chính thứ 3"]),
    # Nhân sự chính thứ 3: số điện thoại dạng quốc tế.
    ("Hoàng Thị Ngọc Anh\nCán sự\n+84 976 333 444", [
        texts.COMPACT_ACK.format(summary="Hoàng Thị Ngọc Anh · Cán sự · 0976 333 444")]),
    ("nu", ["Cỡ áo"]),
    ("7", [PHOTO_QUESTION]),
    (Photo(103), [texts.ITEM_SAVED.format(item="nhân sự chính", n=3, name="Hoàng Thị Ngọc Anh"), "Nhân sự chính thứ 4"]),
    ("xong", [BACKUP, "Nhân sự dự phòng thứ 1", "Nhân sự thay thế khi nhân sự chính vắng",
              texts.HINT_NO_ITEMS.format(item="nhân sự dự phòng")]),
    # Ba nhân sự dự phòng (không hỏi cỡ áo); một số di động cũ 11 số được đổi sang đầu số mới.
    ("Phạm Văn Nam, Chuyên viên, 0905 123 456", [PHOTO_QUESTION]),
    (Photo(201), [texts.ITEM_SAVED.format(item="nhân sự dự phòng", n=1, name="Phạm Văn Nam")]),
    ("Đỗ Thị Hồng; Chuyên viên; 01685556677", [
        texts.COMPACT_ACK.format(summary="Đỗ Thị Hồng · Chuyên viên · 0385 556 677"), PHOTO_QUESTION]),
    (Photo(202), ["Nhân sự dự phòng thứ 3"]),
    ("Bùi Quang Huy, Văn thư, 0934 777 888", [PHOTO_QUESTION]),
    (Photo(203), ["Nhân sự dự phòng thứ 4", texts.HINT_DONE.format(item="nhân sự dự phòng")]),
    ("xong", [POSTAL, "Họ và tên người trực tiếp giao nhận hồ sơ với bưu điện"]),
    ("Võ Thị Hoa, Văn thư, 0934 222 333", [
        texts.ITEM_SAVED.format(item="nhân sự tiếp nhận - trả hồ sơ với bưu điện", n=1, name="Võ Thị Hoa")]),
    ("xong", [PROCEDURES, "gửi 0 nếu không có", "Tổng số thủ tục hành chính (TTHC) của đơn vị?"]),
    # II. Bảy loại thủ tục, mỗi loại có đơn vị liên thông.
    ("142", ["Các đơn vị liên thông đối với TTHC của đơn vị?", texts.HINT_OPTIONAL]),
    ("Sở Nội vụ, Công an tỉnh", ["Số TTHC liên thông?"]),
    ("18", ["Những đơn vị khác có trách nhiệm trong các TTHC liên thông?"]),
    ("Công an tỉnh, Sở Y tế, UBND cấp huyện", ["Số dịch vụ công?"]),
    ("142", ["Các đơn vị liên thông đối với dịch vụ công?"]),
    ("Sở Thông tin và Truyền thông", ["Số dịch vụ công trực tuyến?"]),
    ("36", ["Các đơn vị liên thông đối với dịch vụ công trực tuyến?"]),
    ("Sở Thông tin và Truyền thông", ["Số thủ tục trả kết quả qua bưu điện?"]),
    ("120", ["Các đơn vị liên thông đối với thủ tục trả kết quả qua bưu điện?"]),
    ("Bưu điện tỉnh", ["Số thủ tục nhận hồ sơ qua bưu điện?"]),
    ("95", ["Các đơn vị liên thông đối với thủ tục nhận hồ sơ qua bưu điện?"]),
    ("Bưu điện tỉnh", ["Số dịch vụ công trực tuyến kết hợp bưu điện?"]),
    ("20", ["Các đơn vị liên thông đối với DVC trực tuyến kết hợp bưu điện?"]),
    ("Bưu điện tỉnh, Sở Thông tin và Truyền thông", [
        PICKUP, "lần 1 lúc 10:00, lần 2 lúc 15:00", "có đồng ý", options(texts.YES, texts.NO)]),
    # Không đồng ý lịch 10:00 và 15:00: bot hỏi giờ đơn vị đề xuất.
    ("Không", ["Đơn vị đề xuất thu gom vào những giờ nào?"]),
    ("9:30 và 14:00", ["Địa chỉ giao nhận hồ sơ với bưu điện tại đơn vị"]),
    ("Bộ phận tiếp nhận và trả kết quả, tầng 1, số 10 đường 30/4, Biên Hòa", ["Ghi chú về lộ trình"]),
    ("Xe bưu điện vào cổng phụ đường Nguyễn Ái Quốc.", [PLAN, "Nội dung kế hoạch thứ 1", "Có thể gửi cả 6 ý"]),
    # III. Bốn nội dung kế hoạch, mỗi nội dung trong một tin.
    ("Rà soát, chuẩn hóa bộ TTHC\n"
     "Rà soát 142 TTHC, đề xuất danh mục đưa vào Trung tâm\n"
     "01/04/2017\n"
     "15/04/2017\n"
     "riêng\n"
     "Văn phòng UBND tỉnh", [
        texts.COMPACT_ACK.format(summary="Rà soát, chuẩn hóa bộ TTHC · Rà soát 142 TTHC, đề xuất danh mục đưa vào "
                                         "Trung tâm · 01/04/2017 · 15/04/2017 · Trách nhiệm riêng · Văn phòng UBND tỉnh"),
        texts.ITEM_SAVED.format(item="nội dung kế hoạch", n=1, name="Rà soát, chuẩn hóa bộ TTHC"),
        "Nội dung kế hoạch thứ 2"]),
    ("Xây dựng quy trình nội bộ; Quy trình tiếp nhận, chuyển hồ sơ giữa Trung tâm và Sở; 10/4; 30/4; riêng; "
     "Bưu điện tỉnh, Sở Nội vụ", [
        texts.ITEM_SAVED.format(item="nội dung kế hoạch", n=2, name="Xây dựng quy trình nội bộ")]),
    # Năm ý (chưa có đơn vị phối hợp): bot hỏi nốt ý thứ sáu.
    ("Niêm yết công khai TTHC; Niêm yết tại Trung tâm và trên Cổng thông tin điện tử của Sở; 15/4; 5/5; chung", [
        "Trách nhiệm chung", "Nội dung kế hoạch thứ 3", "Đơn vị phối hợp?"]),
    ("Văn phòng UBND tỉnh", [texts.ITEM_SAVED.format(item="nội dung kế hoạch", n=3, name="Niêm yết công khai TTHC")]),
    # Cách nhau bằng dấu phẩy; đơn vị phối hợp cuối tin có dấu phẩy riêng của nó.
    ("Tập huấn nhân sự, Tập huấn nghiệp vụ một cửa cho 6 nhân sự, 20/4/2017, 25/4/2017, chung, Sở Nội vụ, Bưu điện tỉnh", [
        texts.COMPACT_ACK.format(summary="Tập huấn nhân sự · Tập huấn nghiệp vụ một cửa cho 6 nhân sự · 20/04/2017 · "
                                         "25/04/2017 · Trách nhiệm chung · Sở Nội vụ, Bưu điện tỉnh"),
        "Nội dung kế hoạch thứ 5"]),
    ("xong", ["【IV. Khó khăn, kiến nghị khác】", "Khó khăn, kiến nghị của đơn vị"]),
    ("Đề nghị trang bị máy quét tài liệu cho quầy của Sở Tư pháp tại Trung tâm.", Exact(texts.END_READY)),
    # Xem lại toàn bộ trước khi nộp.
    ("xem lại", [
        texts.REVIEW_PROGRESS.format(done=9, total=9), texts.REVIEW_COMPLETE,
        "3. I.2. Nhân sự chính tại trung tâm: 3 nhân sự chính (Lê Thị Mai; Trần Văn Bình; Hoàng Thị Ngọc Anh)",
        "6. II. Về quy trình tiếp nhận – chuyển hồ sơ: 14/14 câu",
        texts.REVIEW_DETAIL_HINT, texts.END_READY]),
    # The detail of one section, by its number or its code in the template.
    ("xem lại 1", [
        "Người điền báo cáo\n- Người điền báo cáo: Phạm Thị Thu Hà\n- Số điện thoại người điền: 0912 345 678",
        texts.END_READY]),
    ("xem lại I.2", [
        "2. Tên: Trần Văn Bình; Chức vụ: Chuyên viên; Số điện thoại: 0905 111 222; Giới tính: Nam; Kích cỡ áo: 40; "
        "Ảnh 3x4: đã có ảnh", texts.END_READY]),
    ("xem lại 7", ["- Đồng ý thu gom 10:00 và 15:00: Không\n- Thời gian đơn vị đề xuất: 09:30, 14:00"]),
    ("nộp", Exact(texts.SUBMITTED.format(at="09:00 ngày 28/03/2017", deadline="16:30 ngày 28/03/2017"))),
]

SO_TU_PHAP_ANSWERS = {
    "reporter.name": "Phạm Thị Thu Hà",
    "reporter.phone": "+84912345678",
    "leader[1].name": "Nguyễn Văn Tâm",
    "leader[1].position": "Phó Giám đốc Sở",
    "leader[1].phone": "+84913456789",
    "main_staff[1].name": "Lê Thị Mai",
    "main_staff[1].position": "Chuyên viên Phòng Hành chính tư pháp",
    "main_staff[1].phone": "+84987654321",
    "main_staff[1].gender": "nu",
    "main_staff[1].shirt_size": "9",
    "main_staff[1].photo": 101,
    "main_staff[2].name": "Trần Văn Bình",
    "main_staff[2].position": "Chuyên viên",
    "main_staff[2].phone": "+84905111222",
    "main_staff[2].gender": "nam",
    "main_staff[2].shirt_size": "40",
    "main_staff[2].photo": 102,
    "main_staff[3].name": "Hoàng Thị Ngọc Anh",
    "main_staff[3].position": "Cán sự",
    "main_staff[3].phone": "+84976333444",
    "main_staff[3].gender": "nu",
    "main_staff[3].shirt_size": "7",
    "main_staff[3].photo": 103,
    "main_staff.__done__": True,
    "backup_staff[1].name": "Phạm Văn Nam",
    "backup_staff[1].position": "Chuyên viên",
    "backup_staff[1].phone": "+84905123456",
    "backup_staff[1].photo": 201,
    "backup_staff[2].name": "Đỗ Thị Hồng",
    "backup_staff[2].position": "Chuyên viên",
    "backup_staff[2].phone": "+84385556677",
    "backup_staff[2].photo": 202,
    "backup_staff[3].name": "Bùi Quang Huy",
    "backup_staff[3].position": "Văn thư",
    "backup_staff[3].phone": "+84934777888",
    "backup_staff[3].photo": 203,
    "backup_staff.__done__": True,
    "postal_staff[1].name": "Võ Thị Hoa",
    "postal_staff[1].position": "Văn thư",
    "postal_staff[1].phone": "+84934222333",
    "postal_staff.__done__": True,
    "procedures.tthc_total": 142,
    "procedures.tthc_total_partners": "Sở Nội vụ, Công an tỉnh",
    "procedures.tthc_linked": 18,
    "procedures.tthc_linked_partners": "Công an tỉnh, Sở Y tế, UBND cấp huyện",
    "procedures.public_services": 142,
    "procedures.public_services_partners": "Sở Thông tin và Truyền thông",
    "procedures.online_services": 36,
    "procedures.online_services_partners": "Sở Thông tin và Truyền thông",
    "procedures.postal_return": 120,
    "procedures.postal_return_partners": "Bưu điện tỉnh",
    "procedures.postal_receive": 95,
    "procedures.postal_receive_partners": "Bưu điện tỉnh",
    "procedures.postal_online": 20,
    "procedures.postal_online_partners": "Bưu điện tỉnh, Sở Thông tin và Truyền thông",
    "pickup.agree": False,
    "pickup.proposed_times": "09:30, 14:00",
    "pickup.address": "Bộ phận tiếp nhận và trả kết quả, tầng 1, số 10 đường 30/4, Biên Hòa",
    "pickup.notes": "Xe bưu điện vào cổng phụ đường Nguyễn Ái Quốc.",
    "plan[1].content": "Rà soát, chuẩn hóa bộ TTHC",
    "plan[1].detail": "Rà soát 142 TTHC, đề xuất danh mục đưa vào Trung tâm",
    "plan[1].start": "2017-04-01",
    "plan[1].end": "2017-04-15",
    "plan[1].responsibility": "rieng",
    "plan[1].partners": "Văn phòng UBND tỉnh",
    "plan[2].content": "Xây dựng quy trình nội bộ",
    "plan[2].detail": "Quy trình tiếp nhận, chuyển hồ sơ giữa Trung tâm và Sở",
    "plan[2].start": "2017-04-10",
    "plan[2].end": "2017-04-30",
    "plan[2].responsibility": "rieng",
    "plan[2].partners": "Bưu điện tỉnh, Sở Nội vụ",
    "plan[3].content": "Niêm yết công khai TTHC",
    "plan[3].detail": "Niêm yết tại Trung tâm và trên Cổng thông tin điện tử của Sở",
    "plan[3].start": "2017-04-15",
    "plan[3].end": "2017-05-05",
    "plan[3].responsibility": "chung",
    "plan[3].partners": "Văn phòng UBND tỉnh",
    "plan[4].content": "Tập huấn nhân sự",
    "plan[4].detail": "Tập huấn nghiệp vụ một cửa cho 6 nhân sự",
    "plan[4].start": "2017-04-20",
    "plan[4].end": "2017-04-25",
    "plan[4].responsibility": "chung",
    "plan[4].partners": "Sở Nội vụ, Bưu điện tỉnh",
    "plan.__done__": True,
    "issues.text": "Đề nghị trang bị máy quét tài liệu cho quầy của Sở Tư pháp tại Trung tâm.",
    # The highest number given in each list: numbers of deleted people are never given again.
    "leader.__last__": 1,
    "main_staff.__last__": 3,
    "backup_staff.__last__": 3,
    "postal_staff.__last__": 1,
    "plan.__last__": 4,
}


@pytest.fixture(scope="module")
def so_tu_phap() -> Chat:
    chat = Chat("Sở Tư pháp")
    chat.run(SO_TU_PHAP)
    return chat


def test_transcript__so_tu_phap_complete_report__every_answer_stored(so_tu_phap):
    assert SO_TU_PHAP_ANSWERS == dict(so_tu_phap.state.answers)


def test_transcript__so_tu_phap_complete_report__submitted_on_time(so_tu_phap):
    report = so_tu_phap.state.report
    assert (SUBMITTED, NOW, False) == (report.status, report.submitted_at, report.changed_since_submit)


def test_transcript__so_tu_phap_complete_report__at_most_80_bot_messages(so_tu_phap):
    """Zalo's free plan counts messages: one per event, and the whole report fits well within 80."""
    assert len(SO_TU_PHAP) == so_tu_phap.messages
    assert so_tu_phap.messages <= 80


def test_transcript__photo_question__reply_expects_a_photo():
    chat = Chat("Sở Tư pháp")
    chat.run(SO_TU_PHAP[:6])
    assert (True, ()) == (chat.last.expects_photo, chat.last.options)


# --- Kho bạc Nhà nước tỉnh: a photo sent later, found missing at submission -------------------------------

KHO_BAC = [
    (START, ["Kho bạc Nhà nước tỉnh", "Họ và tên của bạn"]),
    # Gửi từng ý một; gõ sai số điện thoại thì được nhắc và hỏi lại trong cùng một tin.
    ("Trần Minh Khoa", ["Số điện thoại di động của bạn?"]),
    ("0912 345", [texts.PHONE_INVALID, "Số điện thoại di động của bạn?"]),
    ("0912 345 679", ["Họ và tên lãnh đạo phụ trách trực tiếp?"]),
    ("Lý Văn Đức; Phó Giám đốc; 0913 000 111", ["Họ và tên nhân sự chính?"]),
    ("Ngô Thị Lan, Kiểm soát viên, 0987 000 222", ["Giới tính"]),
    ("nữ", ["Cỡ áo"]),
    # Gõ cỡ áo nam cho nhân sự nữ: không có trong danh sách.
    ("40", [texts.CHOICE_NOT_IN_LIST.format(raw="40"), "1 – 5, 2 – 7, 3 – 9, 4 – 12"]),
    ("12", [PHOTO_QUESTION]),
    # Chưa có ảnh: để gửi sau.
    ("bỏ qua", [texts.DEFERRED, "Nhân sự chính thứ 2"]),
    ("xong", ["Nhân sự dự phòng thứ 1"]),
    ("không có", [POSTAL]),
    ("Mai Văn Tú, Văn thư, 0934 000 333", ["Nhân sự tiếp nhận - trả hồ sơ với bưu điện thứ 2"]),
    ("xong", ["Tổng số thủ tục hành chính"]),
    ("35", ["Các đơn vị liên thông đối với TTHC"]),
    ("bỏ qua", ["Số TTHC liên thông?"]),
    # Số TTHC liên thông lớn hơn tổng số TTHC: bot lưu ý, người điền nhập lại.
    ("53", [texts.SOFT_WARNING.format(label="Thủ tục hành chính liên thông", value=53, other="Thủ tục hành chính",
                                      limit=35), options(texts.KEEP_VALUE.format(value=53), texts.REDO_VALUE)]),
    ("5", ["Những đơn vị khác có trách nhiệm trong các TTHC liên thông?"]),
    ("Sở Tài chính", ["Số dịch vụ công?"]),
    ("không có", ["Số dịch vụ công trực tuyến?"]),
    ("0", ["Số thủ tục trả kết quả qua bưu điện?"]),
    ("0", ["Số thủ tục nhận hồ sơ qua bưu điện?"]),
    ("0", ["Số dịch vụ công trực tuyến kết hợp bưu điện?"]),
    ("0", [PICKUP]),
    # Đồng ý lịch thu gom: không hỏi giờ đề xuất.
    ("có", ["Địa chỉ giao nhận hồ sơ với bưu điện tại đơn vị"]),
    ("Tầng trệt, số 5 Đồng Khởi, Biên Hòa", ["Ghi chú về lộ trình"]),
    ("không", ["Nội dung thực hiện?"]),
    ("Cập nhật quy trình thu ngân sách tại Trung tâm", ["Chi tiết công việc?"]),
    ("Bố trí quầy thu, kết nối với Cục Thuế", ["Ngày bắt đầu?"]),
    ("5/4", ["Ngày kết thúc?"]),
    # Ngày kết thúc trước ngày bắt đầu: lỗi, hỏi lại.
    ("1/4", [texts.DATE_BEFORE.format(start="05/04/2017", example="30/04/2017"), "Ngày kết thúc?"]),
    ("20/4", ["trách nhiệm riêng của đơn vị hay trách nhiệm chung?"]),
    ("chung", ["Đơn vị phối hợp?"]),
    ("Cục Thuế tỉnh", ["Nội dung kế hoạch thứ 2"]),
    ("xong", ["Khó khăn, kiến nghị của đơn vị"]),
    ("không có", [texts.END_MISSING.format(items="- I.2. Nhân sự chính tại trung tâm – Ngô Thị Lan: Ảnh 3x4")]),
    # Nộp khi còn thiếu ảnh: bot liệt kê phần thiếu; "bổ sung" đưa tới đúng câu hỏi ảnh.
    ("nộp", [texts.CANNOT_SUBMIT.format(items="- I.2. Nhân sự chính tại trung tâm – Ngô Thị Lan: Ảnh 3x4")]),
    ("bổ sung", ["Nhân sự chính thứ 1", PHOTO_QUESTION]),
    (Photo(7), [texts.END_READY]),
    ("nộp", [texts.SUBMITTED.format(at="09:00 ngày 28/03/2017", deadline="16:30 ngày 28/03/2017")]),
]


def test_transcript__kho_bac_deferred_photo__submitted_after_bo_sung():
    chat = Chat("Kho bạc Nhà nước tỉnh")
    chat.run(KHO_BAC)
    answers = chat.state.answers
    expected = (SUBMITTED, 7, "12", 5, None, True, "2017-04-20")
    assert expected == (chat.state.report.status, answers["main_staff[1].photo"], answers["main_staff[1].shirt_size"],
                        answers["procedures.tthc_linked"], answers["pickup.notes"], answers["pickup.agree"],
                        answers["plan[1].end"])
    assert "pickup.proposed_times" not in answers
    assert 0 == answers["procedures.public_services"]
    assert "procedures.public_services_partners" not in answers


# --- After submitting: edit, re-submit, then the deadline ---------------------------------------------------


def test_transcript__edit_after_submit__new_version_then_read_only_after_deadline(so_tu_phap):
    chat = Chat("Sở Tư pháp")
    chat.state = so_tu_phap.state
    chat.run([
        # Đổi số điện thoại của nhân sự chính thứ 2 sau khi đã nộp.
        ("sửa 3", [texts.MENU_ITEMS.format(section="I.2. Nhân sự chính tại trung tâm"), "2 – Trần Văn Bình"]),
        ("Trần Văn Bình", ["Số điện thoại: 0905 111 222"]),
        ("số điện thoại", ["Số điện thoại di động?", texts.CURRENT_VALUE.format(value="0905 111 222")]),
        ("0905 999 888", [texts.CHANGED_AFTER_SUBMIT, "Số điện thoại: 0905 999 888"]),
        ("xong", [texts.END_READY]),
    ])
    assert (SUBMITTED, True) == (chat.state.report.status, chat.state.report.changed_since_submit)
    later = datetime(2017, 3, 28, 10, 15, tzinfo=LOCAL_TZ)
    chat.state, replies = step(FORM, chat.state, Text("nộp"), later)
    assert texts.SUBMITTED.format(at="10:15 ngày 28/03/2017", deadline="16:30 ngày 28/03/2017") == replies[0].text
    assert (SUBMITTED, later, False) == (chat.state.report.status, chat.state.report.submitted_at,
                                         chat.state.report.changed_since_submit)
    after_deadline = datetime(2017, 3, 28, 17, 0, tzinfo=LOCAL_TZ)
    before = dict(chat.state.answers)
    chat.state, replies = step(FORM, chat.state, Text("sửa"), after_deadline)
    assert texts.READ_ONLY.format(deadline="16:30 ngày 28/03/2017") == replies[0].text
    assert before == chat.state.answers
