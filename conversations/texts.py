"""Every system phrase the bot says, in Vietnamese with full diacritics.

Prompts and export labels live in the form file; everything else a person reads lives here, so that a
reviewer who reads Vietnamese checks one file, and tests import the same constants.
"""

# --- Parser errors: what was wrong and what to send instead -------------------------------------------

EMPTY_ANSWER = "Bạn chưa nhập nội dung. Vui lòng gửi câu trả lời (hoặc gõ “bỏ qua” nếu câu hỏi không bắt buộc)."
TEXT_TOO_LONG = "Nội dung quá dài ({length} ký tự). Vui lòng gửi tối đa {max_len} ký tự."
TEXT_NOT_PRINTABLE = "Nội dung chỉ gồm ký tự không đọc được. Vui lòng gõ lại bằng chữ thường."

PHONE_INVALID = (
    "Số điện thoại chưa đúng. Vui lòng gửi số di động Việt Nam gồm 10 chữ số, ví dụ: 0912 345 678."
)
PHONE_NOT_MOBILE = (
    "Đây không phải số di động. Vui lòng gửi số di động Việt Nam gồm 10 chữ số, ví dụ: 0912 345 678."
)
PHONE_FOREIGN = (
    "Chỉ nhận số di động Việt Nam. Vui lòng gửi số dạng 0912 345 678 hoặc +84 912 345 678."
)

INTEGER_INVALID = "Vui lòng gửi một số nguyên không âm (chỉ gồm chữ số), ví dụ: 12. Nếu không có, gửi 0."
INTEGER_NEGATIVE = "Số lượng không thể là số âm. Vui lòng gửi một số từ 0 trở lên, ví dụ: 12."
INTEGER_TOO_LARGE = "Số {value} quá lớn. Vui lòng gửi số không quá {maximum}."

DATE_INVALID = (
    "Ngày chưa đúng. Vui lòng gửi theo dạng ngày/tháng/năm, ví dụ: 28/03/2017 hoặc 28/3."
)
DATE_NOT_EXIST = "Ngày {raw} không có trên lịch. Vui lòng kiểm tra lại, ví dụ: 28/03/2017."

CHOICE_INVALID = "Lựa chọn chưa đúng. Vui lòng gửi số thứ tự hoặc tên của một lựa chọn: {options}."
YES_NO_INVALID = "Vui lòng trả lời “có” hoặc “không” (hoặc gõ 1 – Có, 2 – Không)."

# --- Photos -----------------------------------------------------------------------------------------

PHOTO_TOO_LARGE = "Ảnh quá lớn (trên {max_mb} MB). Vui lòng gửi ảnh nhỏ hơn, ví dụ chụp lại hoặc gửi ảnh đã nén."
PHOTO_EMPTY = "Tệp ảnh trống. Vui lòng gửi lại ảnh 3x4 (ảnh chụp rõ mặt, nền sáng)."
PHOTO_NOT_IMAGE = "Tệp này không phải là ảnh. Vui lòng gửi ảnh 3x4 định dạng JPG hoặc PNG."
PHOTO_BROKEN = "Ảnh bị lỗi hoặc chưa tải hết. Vui lòng gửi lại ảnh 3x4 (JPG hoặc PNG)."
PHOTO_TOO_MANY_PIXELS = "Ảnh có kích thước quá lớn ({width}×{height} điểm ảnh). Vui lòng gửi ảnh nhỏ hơn."
PHOTO_TOO_SMALL = (
    "Ảnh quá nhỏ ({width}×{height} điểm ảnh) để in thẻ. Vui lòng gửi ảnh ít nhất {min_width}×{min_height} "
    "điểm ảnh, chụp rõ mặt."
)
PHOTO_ANIMATED = "Ảnh động không dùng được để in thẻ. Vui lòng gửi một ảnh tĩnh 3x4 (JPG hoặc PNG)."

# --- Values and formats ---------------------------------------------------------------------------------

DATETIME_FORMAT = "{time} ngày {date}"
YES = "Có"
NO = "Không"
VALUE_SKIPPED = "(bỏ qua)"
VALUE_EMPTY = "(trống)"
VALUE_PHOTO = "đã có ảnh"
ITEM_ORDINAL = "{item} thứ {n}"
HEADER_LIMIT = " (từ {min} đến {max})"
TYPE_A_NUMBER = "Gõ {options}"

# --- Commands: what a person may type, with or without a slash, with or without diacritics -----------

COMMAND_WORDS = {
    "back": ["quay lại", "quaylai", "trở lại", "lùi", "back"],
    "skip": ["bỏ qua", "boqua", "skip"],
    "none": ["không có", "khong co gi", "không"],
    "done": ["xong", "đủ rồi", "hết", "done"],
    "review": ["xem lại", "xemlai", "xem", "review"],
    "edit": ["sửa", "sua", "chỉnh sửa", "edit"],
    "submit": ["nộp", "nop", "nộp báo cáo", "submit"],
    "missing": ["bổ sung", "bosung"],
    "help": ["trợ giúp", "trogiup", "hướng dẫn", "help", "?"],
    "start": ["start", "bắt đầu"],
}

HELP = (
    "Bạn trả lời từng câu hỏi, mỗi tin một câu trả lời. Các lệnh có thể gõ bất cứ lúc nào (có dấu hay không dấu đều được):\n"
    "- “quay lại”: về câu hỏi trước\n"
    "- “bỏ qua”: bỏ qua câu không bắt buộc (hoặc giữ nguyên câu trả lời cũ)\n"
    "- “xong”: đã đủ người / đủ nội dung trong mục đang nhập\n"
    "- “xem lại”: xem toàn bộ báo cáo và những phần còn thiếu\n"
    "- “sửa”: chọn mục để sửa, thêm hoặc xóa người, nội dung kế hoạch\n"
    "- “bổ sung”: nhập lần lượt các phần còn thiếu\n"
    "- “nộp”: nộp báo cáo cho Sở Nội vụ\n"
    "- “trợ giúp”: xem lại hướng dẫn này\n"
    "Mọi câu trả lời được lưu ngay: bạn có thể dừng và quay lại bất cứ lúc nào."
)

# --- The conversation ------------------------------------------------------------------------------------

WELCOME = (
    "Chào bạn! Mình là trợ lý của Sở Nội vụ, giúp {unit} gửi báo cáo chuẩn bị thành lập Trung tâm hành chính "
    "công tỉnh. Hạn nộp: {deadline}.\n"
    "Mình sẽ hỏi lần lượt từng câu; câu trả lời được lưu ngay. Gõ “trợ giúp” để xem các lệnh."
)
WELCOME_BACK = "Chào bạn quay lại! Báo cáo của {unit} vẫn được lưu đầy đủ; mình tiếp tục từ chỗ bạn dừng."
CURRENT_VALUE = "Đang lưu: {value}. Gửi câu trả lời mới, hoặc gõ “bỏ qua” để giữ nguyên."
HINT_OPTIONAL = "Gõ “bỏ qua” nếu không có."
HINT_DEFERRABLE = "Nếu chưa có ảnh, gõ “bỏ qua” để gửi sau (cần có trước khi nộp)."
HINT_DONE = "Nếu đã đủ {item}, gõ “xong” để sang mục tiếp theo."
ITEM_SAVED = "Đã lưu {item} thứ {n}: {name}."
ITEM_DELETED = "Đã xóa {name}."
COMPACT_ACK = "Đã ghi: {summary}."
COMPACT_COUNT = (
    "Mình đọc được {got} ý nhưng cần {expected} ý ({labels}). Vui lòng gửi lại đủ các ý, mỗi ý một dòng, "
    "hoặc gửi từng ý một."
)
COMPACT_PART_ERROR = "Ý thứ {n} ({label}) chưa đúng: {error}"
DATE_BEFORE = "Ngày kết thúc không được trước ngày bắt đầu ({start}). Vui lòng gửi lại ngày kết thúc, ví dụ: 30/04/2017."
SOFT_WARNING = (
    "Lưu ý: “{label}” ({value}) lớn hơn “{other}” ({limit}). Thường thì số này không vượt quá số kia. "
    "Bạn kiểm tra lại giúp mình nhé."
)
KEEP_VALUE = "Đúng, giữ {value}"
REDO_VALUE = "Nhập lại"
WARNING_NEEDS_CHOICE = "Bạn chọn giữ số vừa nhập hay nhập lại trước đã."
SKIP_REQUIRED = "Câu này bắt buộc, không bỏ qua được. Vui lòng trả lời."
DEFERRED = "Đã để lại, bạn gửi sau nhé (gõ “bổ sung” khi có)."
NEED_MIN_ITEMS = "Cần ít nhất {min} {item}. Vui lòng nhập tiếp."
DONE_NOT_HERE = "Bạn đang nhập dở một {item}: trả lời nốt câu này đã, hoặc gõ “sửa” để xóa."
NOTHING_TO_SKIP = "Không có câu hỏi nào để bỏ qua lúc này."
NOTHING_BEFORE = "Đây là câu hỏi đầu tiên, không có câu nào trước đó."
PHOTO_EXPECTED = "Câu này cần một ảnh 3x4: vui lòng gửi ảnh (hoặc gõ “bỏ qua” để gửi sau)."
PHOTO_NOT_EXPECTED = "Mình chưa cần ảnh ở câu này. Vui lòng trả lời bằng chữ."
UNSUPPORTED_MESSAGE = "Mình chỉ đọc được tin nhắn chữ và ảnh. Vui lòng trả lời bằng chữ (hoặc gửi ảnh khi được hỏi)."
STALE_BUTTON = "Nút này thuộc câu hỏi cũ. Vui lòng chọn trong câu hỏi dưới đây."
CHANGED_AFTER_SUBMIT = "Báo cáo đã nộp được sửa: nhớ gõ “nộp” để nộp lại bản mới."

END_MISSING = "Bạn đã trả lời hết các câu hỏi. Báo cáo còn thiếu:\n{items}\nGõ “bổ sung” để nhập tiếp các phần còn thiếu."
END_READY = "Bạn đã nhập đủ báo cáo. Gõ “xem lại” để kiểm tra, “sửa” để sửa, hoặc “nộp” để nộp cho Sở Nội vụ."
END_SUBMITTED = "Báo cáo đã được nộp lúc {at}. Gõ “xem lại” để xem, hoặc “sửa” nếu cần sửa và nộp lại."
END_HINT = "Mình không còn câu hỏi nào."

REVIEW_EMPTY_SECTION = "(chưa có)"
REVIEW_MISSING_HEADER = "CÒN THIẾU:"
REVIEW_COMPLETE = "Báo cáo đã đủ thông tin bắt buộc."
MISSING_ITEMS = "{section}: cần ít nhất {min} {item}"
MISSING_FIELD = "{section}: {label}"
MISSING_ITEM_FIELD = "{section} – {who}: {label}"

CANNOT_SUBMIT = "Chưa nộp được vì báo cáo còn thiếu:\n{items}\nGõ “bổ sung” để nhập các phần còn thiếu."
ALREADY_SUBMITTED = "Báo cáo đã được nộp lúc {at} và chưa có thay đổi nào mới."
SUBMITTED = (
    "Đã nộp báo cáo lúc {at}. Cảm ơn bạn! Sở Nội vụ đã nhận được.\n"
    "Bạn vẫn có thể gõ “sửa” để sửa và nộp lại trước {deadline}."
)
SUBMITTED_LATE = "Đã nộp báo cáo lúc {at} (sau hạn {deadline}). Cảm ơn bạn! Sở Nội vụ đã nhận được."
READ_ONLY = (
    "Đã quá hạn nộp ({deadline}): báo cáo chỉ còn xem được (gõ “xem lại”). "
    "Nếu cần sửa hoặc nộp, vui lòng liên hệ Sở Nội vụ để được mở lại."
)

# --- The edit menu --------------------------------------------------------------------------------------

MENU_SECTIONS = "Bạn muốn sửa mục nào?"
MENU_ITEMS = "{section}: chọn người/nội dung cần sửa, hoặc thêm mới."
MENU_FIELDS = "{title}: chọn thông tin cần sửa."
MENU_DONE = "Xong, quay về"
MENU_ADD = "Thêm {item}"
MENU_DELETE = "Xóa {item} này"
MENU_CONFIRM_DELETE = "Xóa “{name}” khỏi mục {section}?"
MENU_EXPECTS_CHOICE = "Vui lòng chọn một mục trong danh sách."
MENU_NO_SUCH_SECTION = "Không có mục số {n} (chỉ có 1 đến {count})."
DELETE_YES = "Xóa"
DELETE_NO = "Không xóa"

# --- Invites and first contact (the service) ----------------------------------------------------------

PRIVACY_NOTICE = (
    "Về dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP): trợ lý thu thập họ tên, chức vụ, số di động và ảnh 3x4 của "
    "nhân sự đơn vị, chỉ để Sở Nội vụ tổng hợp báo cáo, in thẻ, đặt áo và liên hệ công việc; dữ liệu được xóa "
    "khi kết thúc đợt báo cáo."
)
INVITE_PROMPT = (
    "Chào bạn! Đây là trợ lý của Sở Nội vụ thu thập báo cáo chuẩn bị thành lập Trung tâm hành chính công tỉnh.\n"
    "Vui lòng gửi mã mời mà Sở Nội vụ đã gửi cho đơn vị bạn (8 ký tự, ví dụ: K7QM-2PXW).\n\n" + PRIVACY_NOTICE
)
INVITE_WRONG = (
    "Mã mời “{code}” không đúng. Vui lòng kiểm tra lại: mã gồm 8 ký tự chữ và số (không có chữ O, I, L và số 0, 1), "
    "ví dụ: K7QM-2PXW. Nếu chưa có mã, vui lòng liên hệ Sở Nội vụ."
)
INVITE_EXPIRED = "Mã mời này đã hết hạn ngày {date}. Vui lòng xin Sở Nội vụ mã mới."
INVITE_REVOKED = "Mã mời này đã bị thu hồi. Vui lòng xin Sở Nội vụ mã mới."
INVITE_USED_UP = "Mã mời này đã được dùng đủ {max_uses} lần. Vui lòng xin Sở Nội vụ mã mới."
INVITE_SLOW_DOWN = "Bạn đã nhập sai mã mời nhiều lần. Vui lòng thử lại sau {minutes} phút."
BOUND_UNIT = "Xác nhận: bạn là người liên hệ của {unit}."
BOUND_ADMIN = "Xác nhận: bạn là cán bộ Sở Nội vụ theo dõi đợt báo cáo."
NO_CAMPAIGN = "Hiện chưa có đợt báo cáo nào đang mở. Vui lòng liên hệ Sở Nội vụ."
SAVE_FAILED = (
    "Xin lỗi, hệ thống tạm thời không lưu được câu trả lời của bạn. Vui lòng gửi lại sau ít phút; "
    "những gì bạn đã gửi trước đó vẫn được giữ nguyên."
)

# --- Admins (Sở Nội vụ) -------------------------------------------------------------------------------

ADMIN_COMMAND_WORDS = {
    "status": ["tình hình", "tinhhinh", "trạng thái", "status"],
    "help": ["trợ giúp", "trogiup", "hướng dẫn", "help", "start"],
}
ADMIN_HELP = (
    "Các lệnh dành cho Sở Nội vụ:\n"
    "- “tình hình”: tình hình nộp báo cáo của tất cả đơn vị\n"
    "- “trợ giúp”: xem lại hướng dẫn này"
)
STATUS_LABELS = {
    "not_started": "chưa bắt đầu",
    "in_progress": "đang nhập",
    "submitted": "đã nộp",
    "submitted_late": "nộp muộn",
}
STATUS_OVERDUE = "quá hạn"
STATUS_HEADER = "TÌNH HÌNH NỘP BÁO CÁO – {title}\nHạn nộp: {deadline}. Đã nộp {submitted}/{total} đơn vị."
STATUS_GROUP = "{label} ({count}):"
STATUS_LINE = "- {code} {name}{detail}"
STATUS_SUBMITTED_AT = " – nộp lúc {at}"
STATUS_LAST_ACTIVITY = " – cập nhật {at}"
STATUS_NO_CONTACT = " – chưa có người liên hệ"

# --- Terminal demo and command line -------------------------------------------------------------------

DEMO_BANNER = (
    "Chế độ thử trên máy tính: bạn là người liên hệ của {unit} ({code}). Gõ câu trả lời rồi nhấn Enter; "
    "với câu hỏi ảnh, gõ đường dẫn tới tệp ảnh. Ctrl+D để thoát; lần sau chạy lại sẽ tiếp tục từ chỗ dừng."
)
DEMO_PHOTO_HINT = "(Gõ đường dẫn tới tệp ảnh trên máy, ví dụ: ./anh/le-thi-mai.jpg)"
DEMO_FILE_NOT_FOUND = "Không đọc được tệp ảnh “{path}”. Vui lòng gõ đúng đường dẫn tới tệp ảnh."
DEMO_BYE = "Đã lưu. Hẹn gặp lại!"
CLI_RUN_NO_CHANNEL = (
    "Chưa cấu hình kênh nào (HCC_ZALO_BOT_TOKEN hoặc HCC_TELEGRAM_TOKEN). "
    "Để thử ngay trên máy tính, chạy: hcc-bot demo"
)
CLI_UNITS_IMPORTED = "Đã nhập {created} đơn vị mới, cập nhật {updated} đơn vị từ {path}."
CLI_UNIT_UNKNOWN = "Không có đơn vị mã “{code}”. Xem danh sách: hcc-bot units list"
CLI_INVITE_CREATED = "Mã mời cho {who}: {code} (hết hạn {expires}, dùng được {max_uses} lần)."
CLI_INVITE_ADMIN = "cán bộ Sở Nội vụ (quản trị)"
CLI_INVITE_REVOKED = "Đã thu hồi mã mời {code}."
CLI_INVITE_NOT_FOUND = "Không có mã mời “{code}”."
CLI_CAMPAIGN_CREATED = "Đã tạo đợt báo cáo #{id}: {title}, hạn nộp {deadline}."
CLI_CAMPAIGN_NONE = "Chưa có đợt báo cáo nào. Tạo mới: hcc-bot campaign create --title \"...\" --deadline \"28/03/2017 16:30\""
CLI_CAMPAIGN_SHOW = "Đợt báo cáo #{id}: {title}\nVăn bản: {doc_ref}\nHạn nộp: {deadline}\nBiểu mẫu: {form_id}"
CLI_DEADLINE_INVALID = "Hạn nộp “{value}” chưa đúng: cần dạng \"dd/mm/yyyy HH:MM\", ví dụ \"28/03/2017 16:30\"."
CLI_REOPENED = "Đã mở lại báo cáo của {unit}: đơn vị có thể sửa và nộp lại sau hạn."
CLI_CLOSED = "Đã khóa lại báo cáo của {unit}."
CLI_CONFIG_ERROR = "Lỗi cấu hình: {problem}"
CLI_FORM_ERROR = "Lỗi tệp biểu mẫu: {problem}"
CLI_DATABASE_ERROR = "Lỗi cơ sở dữ liệu: {problem}"
DEFAULT_CAMPAIGN_TITLE = "Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công tỉnh"
DEFAULT_CAMPAIGN_DOC_REF = "V/v chuẩn bị nội dung chi tiết triển khai thành lập Trung tâm hành chính công tỉnh"
