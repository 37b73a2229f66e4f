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

DATE_INVALID = "Ngày chưa đúng. Vui lòng gửi theo dạng ngày/tháng/năm, ví dụ: {example}."
DATE_NOT_EXIST = "Ngày {raw} không có trên lịch. Vui lòng kiểm tra lại, ví dụ: {example}."

NAME_HAS_DIGITS = (
    "Họ và tên không có chữ số. Vui lòng gửi riêng họ và tên, ví dụ: Nguyễn Thị Lan. Nếu muốn gửi kèm chức vụ "
    "và số di động, hãy cách nhau bằng dấu phẩy: Nguyễn Thị Lan, Chuyên viên, 0912 345 678."
)
NAME_HAS_SEPARATORS = "Họ và tên không chứa dấu phẩy hay chấm phẩy. Vui lòng gửi riêng họ và tên, ví dụ: Nguyễn Thị Lan."
TIMES_INVALID = (
    "Giờ chưa đúng. Vui lòng gửi các giờ theo dạng giờ:phút, cách nhau bằng dấu phẩy hoặc “và”, "
    "ví dụ: 09:30 và 14:30 (hoặc 9h30, 14h30)."
)

CHOICE_INVALID = "Lựa chọn chưa đúng. Vui lòng gửi số thứ tự hoặc tên của một lựa chọn: {options}."
CHOICE_NOT_IN_LIST = "“{raw}” không có trong danh sách. Vui lòng gõ số thứ tự (hoặc tên) của một lựa chọn dưới đây."
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
# A photo kept although its badge may be poor: what happened, then how to send another one (the last line).
PHOTO_WARN_LANDSCAPE = (
    "Lưu ý: ảnh chụp ngang nên mình đã cắt bớt hai bên, chỉ giữ phần giữa theo khổ 3x4. Nếu khuôn mặt bị lệch "
    "hoặc mất một phần, bạn nên gửi lại ảnh chụp dọc (chân dung), khuôn mặt ở giữa ảnh."
)
PHOTO_WARN_SMALL = (
    "Lưu ý: ảnh nhỏ, phần dùng để in thẻ chỉ có {width}×{height} điểm ảnh nên thẻ in ra sẽ bị mờ. Để thẻ rõ nét, "
    "nên gửi ảnh từ 354×472 điểm ảnh trở lên (ảnh chụp trực tiếp bằng điện thoại, không phải ảnh chụp màn hình "
    "hay ảnh đã thu nhỏ)."
)
PHOTO_REDO_BACK = "Ảnh vẫn được lưu. Muốn thay ảnh khác: gõ “quay lại” rồi gửi ảnh mới."
PHOTO_REDO_MENU = "Ảnh vẫn được lưu. Muốn thay ảnh khác: chọn “{label}” trong danh sách dưới đây rồi gửi ảnh mới."
PHOTO_REDO_EDIT_ITEM = (
    "Ảnh vẫn được lưu. Muốn thay ảnh khác: gõ “sửa {n}”, chọn {name}, chọn “{label}” rồi gửi ảnh mới."
)
PHOTO_REDO_EDIT_FIELD = "Ảnh vẫn được lưu. Muốn thay ảnh khác: gõ “sửa {n}”, chọn “{label}” rồi gửi ảnh mới."

# --- Values and formats ---------------------------------------------------------------------------------

DATETIME_FORMAT = "{time} ngày {date}"
YES = "Có"
NO = "Không"
VALUE_SKIPPED = "không có"
VALUE_EMPTY = "(trống)"
VALUE_PHOTO = "đã có ảnh"
ITEM_ORDINAL = "{item} thứ {n}"
HEADER_LIMIT = " (từ {min} đến {max})"
QUESTION_PLACE = " · câu {n}/{total}"
TYPE_A_NUMBER = "Gõ số để chọn: {options}."
TYPE_A_NUMBER_LIST = "Gõ số để chọn:\n{options}"

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
    # A greeting is not an answer: it resumes where the person is (people say hello first on Zalo).
    "start": ["start", "bắt đầu", "xin chào", "chào", "chào bạn", "chào em", "chào anh", "chào chị", "hello", "hi",
              "alo", "a lô"],
}

HELP = (
    "Bạn trả lời từng câu hỏi, mỗi tin một câu trả lời. Các lệnh có thể gõ bất cứ lúc nào (có dấu hay không dấu đều được):\n"
    "- “quay lại”: về câu hỏi trước\n"
    "- “bỏ qua”: bỏ qua câu không bắt buộc (hoặc giữ nguyên câu trả lời cũ)\n"
    "- “xong”: đã đủ người / đủ nội dung trong mục đang nhập\n"
    "- “không có”: đơn vị không có người / nội dung này, hoặc không có thông tin cho câu không bắt buộc\n"
    "- “xem lại”: xem toàn bộ báo cáo và những phần còn thiếu\n"
    "- “sửa”: chọn mục để sửa, thêm hoặc xóa người, nội dung kế hoạch (“sửa 3”: sửa thẳng mục 3)\n"
    "- “bổ sung”: nhập lần lượt các phần còn thiếu\n"
    "- “nộp”: nộp báo cáo cho Sở Nội vụ\n"
    "- “đổi báo cáo”: chuyển sang báo cáo khác, khi đơn vị có nhiều báo cáo cần nộp\n"
    "- “trợ giúp”: xem lại hướng dẫn này\n"
    "Mọi câu trả lời được lưu ngay: bạn có thể dừng và quay lại bất cứ lúc nào."
)

# --- The conversation ------------------------------------------------------------------------------------

WELCOME = (
    "Chào bạn! Mình là trợ lý của Sở Nội vụ, giúp {unit} gửi báo cáo “{title}”. Hạn nộp: {deadline}.\n"
    "Mình sẽ hỏi lần lượt từng câu; câu trả lời được lưu ngay. Gõ “trợ giúp” để xem các lệnh."
)
WELCOME_BACK = "Chào bạn quay lại! Báo cáo của {unit} vẫn được lưu đầy đủ; mình tiếp tục từ chỗ bạn dừng."
CURRENT_VALUE = "Đang lưu: {value}. Gửi câu trả lời mới, hoặc gõ “bỏ qua” để giữ nguyên."
HINT_OPTIONAL = "Gõ “bỏ qua” nếu không có."
HINT_DEFERRABLE = "Nếu chưa có ảnh, gõ “bỏ qua” để gửi sau (cần có trước khi nộp)."
HINT_DONE = "Nếu đã đủ {item}, gõ “xong” để sang mục tiếp theo."
HINT_NO_ITEMS = "Nếu đơn vị không có {item}, gõ “không có” để sang mục tiếp theo."
ITEM_SAVED = "Đã lưu {item} thứ {n}: {name}."
ITEM_SAVED_ONE = "Đã lưu {item}: {name}."
ITEM_DELETED = "Đã xóa {name}."
COMPACT_ACK = "Đã ghi: {summary}."
COMPACT_COUNT = (
    "Mình đọc được {got} ý nhưng cần {expected} ý ({labels}). Vui lòng gửi lại đủ các ý, mỗi ý một dòng, "
    "hoặc gửi từng ý một."
)
COMPACT_PART_ERROR = "Ý thứ {n} ({label}) chưa đúng: {error}"
COMPACT_MISSING = "Còn thiếu: {labels}."
COMPACT_AMBIGUOUS = (
    "Mình chưa tách được họ tên, chức vụ và số di động trong tin này nên chưa ghi gì. Vui lòng gửi lại, mỗi ý "
    "một dòng hoặc cách nhau bằng dấu phẩy, ví dụ: Nguyễn Thị Lan, Chuyên viên, 0912 345 678."
)
DATE_BEFORE = "Ngày kết thúc không được trước ngày bắt đầu ({start}). Vui lòng gửi lại ngày kết thúc, ví dụ: {example}."
SOFT_WARNING = (
    "Lưu ý: “{label}” ({value}) lớn hơn “{other}” ({limit}). Thường thì số này không vượt quá số kia. "
    "Bạn kiểm tra lại giúp mình nhé."
)
KEEP_VALUE = "Giữ nguyên {value}"
KEEP_WORDS = ["đúng", "đúng rồi", "giữ", "giữ nguyên", "chính xác"]  # keep the number after a warning
REDO_VALUE = "Nhập lại"
WARNING_NEEDS_CHOICE = "Bạn chọn giữ số vừa nhập hay nhập lại trước đã."
SKIP_REQUIRED = "Câu này bắt buộc, không bỏ qua được. Vui lòng trả lời."
DEFERRED = "Đã để lại, bạn gửi sau nhé (gõ “bổ sung” khi có)."
NEED_MIN_ITEMS = "Cần ít nhất {min} {item}. Vui lòng nhập tiếp."
DONE_NOT_HERE = "Bạn đang nhập dở một {item}: trả lời nốt câu này đã, hoặc gõ “sửa” để xóa."
DONE_NO_LIST = "“Xong” dùng để kết thúc danh sách nhân sự hoặc nội dung kế hoạch. Câu này bắt buộc: vui lòng trả lời."
NOTHING_TO_SKIP = "Không có câu hỏi nào để bỏ qua lúc này."
NOTHING_BEFORE = "Đây là câu hỏi đầu tiên, không có câu nào trước đó."
PHOTO_EXPECTED = "Câu này cần một ảnh 3x4: vui lòng gửi ảnh (hoặc gõ “bỏ qua” để gửi sau)."
PHOTO_NOT_EXPECTED = "Mình chưa cần ảnh ở câu này. Vui lòng trả lời bằng chữ."
UNSUPPORTED_MESSAGE = "Mình chỉ đọc được tin nhắn chữ và ảnh. Vui lòng trả lời bằng chữ (hoặc gửi ảnh khi được hỏi)."
STALE_BUTTON = "Nút này thuộc câu hỏi cũ. Vui lòng chọn trong câu hỏi dưới đây."
QUESTION_GONE = (
    "Báo cáo vừa được cập nhật (có thể bởi người khác của đơn vị) nên câu hỏi trước không còn cần trả lời; "
    "tin vừa rồi chưa được lưu. Mời bạn trả lời câu dưới đây."
)
CHANGED_AFTER_SUBMIT = "Báo cáo đã nộp được sửa: nhớ gõ “nộp” để nộp lại bản mới."

END_MISSING = "Bạn đã trả lời hết các câu hỏi. Báo cáo còn thiếu:\n{items}\nGõ “bổ sung” để nhập tiếp các phần còn thiếu."
END_READY = "Bạn đã nhập đủ báo cáo. Gõ “xem lại” để kiểm tra, “sửa” để sửa, hoặc “nộp” để nộp cho Sở Nội vụ."
END_SUBMITTED = "Báo cáo đã được nộp lúc {at}. Gõ “xem lại” để xem, hoặc “sửa” nếu cần sửa và nộp lại."
END_HINT = "Mình không còn câu hỏi nào."

REVIEW_EMPTY_SECTION = "(chưa có)"
REVIEW_NONE = "(không có)"
REVIEW_MISSING_HEADER = "CÒN THIẾU:"
REVIEW_COMPLETE = "Báo cáo đã đủ thông tin bắt buộc."
REVIEW_PROGRESS = "XEM LẠI BÁO CÁO – đã xong {done}/{total} phần."
REVIEW_ANSWERED = "{done}/{total} câu"
REVIEW_ITEMS = "{count} {item} ({names})"
REVIEW_SECTION_GAPS = "- {section}: còn thiếu {count} mục"
REVIEW_DETAIL_HINT = "Gõ “xem lại” và số phần để xem chi tiết, ví dụ “xem lại 3” (hoặc “xem lại I.2”)."
REVIEW_NO_SUCH_SECTION = "Không có phần “{ref}”. Gõ “xem lại” và số phần từ 1 đến {count}, ví dụ “xem lại 3”."
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
MENU_DELETE_WITH = "{count} {item} của “{name}” cũng sẽ bị xóa theo."
MENU_EXPECTS_CHOICE = "Vui lòng chọn một mục trong danh sách."
MENU_NO_SUCH_SECTION = "Không có mục số {n} (chỉ có 1 đến {count})."
DELETE_YES = "Xóa"
DELETE_NO = "Không xóa"

# --- Invites and first contact (the service) ----------------------------------------------------------

PRIVACY_NOTICE = (
    "Về dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP): trợ lý chỉ thu thập những thông tin báo cáo yêu cầu (có thể "
    "gồm họ tên, chức vụ, số di động, ảnh của cán bộ đơn vị), chỉ để Sở Nội vụ tổng hợp báo cáo và liên hệ công "
    "việc; dữ liệu cá nhân được xóa khi kết thúc đợt báo cáo."
)
INVITE_PROMPT = (
    "Chào bạn! Đây là trợ lý của Sở Nội vụ thu thập báo cáo của các đơn vị.\n"
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
# A bound person sends a code for another unit or role: nothing changes until they confirm.
ROLE_UNIT = "người liên hệ của {unit}"
ROLE_ADMIN = "cán bộ Sở Nội vụ theo dõi đợt báo cáo (quyền quản trị)"
CHANGE_CONFIRM = (
    "Bạn đang là {current}. Mã này chuyển bạn sang làm {target}. "
    "Gửi “đồng ý” để chuyển, hoặc “không” để giữ nguyên."
)
CHANGE_YES_WORDS = ["đồng ý", "dong y", "đồng ý chuyển", "chuyển", "có", "ok", "yes"]
CHANGE_NO_WORDS = ["không", "ko", "không chuyển", "giữ nguyên", "hủy", "thôi", "no"]
CHANGE_KEPT = "Đã giữ nguyên: bạn vẫn là {current}."
CHANGE_CANCELLED = "Bạn không gửi “đồng ý” nên chưa chuyển theo mã mới: bạn vẫn là {current}."
# Sent to the other admins when someone becomes an admin.
ADMIN_ANNOUNCE = "{name} ({channel}) vừa được cấp quyền quản trị."
CONTACT_NO_NAME = "Người dùng chưa có tên hiển thị"
CHANNEL_LABELS = {"zalo": "Zalo", "telegram": "Telegram", "terminal": "thử nghiệm trên máy"}
# An admin command typed by a unit contact: said so, never stored as an answer.
ADMIN_ONLY = "“{command}” là lệnh dành cho cán bộ Sở Nội vụ, không phải câu trả lời: mình không ghi vào báo cáo."
# A message the platform handed over after a message the person sent later (a delayed or retried delivery): never
# taken as an answer, since it may have been meant for an earlier question; the current question follows.
MESSAGE_LATE = (
    "{what} bạn gửi lúc {time} đến chậm, sau cả tin nhắn bạn gửi sau nó, nên mình không ghi vào báo cáo. "
    "Nếu đó là câu trả lời cho câu hỏi dưới đây, vui lòng gửi lại."
)
MESSAGE_LATE_TEXT = "Tin nhắn “{text}”"
MESSAGE_LATE_PHOTO = "Ảnh"
MESSAGE_LATE_OTHER = "Tin nhắn"
NO_CAMPAIGN = "Hiện chưa có đợt báo cáo nào đang mở. Vui lòng liên hệ Sở Nội vụ."
# Several campaigns open for the unit: the person picks the one to answer (and can switch later).
CAMPAIGN_PICK = "Bạn có {count} báo cáo cần nộp:\n{lines}\nGửi số thứ tự của báo cáo muốn nhập (ví dụ: 1)."
CAMPAIGN_PICK_LINE = "{n} – {title} (hạn {deadline})"
CAMPAIGN_PICK_AGAIN = "Chưa rõ bạn chọn báo cáo nào: gửi một số từ 1 đến {count}."
CAMPAIGN_PICKED = "Bạn đang nhập: {title} (hạn nộp {deadline}). Để chuyển sang báo cáo khác, gửi \"đổi báo cáo\"."
CAMPAIGN_OTHER = (
    "Lưu ý: đơn vị còn báo cáo \"{title}\" (hạn {deadline}) cần nộp. Gửi \"đổi báo cáo\" để chuyển sang."
)
CAMPAIGN_CLOSED_NOTE = "Đợt báo cáo \"{title}\" đã đóng, không nhận thêm câu trả lời; tin vừa rồi chưa được lưu."
CAMPAIGN_ONLY_ONE = "Hiện chỉ có một báo cáo cần nộp: {title}."
REVIEW_CAMPAIGN_CLOSED = "Đợt báo cáo \"{title}\" đã đóng: chỉ xem và xuất được, không duyệt hay sửa được nữa."
# An officer in the chat: which campaign their commands act on ("đổi báo cáo" lists them, "đổi báo cáo 2" picks #2).
ADMIN_CAMPAIGNS = "Các đợt báo cáo:\n{lines}\nGửi “đổi báo cáo <số>” để làm việc với một đợt, ví dụ: đổi báo cáo {example}."
ADMIN_CAMPAIGN_LINE = "#{id} – {title} ({state}, hạn {deadline}){mark}"
ADMIN_CAMPAIGN_CURRENT = " ← đang chọn"
ADMIN_CAMPAIGN_PICKED = "Các lệnh từ giờ áp dụng cho đợt báo cáo #{id}: {title}."
WEB_CAMPAIGN_MENU = "Đợt báo cáo:"
WEB_CAMPAIGN_CHOOSE = "Xem"
ADMIN_CAMPAIGN_UNKNOWN = "Không có đợt báo cáo #{id}. Gửi “đổi báo cáo” để xem danh sách."
# Pre-fill from the last round (bot/prefill.py).
PREFILL_OFFER = (
    "Lần trước (báo cáo \"{title}\"), đơn vị đã khai {count} {item}: {names}.\n"
    "Dùng lại danh sách {count} {item} của lần trước? Trả lời Có hoặc Không (sau đó bạn vẫn xem lại và sửa được)."
)
PREFILL_AGAIN = "Chưa rõ ý bạn: trả lời Có để dùng lại danh sách lần trước, Không để nhập mới."
PREFILL_DONE = (
    "Đã chép {count} {item} từ lần trước:\n{items}\n"
    "Bạn xem lại và sửa được bất cứ lúc nào trước khi nộp: gõ “xem lại” hoặc “sửa”."
)
PREFILL_ITEM = "{n}. {summary}"
CAMPAIGN_SWITCH_WORDS = ["đổi báo cáo", "doi bao cao", "chọn báo cáo", "chon bao cao", "/baocao"]
# An export or a unit's document the bot was building when it stopped: told at the next start.
EXPORT_INTERRUPTED = (
    "Bản tổng hợp bạn yêu cầu lúc {at} đã bị gián đoạn do hệ thống khởi động lại và chưa hoàn thành. "
    "Vui lòng gửi lại lệnh “{command}” để xuất lại."
)
UNIT_DOCUMENT_INTERRUPTED = (
    "Tệp báo cáo (.docx) bạn yêu cầu lúc {at} chưa tạo xong do hệ thống khởi động lại. "
    "Vui lòng gửi lại “{command}” để nhận tệp."
)

SAVE_FAILED = (
    "Xin lỗi, hệ thống tạm thời không lưu được câu trả lời của bạn. Vui lòng gửi lại sau ít phút; "
    "những gì bạn đã gửi trước đó vẫn được giữ nguyên."
)

# --- Admins (Sở Nội vụ) -------------------------------------------------------------------------------

ADMIN_COMMAND_WORDS = {
    "status": ["tình hình", "tinhhinh", "trạng thái", "status"],
    "export": ["xuất", "xuat", "xuất tất cả", "export"],
    "export_new": ["xuất mới", "xuatmoi", "xuat moi", "xuất thay đổi"],
    "web_login": ["đăng nhập web", "dang nhap web", "weblogin"],
    "help": ["trợ giúp", "trogiup", "hướng dẫn", "help", "start"],
}
ADMIN_HELP = (
    "Các lệnh dành cho Sở Nội vụ:\n"
    "- “tình hình”: tình hình nộp báo cáo của tất cả đơn vị\n"
    "- “xuất”: tổng hợp tất cả đơn vị (bảng Excel, ảnh 3x4, thẻ, bảng tên, báo cáo từng đơn vị)\n"
    "- “xuất mới”: chỉ các đơn vị có thay đổi từ lần xuất trước\n"
    "- “đăng nhập web”: nhận liên kết đăng nhập trang theo dõi trên máy tính (xem, duyệt, trả lại báo cáo)\n"
    "- “nhắc”: xem trước ai sẽ nhận tin nhắc; “nhắc ngay”: gửi nhắc ngay cho các đơn vị chưa nộp\n"
    "- “lịch nhắc”: xem lịch nhắc; “lịch nhắc -1 08:00, 08:00, 14:30, 16:00”: đổi lịch\n"
    "- “giờ yên lặng 21:00-07:00”: đổi khoảng giờ không gửi tin nhắc\n"
    "- “hạn nộp {example}”: đổi hạn nộp (lịch nhắc còn lại tính theo hạn mới)\n"
    "- “duyệt STP”, “trả lại STP: nội dung cần bổ sung”, “mở lại STP”: xem xét báo cáo của một đơn vị\n"
    "- “gia hạn STP {example}”: hạn riêng cho một đơn vị (“gia hạn STP không”: bỏ)\n"
    "- “đổi báo cáo”: xem các đợt báo cáo; “đổi báo cáo 2”: các lệnh trên áp dụng cho đợt #2\n"
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
STATUS_EXTENDED = " – gia hạn đến {deadline}"

# --- Terminal demo and command line -------------------------------------------------------------------

DEMO_BANNER = (
    "Chế độ thử trên máy tính: bạn là người liên hệ của {unit} ({code}). Dữ liệu thử được lưu riêng, không lẫn "
    "vào báo cáo thật. Gõ câu trả lời rồi nhấn Enter; với câu hỏi ảnh, gõ đường dẫn tới tệp ảnh. "
    "Thoát: Ctrl+D (trên Windows: Ctrl+Z rồi Enter); lần sau chạy lại sẽ tiếp tục từ chỗ dừng."
)
DEMO_FILE_WRITTEN = "Tệp đã ghi: {path}"
DEMO_PHOTO_HINT = "(Gõ đường dẫn tới tệp ảnh trên máy, ví dụ: ./anh/le-thi-mai.jpg)"
DEMO_FILE_NOT_FOUND = "Không đọc được tệp ảnh “{path}”. Vui lòng gõ đúng đường dẫn tới tệp ảnh."
DEMO_BYE = "Đã lưu. Hẹn gặp lại!"
CLI_RUN_NO_CHANNEL = (
    "Chưa cấu hình kênh nào (HCC_ZALO_BOT_TOKEN hoặc HCC_TELEGRAM_TOKEN): chỉ chạy trang theo dõi trên web. "
    "Để thử bot ngay trên máy tính, chạy: hcc-bot demo"
)
CLI_WEB_LOGIN = "Liên kết đăng nhập trang theo dõi (dùng một lần, hết hạn lúc {expires}):\n{url}"
CLI_WEB_OFFICER = "Quản trị hệ thống"
CLI_CONSOLE_AT = "Trang theo dõi: {url}/console/ (lấy liên kết đăng nhập: hcc-bot web-login)"
CLI_UNITS_IMPORTED = "Đã nhập {created} đơn vị mới, cập nhật {updated} đơn vị từ {path}."
CLI_UNIT_UNKNOWN = "Không có đơn vị mã “{code}”. Xem danh sách: hcc-bot units list"
CLI_INVITE_CREATED = "Mã mời cho {who}: {code} (hết hạn {expires}, dùng được {max_uses} lần)."
CLI_INVITE_ADMIN = "cán bộ Sở Nội vụ (quản trị)"
CLI_INVITE_USAGE = "Cần mã đơn vị (ví dụ: hcc-bot invite STP) hoặc --admin, không dùng cả hai."
CLI_INVITE_LIMITS = "--days và --uses phải từ 1 trở lên."
CLI_INVITE_REVOKED = "Đã thu hồi mã mời {code}."
CLI_INVITE_ALREADY_REVOKED = "Mã mời {code} đã bị thu hồi từ trước."
CLI_INVITE_NOT_FOUND = "Không có mã mời “{code}”."
CLI_INVITE_UNBIND_USAGE = "--unbind chỉ dùng cùng --revoke MÃ, ví dụ: hcc-bot invite --revoke K7QM-2PXW --unbind"
CLI_INVITE_ADMINS_UNBOUND = (
    "Mã quản trị: quyền quản trị dựa trên mã mời, nên thu hồi mã là gỡ quyền của người đã dùng nó. "
    "Đã gỡ quyền quản trị của {count} người{names}."
)
CLI_INVITE_CONTACTS_UNBOUND = "Đã gỡ {count} người liên hệ đã dùng mã này{names}."
CLI_INVITE_CONTACTS_KEPT = (
    "{count} người đã dùng mã này vẫn là người liên hệ của {unit}{names}. "
    "Để gỡ cả họ: hcc-bot invite --revoke {code} --unbind (hoặc hcc-bot contacts remove ID)."
)
CLI_CONTACTS_COLUMNS = ["ID", "Kênh", "Vai trò", "Đơn vị", "Gắn lúc", "Nhắn lần cuối", "Tên hiển thị"]
CLI_CONTACTS_ROLES = {"unit": "đơn vị", "admin": "quản trị"}
CLI_CONTACTS_NONE = "Chưa có ai dùng mã mời (chưa có người liên hệ hay cán bộ quản trị nào)."
CLI_CONTACTS_NONE_IN_UNIT = "{unit} chưa có người liên hệ nào."
CLI_CONTACT_UNKNOWN = "Không có người nào mang ID {id}. Xem danh sách: hcc-bot contacts list"
CLI_CONTACT_NOT_BOUND = "{name} (ID {id}) hiện không gắn với đơn vị hay quyền quản trị nào: không có gì để gỡ."
CLI_CONTACT_REMOVED = (
    "Đã gỡ {name} (ID {id}, {channel}) khỏi vai trò {role}. "
    "Lần tới người này nhắn, bot sẽ hỏi mã mời."
)
CLI_CAMPAIGN_CREATED = "Đã tạo đợt báo cáo #{id}: {title}, hạn nộp {deadline}."
CLI_CAMPAIGN_NONE = "Chưa có đợt báo cáo nào. Tạo mới: hcc-bot campaign create --title \"...\" --deadline \"{example}\""
CLI_DEADLINE_PAST = (
    "Hạn nộp {deadline} đã qua: các đơn vị sẽ chỉ xem được báo cáo ngay từ đầu. "
    "Kiểm tra lại năm; nếu đúng là như vậy, thêm --force."
)
CLI_DEADLINE_INVALID = "Hạn nộp “{value}” chưa đúng: cần dạng \"dd/mm/yyyy HH:MM\", ví dụ \"{example}\"."
CLI_REOPENED = "Đã mở lại báo cáo của {unit}: đơn vị có thể sửa và nộp lại sau hạn."
CLI_CLOSED = "Đã khóa lại báo cáo của {unit}."
CLI_CONFIG_ERROR = "Lỗi cấu hình: {problem}"
CLI_FORM_ERROR = "Lỗi tệp biểu mẫu: {problem}"
CLI_DATABASE_ERROR = "Lỗi cơ sở dữ liệu: {problem}"
DEFAULT_CAMPAIGN_TITLE = "Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công tỉnh"
DEFAULT_CAMPAIGN_PROVINCE = "Đồng Nai"  # the seed letter's province
DEFAULT_CAMPAIGN_DOC_REF = "V/v chuẩn bị nội dung chi tiết triển khai thành lập Trung tâm hành chính công tỉnh"

# --- Channels (Zalo, Telegram) -------------------------------------------------------------------------

PHOTO_DOWNLOAD_FAILED = "Mình chưa tải được ảnh bạn gửi (mạng chậm hoặc ảnh đã hết hạn). Vui lòng gửi lại ảnh."
ALBUM_FIRST_ONLY = "Mình đã nhận ảnh đầu tiên trong nhóm ảnh. Các ảnh còn lại vui lòng gửi lần lượt từng ảnh khi được hỏi."
TELEGRAM_PHOTO_HINT = "Mẹo: gửi ảnh dạng tệp (📎 → Tệp) để giữ nguyên độ nét khi in thẻ."
ZALO_PHOTO_HINT = "Bấm biểu tượng ảnh trong Zalo để gửi ảnh."
CHOSEN = "✔ Đã chọn: {label}"
TELEGRAM_COMMANDS = [
    ("start", "Bắt đầu / tiếp tục báo cáo"),
    ("xemlai", "Xem lại báo cáo và phần còn thiếu"),
    ("quaylai", "Về câu hỏi trước"),
    ("boqua", "Bỏ qua câu không bắt buộc"),
    ("sua", "Sửa, thêm hoặc xóa thông tin"),
    ("bosung", "Nhập các phần còn thiếu"),
    ("nop", "Nộp báo cáo"),
    ("trogiup", "Hướng dẫn"),
]
TELEGRAM_ADMIN_COMMANDS = [
    ("tinhhinh", "Tình hình nộp báo cáo của các đơn vị"),
    ("trogiup", "Hướng dẫn"),
]
STATUS_BLOCKED = " – không gửi được tin cho người liên hệ"
EXPORT_NOT_AVAILABLE = "Chức năng xuất tệp tổng hợp chưa có trong phiên bản này."
CLI_ZALO_TOKEN_REFUSED = "HCC_ZALO_BOT_TOKEN: Zalo từ chối mã bot (401). Vui lòng kiểm tra lại mã trong Zalo Bot Manager."
CLI_TELEGRAM_TOKEN_REFUSED = "HCC_TELEGRAM_TOKEN: Telegram từ chối mã bot. Vui lòng kiểm tra lại mã từ @BotFather."
CLI_RUNNING = "hcc-bot đang chạy: {channels}. Nhấn Ctrl+C để dừng."

# --- Exports for Sở Nội vụ (workbook, photo archive, badges, documents) ---------------------------------

EXPORT_FOLDER = "tong-hop_{campaign}_{stamp}"  # ASCII: the folder/zip name, with the campaign id and local time
SHEET_STATUS = "Tình trạng"
SHEET_STAFF = "I. Nhân sự"
SHEET_PROCEDURES = "II. Thủ tục"
SHEET_PICKUP = "Lịch thu gom"
SHEET_PLAN = "III. Kế hoạch"
SHEET_ISSUES = "IV. Kiến nghị"
SHEET_SHIRTS = "Cỡ áo"
COL_UNIT_CODE = "Mã đơn vị"
COL_UNIT = "Đơn vị"
COL_STATUS = "Tình trạng"
COL_REPORTER = "Người điền báo cáo"
COL_REPORTER_PHONE = "Số điện thoại người điền"
COL_SUBMITTED_AT = "Nộp lúc"
COL_LAST_ACTIVITY = "Cập nhật lần cuối"
COL_MISSING = "Còn thiếu"
COL_CHANGED = "Đã sửa sau khi nộp (chưa nộp lại)"
COL_ROLE = "Vai trò"
COL_STT = "STT"
COL_PHOTO_FILE = "Tệp ảnh"
COL_PHOTO = "Ảnh"
COL_COUNT = "Số lượng"
TOTAL_ROW = "Tổng cộng"
TOTAL_SUBMITTED_ROW = "Tổng cộng (đơn vị đã nộp)"
TOTAL_PROVISIONAL_ROW = "Tạm tính, gồm cả đơn vị chưa nộp"
SHIRTS_NOT_COUNTED = "Chưa tính {people} người của {units} đơn vị chưa nộp báo cáo."
SHEET_PROCEDURE_PARTNERS = "II. Liên thông"
COL_PROCEDURE = "Loại thủ tục"
COL_PARTNERS = "Đơn vị liên thông"
COL_TOTAL = "Tổng"
SHIRT_COLUMN = "{gender} cỡ {size}"
# Every sheet opens with its title and the campaign, then the letter, the deadline and the export time; the
# printed pages carry them in their header and footer too.
SHEET_HEADING = "{sheet} – {title}"
SHEET_TIMES = "Hạn nộp: {deadline}. Xuất dữ liệu lúc: {generated}."
SHEET_TIMES_REF = "Văn bản: {doc_ref}. Hạn nộp: {deadline}. Xuất dữ liệu lúc: {generated}."
PAGE_HEADER_RIGHT = "Xuất lúc {generated}"
PAGE_FOOTER_RIGHT = "Trang &P/&N"
SHIRT_ORDER_TITLE = "BẢNG ĐẶT MAY ÁO THEO ĐƠN VỊ VÀ CỠ ÁO (đơn vị đã nộp báo cáo)"
STATUS_SHEET_TITLE = "TÌNH TRẠNG NỘP BÁO CÁO – {title}"
STATUS_SHEET_COUNTS = (
    "Tổng số {total} đơn vị: đã nộp {submitted} (đúng hạn {on_time}, nộp muộn {late}); "
    "đang nhập {in_progress}; chưa bắt đầu {not_started}."
)
STATUS_NOT_STARTED_GAPS = "Chưa bắt đầu nhập báo cáo"
ROLE_LABELS = {
    "leader": "Lãnh đạo phụ trách",
    "main_staff": "Nhân sự chính",
    "backup_staff": "Nhân sự dự phòng",
    "postal_staff": "Tiếp nhận - trả hồ sơ với bưu điện",
}
# The template's own labels, as the per-unit document prints them (the workbook's short ones fit a column).
DOC_ROLE_LABELS = {
    "leader": "Lãnh đạo phụ trách trực tiếp",
    "main_staff": "Nhân sự chính tại trung tâm",
    "backup_staff": "Nhân sự dự phòng tại trung tâm",
    "postal_staff": "Nhân sự tiếp nhận - trả hồ sơ tại đơn vị với bưu điện",
}
ROLE_FILE_CODES = {"leader": "LD", "main_staff": "CHINH", "backup_staff": "DUPHONG", "postal_staff": "BUUDIEN"}
PICKUP_AGREES = "Đồng ý 10:00 và 15:00"
PICKUP_PROPOSES = "Đề xuất: {times}"
BADGE_CENTER_NAME = "TRUNG TÂM HÀNH CHÍNH CÔNG TỈNH"
BADGE_ROLE_MAIN = "NHÂN SỰ CHÍNH"
BADGE_ROLE_BACKUP = "NHÂN SỰ DỰ PHÒNG"
NAME_TAG_TITLE = "Trung tâm Hành chính công tỉnh"
# With the province (HCC_PROVINCE, else the campaign's); the badge upper-cases it.
BADGE_CENTER_NAME_OF = "TRUNG TÂM HÀNH CHÍNH CÔNG TỈNH {province}"
NAME_TAG_TITLE_OF = "Trung tâm Hành chính công tỉnh {province}"
# The list page at the end of the badges PDF: who got no badge, and why.
BADGE_MISSING_TITLE = "Nhân sự chưa in được thẻ"
BADGE_MISSING_COUNT = "Tổng số: {count} người."
BADGE_MISSING_COLUMNS = ["STT", "Đơn vị", "Vai trò", "Họ và tên", "Lý do"]
BADGE_MISSING_NO_PHOTO = "chưa có ảnh"
BADGE_MISSING_NOT_SUBMITTED = "đơn vị chưa nộp báo cáo"
BADGE_MISSING_NO_NAME = "(chưa nhập tên)"
BADGE_MISSING_PAGE = "Trang {page}/{pages}"
PHOTO_INDEX_COLUMNS = ["Tệp ảnh", "Mã đơn vị", "Đơn vị", "Vai trò", "STT", "Họ và tên", "Chức vụ", "Số điện thoại"]
DOC_NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
DOC_MOTTO = "Độc lập – Tự do – Hạnh phúc"
DOC_TITLE = "BÁO CÁO\nTIẾN ĐỘ TRIỂN KHAI THÀNH LẬP TRUNG TÂM HÀNH CHÍNH CÔNG TỈNH"
DOC_ATTACHED = "(Đính kèm văn bản {doc_ref})"
DOC_SECTION_STAFF = "I. Về nhân sự:"
DOC_SECTION_PROCEDURES = "II. Về quy trình tiếp nhận – chuyển hồ sơ từ Trung tâm về Sở, ngành và ngược lại"
DOC_SECTION_PLAN = "III. Về kế hoạch chi tiết tiến độ triển khai thành lập Trung tâm hành chính công tỉnh:"
DOC_SECTION_ISSUES = "IV. Khó khăn, kiến nghị khác:"
DOC_STAFF_HEADERS = ["", "Tên", "Chức vụ", "Số điện thoại", "Kích cỡ áo*"]
DOC_SHIRT_NOTE = "*Lưu ý: Chỉ bổ sung thông tin về kích cỡ áo đối với nhân sự chính."
DOC_PROCEDURE_HEADERS = ["Loại thủ tục", "Số lượng", "Đơn vị liên thông"]
DOC_POSTAL_GROUP = "Thủ tục có sử dụng dịch vụ trả nhận của bưu điện"
DOC_PLAN_HEADERS = ["STT", "Nội dung thực hiện", "Chi tiết", "Thời gian bắt đầu", "Thời gian kết thúc", "Đơn vị phối hợp"]
DOC_PICKUP_TITLE = "Lịch thu gom – giao nhận hồ sơ của bưu điện (2 lần/ngày: 10:00 và 15:00):"
DOC_REPORTER = "Người điền báo cáo: {name} – {phone}"
# The administrative heading (unit left, national motto right), the place and date line, the signature block.
DOC_SIGNER = "THỦ TRƯỞNG ĐƠN VỊ"
DOC_SIGN_NOTE = "(Ký, ghi rõ họ tên và đóng dấu)"
DOC_RECIPIENTS = "Nơi nhận:"
DOC_RECIPIENT_LINES = ("- Sở Nội vụ;", "- Lưu: VT.")
DOC_NOT_ENTERED = "(chưa nhập)"
DOC_NONE = "Không có."
DOC_FILE = "bao-cao_{code}.docx"
# The consolidated report Sở Nội vụ sends up to UBND tỉnh (bao-cao-tong-hop.docx and its PDF).
REPORT_FILE = "bao-cao-tong-hop.docx"
REPORT_AUTHORITY = "UBND TỈNH {province}"
REPORT_AUTHORITY_NO_PROVINCE = "ỦY BAN NHÂN DÂN TỈNH"
REPORT_DEPARTMENT = "SỞ NỘI VỤ"
REPORT_PLACE_DATE = "{place}, ngày {day} tháng {month} năm {year}"
REPORT_TITLE = "BÁO CÁO TỔNG HỢP"
REPORT_RECIPIENT = "Kính gửi: Ủy ban nhân dân tỉnh{province}."
REPORT_INTRO_REF = ("Thực hiện văn bản {doc_ref}, Sở Nội vụ tổng hợp báo cáo các đơn vị gửi về đến {generated} "
                    "như sau:")
REPORT_INTRO = "Sở Nội vụ tổng hợp báo cáo các đơn vị gửi về đến {generated} như sau:"
REPORT_SUMMARY_TITLE = "Tình hình gửi báo cáo"
REPORT_SUMMARY = ("Hạn gửi báo cáo: {deadline}. Đã có {submitted}/{total} đơn vị gửi báo cáo (đúng hạn {on_time}, "
                  "quá hạn {late}); {missing} đơn vị chưa gửi (đang nhập {in_progress}, chưa bắt đầu {not_started}). "
                  "Số liệu dưới đây chỉ tổng hợp từ báo cáo của các đơn vị đã gửi; tình trạng từng đơn vị xem tại "
                  "Phụ lục.")
REPORT_NO_SUBMISSION = "Chưa có đơn vị nào gửi báo cáo."
REPORT_COL_LEADER = "Lãnh đạo phụ trách (họ tên, chức vụ, số điện thoại)"
REPORT_STAFF_COUNT = {"main_staff": "Nhân sự chính", "backup_staff": "Nhân sự dự phòng",
                      "postal_staff": "Tiếp nhận - trả hồ sơ với bưu điện"}
REPORT_PICKUP = ("Lịch thu gom của bưu điện: {agree} đơn vị đồng ý thu gom lúc 10:00 và 15:00"
                 "{proposals}.")
REPORT_PICKUP_PROPOSALS = "; đơn vị đề xuất thời gian khác: {units}"
REPORT_ANNEX_TITLE = "PHỤ LỤC\nTÌNH TRẠNG GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ"
REPORT_ANNEX_AT = "(Đến {generated})"
REPORT_ANNEX_HEADERS = ["STT", "Đơn vị", "Tình trạng", "Gửi lúc", "Ghi chú"]
REPORT_SIGNER = "GIÁM ĐỐC"
REPORT_RECIPIENT_LINES = ("- Như trên;", "- Lưu: VT, CCHC.")
REPORT_PDF_MISSING = ("Chưa tạo được bản PDF của báo cáo tổng hợp: máy chủ chưa cài LibreOffice. Bản Word "
                      "(bao-cao-tong-hop.docx) vẫn có trong tệp tổng hợp.")
REPORT_PDF_TOO_LARGE = ("Báo cáo tổng hợp có {units} đơn vị nên bản PDF không được tạo tự động (LibreOffice cần "
                        "nhiều phút). Vui lòng mở bản Word (bao-cao-tong-hop.docx) để xem và in.")
REPORT_PDF_FAILED = ("Chưa tạo được bản PDF của báo cáo tổng hợp (LibreOffice báo lỗi). Bản Word "
                     "(bao-cao-tong-hop.docx) vẫn có trong tệp tổng hợp.")

# --- Exports asked for in the chat and on the command line ---------------------------------------------

UNIT_DOCUMENT_WORDS = ["tải báo cáo", "taibaocao", "tai bao cao", "tệp báo cáo", "file"]
UNIT_DOCUMENT_STARTED = "Đang chuẩn bị tệp báo cáo (.docx) của đơn vị…"
UNIT_DOCUMENT_READY = "Báo cáo hiện tại của {unit} (tệp Word) để bạn kiểm tra trước khi nộp."
EXPORT_STARTED = "Đang tổng hợp báo cáo… Mình sẽ gửi tệp khi xong; trong lúc đó các đơn vị vẫn nhập bình thường."
EXPORT_PROGRESS = "Đang tổng hợp {done}/{total} đơn vị ({step})…"
EXPORT_STEPS = {
    "workbook": "bảng tổng hợp Excel",
    "photos": "ảnh 3x4",
    "badges": "thẻ nhân sự",
    "name_tags": "bảng tên",
    "documents": "báo cáo từng đơn vị",
    "report": "báo cáo tổng hợp",
}
EXPORT_READY = "Đã tổng hợp xong {count} đơn vị."
EXPORT_NOTHING_NEW = "Không có đơn vị nào thay đổi kể từ lần xuất trước ({at})."
EXPORT_FAILED = "Xin lỗi, chưa tổng hợp được tệp. Vui lòng thử lại sau ít phút, hoặc báo cán bộ CNTT (chi tiết trong nhật ký của bot)."
EXPORT_LINK = "Tải “{name}” (hiệu lực đến {expires}):\n{url}"
EXPORT_NO_LINK = (
    "Zalo không gửi được tệp, và bot chưa được cài đặt để gửi đường dẫn tải về. Tệp {name} đã được lưu trên "
    "máy chủ của bot. Vui lòng nhờ cán bộ CNTT quản trị bot gửi tệp cho bạn (hoặc nhận tệp qua Telegram). "
    "Lệnh dành cho cán bộ CNTT:\n"
    "hcc-bot export --out <thư mục>"
)
CLI_EXPORT_PROGRESS = "Đang tổng hợp {done}/{total} đơn vị – {step}"
CLI_EXPORT_DONE = "Đã xuất {units} đơn vị vào {folder}:"
CLI_CAMPAIGN_UNKNOWN = "Không có đợt báo cáo #{id}."
CLI_CAMPAIGN_UNITS_EMPTY = "--units: cần ít nhất một mã đơn vị, ví dụ: --units STP,CAT"
CLI_CAMPAIGN_UNITS_UNKNOWN = "--units: không có đơn vị mã {codes}. Xem danh sách: hcc-bot units list"
CLI_CAMPAIGN_ALL_UNITS = "tất cả đơn vị đang hoạt động"
CLI_CAMPAIGN_OPEN_STATE = "đang mở"
CLI_CAMPAIGN_CLOSED_STATE = "đã đóng lúc {at}"
CLI_CAMPAIGN_CLOSED_SHORT = "đã đóng"
CLI_CAMPAIGN_FORM_INSTALLED = "biểu mẫu cài đặt (HCC_FORM)"
CLI_CAMPAIGN_DETAIL = (
    "Đợt báo cáo #{id}: {title}\nVăn bản: {doc_ref}\nTrạng thái: {state}\nHạn nộp: {deadline}\n"
    "Biểu mẫu: {form_title} ({form_id}, {form_hash})\nĐơn vị: {units}\nĐã nộp: {submitted}/{total}"
)
CLI_CAMPAIGN_LINE = "#{id}  {title} – {state}, hạn {deadline}, đã nộp {submitted}/{total}, biểu mẫu {form}"
CLI_CAMPAIGN_CLOSED = "Đã đóng đợt báo cáo #{id}: {title}. Không nhận thêm câu trả lời, không gửi nhắc nữa."
CLI_CAMPAIGN_ALREADY_CLOSED = "Đợt báo cáo #{id} đã đóng từ trước."
EXPORT_TOO_LARGE = "Tệp {name} ({mb} MB) quá lớn để gửi qua Telegram (tối đa 50 MB). Tệp đã lưu trên máy chủ: {path}."
CLI_TELEGRAM_UNREACHABLE = "HCC_TELEGRAM_API_URL: không kết nối được tới Telegram Bot API ({url}). Kiểm tra mạng hoặc địa chỉ."
CLI_ZALO_UNREACHABLE = "HCC_ZALO_API_URL: không kết nối được tới Zalo Bot API ({url}). Kiểm tra mạng hoặc địa chỉ."

# --- Reminders ------------------------------------------------------------------------------------------

REMINDER = "NHẮC HẠN NỘP BÁO CÁO – {unit}\nHạn nộp: {deadline} ({left}).\n{progress}\n{how}"
REMINDER_CAMPAIGN = "Báo cáo: {title}"
REMINDER_HOW_SWITCH = "Đơn vị có nhiều báo cáo cần nộp: gửi “đổi báo cáo” để chọn báo cáo này."
REMINDER_NOT_STARTED = "Đơn vị chưa gửi thông tin nào cho báo cáo."
REMINDER_MISSING = "Còn thiếu: {parts}."
REMINDER_READY = "Báo cáo đã đủ thông tin bắt buộc nhưng chưa nộp."
REMINDER_HOW_START = "Bạn chỉ cần trả lời tin nhắn này để bắt đầu, mình sẽ hỏi lần lượt từng câu."
REMINDER_HOW_CONTINUE = (
    "Bạn chỉ cần trả lời tin nhắn này để tiếp tục, hoặc gõ “bổ sung” để nhập lần lượt các phần còn thiếu; "
    "xong thì gõ “nộp”."
)
REMINDER_HOW_SUBMIT = "Gõ “xem lại” để kiểm tra, rồi gõ “nộp” để nộp cho Sở Nội vụ."
OVERDUE_NOTICE = (
    "ĐÃ QUÁ HẠN NỘP BÁO CÁO – {unit}\nHạn nộp là {deadline}; Sở Nội vụ chưa nhận được báo cáo của đơn vị.\n"
    "{progress}\n{how}"
)
OVERDUE_HOW = "Vui lòng liên hệ Sở Nội vụ để được mở lại báo cáo và nộp bổ sung."
OVERDUE_HOW_REOPENED = "Báo cáo đã được mở lại: bạn trả lời tin nhắn này để tiếp tục, xong thì gõ “nộp”."

TIME_LEFT = "còn {duration}"
TIME_PAST = "đã quá hạn {duration}"
TIME_NOW = "sắp hết hạn"
DURATION_DAYS = "{n} ngày"
DURATION_HOURS = "{n} giờ"
DURATION_MINUTES = "{n} phút"

MISSING_PART_SEPARATOR = "; "
MISSING_PHOTOS = "ảnh của {n} {item}"
MISSING_ITEM_FIELD_COUNT = "{label} của {n} {item}"
MISSING_SECTION_EMPTY = "{section} chưa có nội dung"
MISSING_SECTION_FEW = "{section} cần ít nhất {min} {item}"
MISSING_SECTION_FIELDS = "{section}: {labels}"
MISSING_AND_MORE = "và {n} phần khác"
SECTION_NUMBERED = "mục {number}"
SECTION_NAMED = "mục “{title}”"

DIGEST = (
    "TÌNH HÌNH NỘP BÁO CÁO – {title}\nHạn nộp: {deadline} ({left}).\n"
    "Đã nộp {submitted}/{total} đơn vị; đang nhập {in_progress}; chưa bắt đầu {not_started}."
)
DIGEST_REMINDED = "Đã gửi tin nhắc tới {contacts} người liên hệ của {units} đơn vị chưa nộp."
DIGEST_NOT_STARTED = "Chưa bắt đầu ({count}):"
DIGEST_NO_CONTACT = "Chưa có người liên hệ ({count}), cần gọi điện:"
DIGEST_UNREACHABLE = "Không gửi được tin nhắc ({count}):"
DIGEST_UNIT_LINE = "- {code} {name}"
DIGEST_CONTACT_LINE = "- {who} – {unit} ({channel}): {reason}"
LATE_LIST = "ĐÃ HẾT HẠN NỘP BÁO CÁO – {title}\nHạn nộp: {deadline}. Đã nộp {submitted}/{total} đơn vị."
LATE_UNITS = "Chưa nộp ({count}):"
LATE_LINE = "- {code} {name} – {status}"
LATE_NONE = "Tất cả đơn vị đã nộp đúng hạn."
LATE_EXTENDED = "Được gia hạn, chưa đến hạn ({count}):"
LATE_EXTENDED_LINE = "- {code} {name} – hạn mới {deadline}"
NO_CONTACT = "chưa có người liên hệ"
CONTACT_UNNAMED = "Người liên hệ #{id}"
# --- Form vocabulary from XLSForm: decimals, several choices, constraints (conversations/engine.py) ---
DECIMAL_INVALID = "Vui lòng gửi một số, dùng dấu phẩy hoặc dấu chấm cho phần thập phân, ví dụ: 12,5."
DECIMAL_NEGATIVE = "Số này không thể là số âm. Vui lòng gửi một số từ 0 trở lên, ví dụ: 12,5."
MULTI_CHOICE_HINT = "Có thể chọn nhiều: gõ các số thứ tự cách nhau bằng dấu phẩy, ví dụ: 1, 3.\n{options}"
MULTI_CHOICE_INVALID = ("“{raw}” không có trong danh sách. Vui lòng gõ các số từ 1 đến {count}, "
                        "cách nhau bằng dấu phẩy, ví dụ: 1, 3.")
CONSTRAINT_FAILED = "“{value}” chưa đúng yêu cầu của câu “{label}”. Vui lòng gửi lại theo hướng dẫn dưới đây."
CHANNEL_NAMES = {"zalo": "Zalo", "telegram": "Telegram"}
SEND_ERRORS = {
    "forbidden": "người nhận đã chặn bot",
    "not_found": "không tìm thấy cuộc trò chuyện",
    "interrupted": "bot dừng giữa lúc gửi, chưa rõ đã nhận",
    "no_channel": "kênh này chưa bật trên bot",
}
SEND_ERROR_OTHER = "lỗi khi gửi ({code})"

REMIND_PREVIEW = "Nếu nhắc ngay: {contacts} người liên hệ của {units} đơn vị chưa nộp sẽ nhận tin nhắc."
REMIND_PREVIEW_LINE = "- {code} {name} ({status}): {contacts} người liên hệ"
REMIND_PREVIEW_EXAMPLE = "Ví dụ tin gửi {unit}:\n\n{text}"
REMIND_PREVIEW_CONFIRM = "Gõ “nhắc ngay” để gửi."
REMIND_NOBODY = "Không có ai cần nhắc: các đơn vị có người liên hệ đều đã nộp."
REMIND_QUEUED = "Đã xếp {contacts} tin nhắc cho {units} đơn vị chưa nộp; bot gửi trong vòng 1 phút."
REMIND_QUIET = "Đang trong giờ yên lặng ({start}–{end}): không gửi tin nhắc lúc này. Vui lòng gửi lại sau {end}."

PLAN_SHOW = "LỊCH NHẮC – hạn nộp {deadline}\nLịch: {spec}. Giờ yên lặng (không gửi tin): {quiet}."
PLAN_LINE = "- {at}: {kind}{note}"
PLAN_KINDS = {
    "reminder": "nhắc đơn vị chưa nộp, gửi tình hình cho Sở Nội vụ",
    "overdue": "báo quá hạn cho đơn vị chưa nộp, gửi danh sách chưa nộp cho Sở Nội vụ",
    "manual": "nhắc ngay theo yêu cầu",
}
PLAN_DONE = " (đã gửi)"
PLAN_MISSED = " (bỏ lỡ: bot không chạy lúc đó)"
PLAN_MOVED = " (dời từ {at} vì giờ yên lặng)"
PLAN_NEXT = " ← lần tới"
PLAN_QUIET_NONE = "không có"
PLAN_DAY_BEFORE = "{days} ngày trước hạn"
PLAN_CHANGED = "Đã đổi lịch nhắc."
PLAN_HELP = (
    "Đổi lịch: “lịch nhắc -1 08:00, 08:00, 14:30, 16:00” (-1: một ngày trước ngày hạn). "
    "Đổi giờ yên lặng: “giờ yên lặng 21:00-07:00”."
)
PLAN_INVALID = (
    "Lịch nhắc “{value}” chưa đúng: cần các giờ HH:MM cách nhau bằng dấu phẩy, thêm -1, -2… phía trước "
    "cho những ngày trước ngày hạn, ví dụ: -1 08:00, 08:00, 14:30, 16:00."
)
QUIET_INVALID = "Giờ yên lặng “{value}” chưa đúng: cần dạng HH:MM-HH:MM, ví dụ 21:00-07:00 (hoặc “không”)."
# {example} in the deadline texts: a date a week ahead at 16:30 (bot/reminders/plan.py example_deadline), so
# that an example copied as it is is never refused as past.
DEADLINE_PAST = ("Hạn nộp {deadline} đã qua: các đơn vị sẽ chỉ xem được báo cáo ngay từ đầu, không nộp được nữa. "
                 "Kiểm tra lại ngày và năm rồi gửi lại, ví dụ: hạn nộp {example}.")
DEADLINE_CHANGED = "Đã đổi hạn nộp từ {old} thành {new}; lịch nhắc còn lại tính theo hạn mới."
DEADLINE_INVALID = "Hạn nộp “{value}” chưa đúng: cần dạng ngày/tháng/năm giờ:phút, ví dụ: hạn nộp {example}."

REMIND_COMMAND_WORDS = {
    "preview": ["nhắc", "nhắc hạn", "xem nhắc", "remind"],
    "now": ["nhắc ngay", "nhacngay", "gửi nhắc", "remind now"],
    "plan": ["lịch nhắc", "lichnhac", "plan"],
    "quiet": ["giờ yên lặng", "gioyenlang", "quiet"],
    "deadline": ["hạn nộp", "hannop", "đổi hạn", "doihan", "deadline"],
}
QUIET_OFF_WORDS = ["không", "tắt", "off"]
CLI_REMIND_QUEUED = (
    "Đã xếp {contacts} tin nhắc cho {units} đơn vị chưa nộp; bot đang chạy (hcc-bot run) sẽ gửi trong vòng 1 phút."
)
CLI_REMIND_CONFIRM = "Để gửi: hcc-bot remind --now"

# --- Purging personal data (Decree 13/2023/NĐ-CP) ------------------------------------------------------

CLI_PURGE_NOT_FINISHED = "Đợt báo cáo #{id} chưa kết thúc (hạn nộp {deadline}): chưa xóa dữ liệu cá nhân."
CLI_PURGE_CONFIRM = (
    "Sẽ xóa vĩnh viễn họ tên, chức vụ, số điện thoại và ảnh 3x4 của đợt báo cáo #{id} ({title}); "
    "số liệu, kế hoạch, kiến nghị và cỡ áo được giữ lại. Gõ XOA để xác nhận: "
)
CLI_PURGE_CONFIRM_WORD = "XOA"
CLI_PURGE_ABORTED = "Đã hủy: không xóa gì."
CLI_PURGE_DONE = (
    "Đã xóa dữ liệu cá nhân của {reports} báo cáo: {answers} câu trả lời, {versions} bản đã nộp, "
    "{photos} ảnh ({files} tệp)."
)
LINK_EXPIRED = "Liên kết tải tệp không đúng hoặc đã hết hạn. Vui lòng gõ “xuất” trong Zalo để nhận liên kết mới."
GROUP_CHAT_HINT = "Bot chỉ làm việc trong tin nhắn riêng. Vui lòng nhắn riêng cho bot để điền báo cáo."

# --- The department's review (bot/review.py): the console, the CLI and the chat say the same ----------------

READ_ONLY_ACCEPTED = (
    "Sở Nội vụ đã duyệt báo cáo của đơn vị: báo cáo chỉ còn xem được (gõ “xem lại”). "
    "Nếu cần sửa, vui lòng liên hệ Sở Nội vụ để được mở lại."
)
RETURNED_REMINDER = "Sở Nội vụ đề nghị bổ sung: “{comment}”. Sửa xong, gõ “nộp” để nộp lại."
RETURN_NOTICE = (
    "📝 Sở Nội vụ đề nghị bổ sung báo cáo của {unit} ({title}):\n“{comment}”\n\n"
    "Báo cáo đã được mở lại để đơn vị sửa, kể cả khi đã quá hạn. Cách sửa: gõ “xem lại” để xem báo cáo, "
    "“sửa” để chọn mục cần sửa (ví dụ “sửa 3”), rồi gõ “nộp” để nộp lại."
)
REVIEW_NO_UNIT = "Không có đơn vị mã “{code}”."
REVIEW_NOT_SUBMITTED = "{unit} chưa nộp báo cáo (hoặc đang bổ sung): chưa duyệt hay trả lại được."
REVIEW_ALREADY_ACCEPTED = "Báo cáo của {unit} đã được duyệt trước đó."
REVIEW_NOT_ACCEPTED = "Báo cáo của {unit} chưa được duyệt: không có gì để mở lại."
REVIEW_COMMENT_REQUIRED = "Vui lòng ghi nội dung cần bổ sung: đơn vị sẽ nhận đúng nội dung này trong tin nhắn."
REVIEW_COMMENT_TOO_LONG = "Nội dung cần bổ sung dài {length} ký tự; vui lòng viết gọn trong {max} ký tự."
REVIEW_ACCEPTED = "Đã duyệt báo cáo của {unit}. Báo cáo được khóa; có thể mở lại khi cần."
REVIEW_RETURNED = "Đã trả lại báo cáo của {unit} để bổ sung; nội dung đề nghị đang được gửi tới {contacts} người liên hệ."
REVIEW_RETURNED_NOBODY = (
    "Đã trả lại báo cáo của {unit} để bổ sung, nhưng đơn vị chưa có người liên hệ nào trên Zalo hay Telegram: "
    "vui lòng báo cho đơn vị bằng cách khác."
)
REVIEW_REOPENED = "Đã mở lại báo cáo của {unit}: đơn vị có thể sửa và nộp lại."
EXTEND_PAST = "Hạn mới phải sau thời điểm hiện tại ({now})."
EXTENDED = "Đã gia hạn cho {unit} đến {deadline}."
EXTEND_CLEARED = "{unit} trở lại hạn chung của đợt báo cáo ({deadline})."
STATE_LABELS = {
    "not_started": "chưa bắt đầu",
    "in_progress": "đang nhập",
    "submitted": "đã nộp",
    "submitted_late": "nộp muộn",
    "returned": "cần bổ sung",
    "accepted": "đã duyệt",
}
REMIND_UNIT_NOBODY = "Đơn vị này không cần nhắc: đã nộp, hoặc chưa có người liên hệ."

# --- The web console (bot/console/): pages, buttons, messages --------------------------------------------

WEB_TITLE = "Sở Nội vụ – Theo dõi báo cáo"
WEB_NAV_BOARD = "Bảng theo dõi"
WEB_NAV_EXPORTS = "Xuất dữ liệu"
WEB_SIGN_OUT = "Đăng xuất"
WEB_SIGNIN_TITLE = "Đăng nhập trang theo dõi"
WEB_SIGNIN_HOW = "Trang này chỉ dành cho cán bộ Sở Nội vụ. Để đăng nhập, hãy lấy một liên kết đăng nhập mới:"
WEB_SIGNIN_CHAT = "trong Zalo hoặc Telegram, gửi “đăng nhập web” cho bot (tài khoản quản trị);"
WEB_SIGNIN_CLI = "hoặc, trên máy chủ, chạy lệnh: hcc-bot web-login"
WEB_SIGNIN_NOTE = "Mỗi liên kết dùng được một lần, trong 10 phút. Phiên đăng nhập hết hạn sau 12 giờ không dùng."
WEB_LINK_UNKNOWN = "Liên kết đăng nhập không đúng. Vui lòng lấy liên kết mới."
WEB_LINK_USED = "Liên kết đăng nhập này đã được dùng lúc {at}. Mỗi liên kết chỉ dùng được một lần: vui lòng lấy liên kết mới."
WEB_LINK_EXPIRED = "Liên kết đăng nhập đã hết hạn lúc {at}. Vui lòng lấy liên kết mới."
WEB_LOGIN_AS = "Đăng nhập với tên: {officer}."
WEB_LOGIN_BUTTON = "Đăng nhập"
WEB_SIGNED_OUT = "Phiên đăng nhập đã hết hạn. Vui lòng tải lại trang và đăng nhập lại."
WEB_CSRF = "Yêu cầu không hợp lệ (thiếu mã bảo vệ của biểu mẫu). Vui lòng tải lại trang rồi thử lại; không có gì bị thay đổi."
WEB_BOARD_TITLE = "Bảng theo dõi"
WEB_DEADLINE = "Hạn nộp: {deadline} ({left})"
WEB_SUBMITTED_COUNT = "đã nộp {done}/{total} đơn vị"
WEB_UPDATED = "cập nhật {at}"
WEB_ALL = "Tất cả"
WEB_OVERDUE = "quá hạn"
WEB_BOARD_COLUMNS = {
    "code": "Mã",
    "name": "Đơn vị",
    "state": "Trạng thái",
    "progress": "Hoàn thành",
    "missing": "Còn thiếu",
    "activity": "Hoạt động gần nhất",
    "submitted": "Nộp lúc",
    "late": "Đúng hạn",
    "contacts": "Người liên hệ",
}
WEB_ON_TIME = "đúng hạn"
WEB_LATE = "muộn"
WEB_EXTENDED_TO = "gia hạn đến {deadline}"
WEB_DELIVERY = {
    "sent": "đã nhận tin",
    "failed": "tin gửi không được",
    "pending": "đang gửi tin",
    "blocked": "không gửi được tin",
    "none": "chưa có tin nhắc",
    "seen": "đã nhắn cho bot",  # no reminder yet, but the contact wrote to the bot
}
WEB_NO_CONTACT = "chưa có người liên hệ"
WEB_NO_ROWS = "Không có đơn vị nào ở trạng thái này."
WEB_REMIND_ALL = "Nhắc ngay tất cả đơn vị chưa nộp"
WEB_REMIND_ONE = "Nhắc ngay"
WEB_REMINDED_UNIT = "Đã xếp tin nhắc cho {contacts} người liên hệ của {unit}; bot gửi ngay."
WEB_PROGRESS = "hoàn thành {percent}%"
WEB_MISSING = "còn thiếu"
WEB_UNIT_DEADLINE = "Hạn nộp của đơn vị: {deadline}"
WEB_EXTENDED_FROM = "đã gia hạn; hạn chung {deadline}"
WEB_SUBMITTED_AT = "nộp lúc {at}"
WEB_REPORTER = "Người điền báo cáo"
WEB_RETURNED_WITH = "Đã trả lại để bổ sung ({officer}, {at}):"
WEB_ACCEPTED_BY = "Đã duyệt ({officer}, {at}). Báo cáo đã khóa: đơn vị không sửa được cho đến khi mở lại."
WEB_REVIEW = "Xem xét"
WEB_ACCEPT = "Duyệt"
WEB_RETURN = "Trả lại để bổ sung"
WEB_RETURN_LABEL = "Nội dung đề nghị bổ sung (gửi tới người liên hệ của đơn vị):"
WEB_RETURN_PLACEHOLDER = "Ví dụ: Bổ sung ảnh 3x4 của nhân sự chính thứ 2."
WEB_REOPEN = "Mở lại để đơn vị sửa"
WEB_REVIEW_WAIT = "Đơn vị chưa nộp (hoặc đang bổ sung): chờ đơn vị nộp để duyệt."
WEB_EXTEND_LABEL = "Gia hạn riêng cho đơn vị đến:"
WEB_EXTEND_PLACEHOLDER = "dd/mm/yyyy hh:mm"
WEB_EXTEND = "Gia hạn"
WEB_EXTEND_CLEAR = "Bỏ gia hạn"
WEB_DEADLINE_INVALID = "Không đọc được hạn “{value}”. Vui lòng nhập ngày và giờ, ví dụ {example}."
WEB_DOWNLOAD_DOCX = "Tải báo cáo của đơn vị (.docx)"
WEB_DIFF_TITLE = "Thay đổi từ bản {old} đến bản {new} ({count} thay đổi)"
WEB_DIFF_NONE = "Hai bản giống nhau."
WEB_CHANGE_FIELD = {"added": "Thêm", "removed": "Bỏ", "changed": "Sửa"}
WEB_CHANGE_ITEM = {"added": "Thêm", "removed": "Bỏ", "changed": "Sửa"}
WEB_VERSIONS = "Các lần nộp"
WEB_VERSION_COLUMNS = ("Bản", "Nộp lúc", "Người nộp", "Ghi chú", "")
WEB_VERSION_RETURNED = "đã trả lại để bổ sung"
WEB_VIEW = "xem"
WEB_COMPARE_PREVIOUS = "so với bản trước"
WEB_DRAFT_DIFFERS = "Đơn vị đang sửa báo cáo (chưa nộp lại)."
WEB_VIEW_DRAFT = "Xem bản đang sửa"
WEB_NO_VERSIONS = "Đơn vị chưa nộp lần nào."
WEB_REPORT = "Báo cáo"
WEB_SHOWING_DRAFT = "bản đang nhập, chưa nộp"
WEB_SHOWING_VERSION = "bản {n}, nộp lúc {at}"
WEB_STT = "STT"
WEB_CONTACTS = "Người liên hệ"
WEB_HISTORY = "Lịch sử xem xét"
WEB_HISTORY_ACTIONS = {
    "review_accept": "duyệt",
    "review_return": "trả lại để bổ sung",
    "review_reopen": "mở lại",
    "deadline_unit": "đổi hạn riêng",
}
WEB_EXPORT_START = "Xuất tổng hợp mới"
WEB_EXPORT_RUNNING = "Đang có một lần xuất chưa xong; vui lòng đợi."
WEB_EXPORT_AT = "Bản xuất lúc {at}"
WEB_EXPORT_ZIP = "tất cả trong một tệp nén"
WEB_NO_EXPORTS = "Chưa có bản xuất nào."
WEB_LOGIN_CHAT = (
    "Liên kết đăng nhập trang theo dõi (chỉ dùng một lần, hết hạn lúc {expires}; không chuyển cho người khác):\n{url}"
)
WEB_LOGIN_NO_CONSOLE = "Trang theo dõi trên web chưa chạy trên máy chủ này (hcc-bot run)."
REVIEW_COMMAND_WORDS = {
    "accept": ["duyệt"],
    "return": ["trả lại"],
    "reopen": ["mở lại"],
    "extend": ["gia hạn"],
}
WEB_PAGE = "Đơn vị {first}–{last} trong {total} (trang {page}/{pages})"
WEB_PAGE_PREVIOUS = "trang trước"
WEB_PAGE_NEXT = "trang sau"
WEB_COMPARE = "So sánh"
WEB_COMPARE_WITH = "với"
WEB_COMPARE_BUTTON = "Xem thay đổi"
WEB_VERSION_N = "bản {n}"

# --- exports of any form ---
# The generic layout of the documents for a form other than the shipped report (exports/generic.py).
DOC_GENERIC_SECTION = "{number}. {title}"  # a section's heading: "II. Học viên"
DOC_GENERIC_COL_QUESTION = "Nội dung"
DOC_GENERIC_COL_ANSWER = "Thông tin"
DOC_GENERIC_COL_DETAILS = "Thông tin chi tiết"  # a list with too many questions for one column each
DOC_PHOTO_GIVEN = "có ảnh"
DOC_PHOTO_MISSING = "chưa có ảnh"

# --- i22-review ---
# A review action on a page (or a CLI read) that is out of date: nothing changes, and the officer is told why.
REVIEW_STALE = (
    "Chưa {action}, không có gì thay đổi: báo cáo của {unit} đã thay đổi sau khi bạn xem – {changes}. "
    "Trạng thái hiện tại: {state}. Vui lòng xem lại rồi thao tác trên trạng thái này nếu vẫn cần."
)
# The chat acts on what it showed the officer ("tình hình", or its last reply about the unit).
REVIEW_CHAT_CONFIRM = (
    "Chưa thực hiện, không có gì thay đổi: bạn chưa xem trạng thái báo cáo của {unit} trong cuộc trò chuyện này. "
    "Báo cáo hiện: {state} ({changes}). Nếu vẫn cần, gửi lại {command} để thực hiện trên trạng thái này."
)
REVIEW_CHAT_AGAIN = "Nếu vẫn cần, gửi lại {command}."
REVIEW_CHAT_COMMAND = "“{command}”"
REVIEW_CHAT_SAME_MESSAGE = "đúng tin nhắn vừa rồi"  # a long or several-line command is not quoted back cut
REVIEW_UNIT_INACTIVE = (
    "Chưa {action}: {unit} đã ngừng hoạt động nên người liên hệ của đơn vị không sửa hay nộp được nữa. "
    "Nếu cần, cho đơn vị hoạt động lại trước: hcc-bot units activate {code}."
)
REVIEW_ACTION_NAMES = {"accept": "duyệt", "return": "trả lại", "reopen": "mở lại", "extend": "gia hạn"}
REVIEW_CHANGE_LINE = "{who} {what} lúc {at}"
REVIEW_CHANGE_ACTIONS = {
    "submit": "nộp báo cáo",
    "review_accept": "duyệt",
    "review_return": "trả lại để bổ sung",
    "review_reopen": "mở lại sau khi duyệt",
    "deadline_unit": "đổi hạn riêng",
    "close": "khóa báo cáo",
    "reopen": "mở lại cho đơn vị sửa",
}
REVIEW_CHANGE_SOMEONE = "người quản trị máy chủ"
REVIEW_CHANGE_UNKNOWN = "đã có thay đổi"
REVIEW_RETURN_ACCEPTED = (
    "Chưa trả lại, không có gì thay đổi: báo cáo của {unit} đã được {officer} duyệt lúc {at}. "
    "Nếu vẫn cần trả lại, hãy mở lại trước (“mở lại {code}”) rồi trả lại."
)
REVIEW_EXPECT_MISSING = "Không rõ bạn đã xem trạng thái nào của báo cáo: vui lòng tải lại trang rồi thao tác."
REVIEW_EXPECT_INVALID = "“{value}” không phải mã trạng thái báo cáo (dạng 2.17, in ra bởi hcc-bot review show)."
CLI_REVIEW_SHOW = (
    "{unit} ({code}) – {title}\n"
    "Trạng thái: {state}\n"
    "Bản đã nộp mới nhất: {version}\n"
    "Thay đổi gần nhất: {last}\n"
    "Mã trạng thái: {token} (thao tác đúng trạng thái này: hcc-bot review … {code} --expect {token})"
)
CLI_REVIEW_NO_VERSION = "chưa có"
CLI_REVIEW_VERSION = "bản {n}, nộp lúc {at}"
CLI_REVIEW_NOTHING_YET = "chưa có"
CLI_REVIEW_NOW = "Mã trạng thái hiện tại: {token} (hcc-bot review show {code} để xem)"
CLI_REVIEW_EXPECT_NEEDED = (
    "Chưa thực hiện: thiếu --expect. Báo cáo của {unit} hiện: {state}, mã trạng thái {token} (hcc-bot review show {code} "
    "để xem). Chạy lại với --expect {token} để thực hiện trên trạng thái này, hoặc --force."
)
# --- i24-engine ---
OTHER_CHOICE = "Khác (ghi rõ)"
OTHER_WORDS = ("khác", "khác (ghi rõ)", "lựa chọn khác", "other")  # typed for "Khác (ghi rõ)"
WEB_DELIVERY = {**WEB_DELIVERY, "seen": "đã nhắn cho bot"}  # no reminder yet, but the contact wrote to the bot
# --- i24-engine ---
OTHER_CHOICE = "Khác (ghi rõ)"
OTHER_PROMPT = "Bạn chọn “Khác”: vui lòng ghi rõ ({label})."
MISSING_OTHER_TEXT = "{section}: {label} – chưa ghi rõ “Khác”"
TIME_INVALID = "Chưa đọc được giờ. Vui lòng gửi giờ theo dạng 24 giờ, ví dụ: 08:30 hoặc 14:00 (cũng có thể gõ 8h30)."
DATETIME_INVALID = ("Chưa đọc được ngày giờ. Vui lòng gửi theo dạng ngày/tháng/năm giờ:phút, "
                    "ví dụ: 28/03/2017 14:30.")
GEOPOINT_INVALID = ("Chưa đọc được vị trí. Trên Telegram, bấm 📎 rồi chọn “Vị trí” để gửi vị trí; hoặc gõ vĩ độ, "
                    "kinh độ, ví dụ: 10.95, 106.82 (hoặc dán đường dẫn Google Maps).")
GEOPOINT_OUT_OF_RANGE = ("Tọa độ không hợp lệ: vĩ độ phải từ −90 đến 90, kinh độ từ −180 đến 180. "
                         "Ví dụ: 10.95, 106.82.")
GEOPOINT_HINT = "Gửi vị trí (Telegram: 📎 → Vị trí) hoặc gõ tọa độ, ví dụ: 10.95, 106.82."
LOCATION_NOT_EXPECTED = "Câu hỏi này không cần vị trí."
MORE_ITEMS = "Thêm {item} nữa không?"
ANY_ITEMS = "Có {item} nào không?"
HEADER_COUNT = " ({count} {item})"
# --- form file errors (conversations/form.py) ---
# A broken YAML form file: "<file>: <where>: <problem>", <where> the field's place in the file as written there
# (sections[2].questions[0] (ho_ten).type); the problem says what to write instead. YAML keys and type names are
# kept as they are typed in the file.
FORM_ERR_YAML = "dòng {line}, cột {column}: lỗi cú pháp YAML, {problem}"
FORM_ERR_YAML_NO_PLACE = "lỗi cú pháp YAML, {problem}"
FORM_ERR_YAML_OTHER = "hãy kiểm tra thụt lề, dấu ':' và dấu nháy ở chỗ này ({problem})"
FORM_ERR_NOT_UTF8 = "dòng {line}: không phải văn bản UTF-8; hãy lưu tệp .yaml dạng văn bản UTF-8 (hoặc dùng tệp .xlsx)"
# PyYAML's problems (regular expressions, the whole problem) as the author reads them.
FORM_ERR_YAML_PROBLEMS = {
    r"mapping values are not allowed here": "dấu ':' không đúng chỗ (thụt lề sai, hoặc nội dung có ': ' chưa đặt "
                                            "trong nháy kép \"…\")",
    r"found character '\\t' that cannot start any token": "có ký tự tab; hãy thụt lề bằng dấu cách",
    r"found character '(.*)' that cannot start any token": "ký tự '{0}' không đứng đầu một giá trị được; hãy đặt "
                                                           "nội dung trong nháy kép \"…\"",
    r"could not find expected ':'": "thiếu dấu ':' sau tên trường (mỗi dòng là 'tên: giá trị' hoặc '- mục')",
    r"expected <block end>, but found .*": "thụt lề không khớp với các dòng trên (các trường cùng cấp phải thẳng cột)",
    r"did not find expected key": "thụt lề không khớp với các dòng trên, hoặc thiếu dấu ':'",
    r"did not find expected '-' indicator": "thụt lề không khớp: các mục của một danh sách bắt đầu bằng '- ', "
                                            "thẳng cột",
    r"expected ',' or '\]', but got .*": "danh sách [ … ] chưa đóng: thiếu ']' hoặc dấu ',' giữa các mục",
    r"expected ',' or '\}', but got .*": "{{ … }} chưa đóng: thiếu '}}' hoặc dấu ',' giữa các trường",
    r"expected the node content, but found '(.*)'": "gặp '{0}' ở chỗ cần một giá trị",
    r"found unexpected end of stream": "dấu nháy mở ở đây chưa được đóng",
    r"found unknown escape character .*": "trong nháy kép có dấu '\\' không hợp lệ; hãy dùng nháy đơn '…'",
    r"found undefined alias '(.*)'": "'*{0}' chưa được khai báo; nội dung bắt đầu bằng * thì đặt trong nháy kép \"…\"",
    r"but found another document": "tệp có nhiều tài liệu YAML (dòng ---); một biểu mẫu là một tài liệu",
    r"unacceptable character #x(\w+).*": "có ký tự điều khiển #x{0}; biểu mẫu YAML phải là tệp văn bản",
}
FORM_ERR_EMPTY_TEXT = "còn trống; hãy viết nội dung"
FORM_ERR_NOT_TEXT = "phải là chữ; một số hay true/false dùng làm chữ thì đặt trong nháy kép, ví dụ \"2024\""
FORM_ERR_KEY = ("'{key}' không dùng được làm key; key gồm chữ thường không dấu, chữ số và _, bắt đầu bằng chữ, "
                "tối đa 40 ký tự, ví dụ: so_luong")
FORM_ERR_KEY_MISSING = "thiếu key; hãy thêm key: gồm chữ thường không dấu, chữ số và _, ví dụ: so_luong"
FORM_ERR_UNKNOWN_FIELD = "không có trường '{name}' ở đây (sai chính tả?); dùng một trong: {allowed}"
FORM_ERR_TOP = "tệp phải gồm các dòng 'tên: giá trị' với id, title, sections"
FORM_ERR_CHOICE_LISTS = "phải gồm các danh sách lựa chọn theo tên, dạng 'ten_danh_sach: [lựa chọn, …]'"
FORM_ERR_UNKNOWN_LIST = "không có danh sách lựa chọn '{name}' trong choice_lists (có: {known})"
FORM_ERR_NO_LISTS = "chưa có danh sách nào"
FORM_ERR_CHOICES = ("phải là một danh sách có ít nhất một lựa chọn, mỗi lựa chọn dạng {{value: …, label: …}}, hoặc "
                    "tên một danh sách trong choice_lists")
FORM_ERR_CHOICE_PARTS = "mỗi lựa chọn cần value và label, ví dụ {{value: nu, label: Nữ}}"
FORM_ERR_CHOICE_VALUE_LONG = "dài hơn 60 byte; hãy dùng một mã ngắn làm value và để chữ ở label"
FORM_ERR_WHEN = "phải là một giá trị, hoặc một danh sách giá trị (mỗi câu hỏi lọc một giá trị)"
FORM_ERR_COLUMNS = "phải gồm các dòng 'tên cột: giá trị'"
FORM_ERR_CHOICE_TWICE = "hai lựa chọn có cùng value; mỗi lựa chọn cần một value riêng"
FORM_ERR_FILTER_BY = "phải là key của một câu hỏi, hoặc một danh sách key"
FORM_ERR_EMPTY_LIST = "phải là một danh sách có ít nhất một mục (mỗi mục bắt đầu bằng '- ')"
FORM_ERR_MAPPING = "phải gồm các dòng 'tên: giá trị' (key: …, title: …)"
FORM_ERR_TYPE = "loại câu hỏi '{type}' không có; dùng một trong: {types}"
FORM_ERR_TYPE_MISSING = "thiếu type; dùng một trong: {types}"
FORM_ERR_FLAG = "phải là true hoặc false"
FORM_ERR_TYPE_ONLY = "chỉ câu hỏi type {types} mới có {name}; hãy bỏ {name} hoặc đổi type"
FORM_ERR_CHOICE_TYPES = "choice hoặc multi_choice"
FORM_ERR_BADGE = "chỉ câu hỏi type photo mới in lên thẻ; hãy bỏ badge hoặc đổi type"
FORM_ERR_ASK_IF_AND_RELEVANT = "một câu hỏi dùng ask_if hoặc relevant, không dùng cả hai; hãy bỏ một trong hai"
FORM_ERR_NO_CONSTRAINT = "chưa có constraint; constraint_message chỉ dùng kèm constraint"
FORM_ERR_CALCULATION_MISSING = "câu hỏi type calculate cần calculation (biểu thức tính ra giá trị)"
FORM_ERR_META_MISSING = "câu hỏi type meta cần meta: một trong {kinds}"
FORM_ERR_DOT = "'.' (câu trả lời này) không dùng được trong {name}"
FORM_ERR_ASK_IF = "phải có dạng {{key: K, <phép so sánh>: V}} với đúng một phép so sánh trong: {ops}"
FORM_ERR_ITEM_OF = ("item_of chỉ đặt ở câu hỏi đầu (type choice) của một phần lặp (repeat) và nêu key của một phần "
                    "lặp ở trước")
FORM_ERR_ITEM_OF_REQUIRED = ("câu hỏi item_of luôn bắt buộc, không có choices, filter_by, choice_filter, ask_if, "
                             "or_other (relevant của nó cho biết những mục nào của danh sách cha được đưa ra)")
FORM_ERR_OTHER_TAKEN = ("đã có lựa chọn value '{value}', trùng với lựa chọn “Khác (ghi rõ)” của or_other; hãy đổi "
                        "value đó")
FORM_ERR_NOT_IN_FORM = "'{name}' không phải key của câu hỏi nào trong biểu mẫu"
FORM_ERR_DUPLICATE_KEY = "key '{key}' bị trùng; mỗi mục cần một key riêng"
FORM_ERR_NOT_EARLIER = "'{name}' không phải key của một câu hỏi ở trước, trong cùng phần"
FORM_ERR_COMPARE_INTEGERS = "chỉ so sánh hai câu hỏi type integer"
FORM_ERR_COMPARE_DATES = "chỉ so sánh hai câu hỏi type date"
FORM_ERR_WHEN_COUNT = "lựa chọn '{value}' cần {count} giá trị trong when, mỗi câu lọc một: {keys}"
FORM_ERR_WHEN_UNKNOWN = "lựa chọn '{value}' có when: {when}, không phải value của một lựa chọn của '{key}'"
FORM_ERR_DEFERRABLE = "chỉ câu hỏi type photo bắt buộc mới gửi sau được (deferrable)"
FORM_ERR_REPEAT = ("phải có dạng {{min: N, max: N, item: tên gọi một mục}} (max: null hoặc không có: không giới hạn; "
                   "count: biểu thức: số mục theo một câu trả lời)")
FORM_ERR_REPEAT_BOUNDS = ("min, max phải là số nguyên, 0 ≤ min ≤ max và max ≥ 1 (hoặc max: null: không giới hạn); "
                          "đang là min: {min}, max: {max}")
FORM_ERR_NESTED_OPEN = ("danh sách nằm trong danh sách (item_of) là danh sách mở: min 0, không có count (số mục của "
                        "mỗi mục cha không biết trước)")
FORM_ERR_REPEAT_FIRST_PHOTO = "câu hỏi đầu tiên của phần lặp không được là ảnh (câu trả lời của nó gọi tên mục)"
FORM_ERR_COMPACT_KEYS = "phải liệt kê key câu hỏi của phần này (có: {keys})"
FORM_ERR_COMPACT_SHAPE = ("phải liệt kê ít nhất hai câu hỏi đầu của phần, đúng thứ tự, không có câu ảnh, câu chọn "
                          "nhiều (multi_choice) hay câu có điều kiện")
FORM_ERR_ID = "thiếu id của biểu mẫu; hãy thêm dòng id: ten_bieu_mau"
FORM_ERR_TITLE = "thiếu title (tên biểu mẫu); hãy thêm dòng title: …"
FORM_ERR_VERSION = "phải là chữ hoặc số, ví dụ version: 2"
FORM_ERR_VALUE_KIND = "có giá trị không phải chữ, số, true/false, danh sách hay 'tên: giá trị'"
# --- i24-read ---
# Refusals of a form file (issue 22 part 4, issue 24): one line each, read by the officer who wrote the file.
FORM_LIMIT_FILE_SIZE = "tệp nặng {size} MB, quá giới hạn {limit} MB của một biểu mẫu"
FORM_LIMIT_SHEET_SIZE = "trang tính {sheet} giải nén ra {size} MB, quá giới hạn {limit} MB mỗi trang tính"
FORM_LIMIT_ROWS = "trang tính {sheet} có hơn {limit} dòng, quá giới hạn {limit} dòng mỗi trang tính"
FORM_LIMIT_QUESTIONS = "biểu mẫu có hơn {limit} câu hỏi, quá giới hạn {limit} câu hỏi (hãy chia thành nhiều biểu mẫu)"
FORM_LIMIT_LABEL = "nội dung dài hơn {limit} ký tự, quá giới hạn {limit} ký tự (hãy rút gọn)"
FORM_TOO_BIG_FOR_MEMORY = "tệp quá lớn để đọc (hết bộ nhớ); hãy gửi một tệp nhỏ hơn"
FORM_LIMIT_COLUMNS = "trang tính {sheet} có hơn {limit} cột, quá giới hạn {limit} cột mỗi trang tính"
# Where a refusal of an XLSForm stands, and what it says (conversations/xlsform.py).
XLSFORM_AT_COLUMN = "trang tính {sheet}, dòng {row}, cột {column}"
XLSFORM_AT_ROW = "trang tính {sheet}, dòng {row}"
XLSFORM_AT_SHEET = "trang tính {sheet}"
XLSFORM_NO_SURVEY = "không có trang tính survey (một XLSForm cần trang survey, choices, settings tùy chọn)"
XLSFORM_COLUMN_MISSING = "thiếu cột {column}"
XLSFORM_UNKNOWN_HCC = "cột mở rộng này không có (các cột hcc:: có: prompt, personal, deferrable, badge, not_above, " \
    "not_before, compact, min, max, item)"
XLSFORM_NO_QUESTIONS = "biểu mẫu không có câu hỏi nào"
XLSFORM_CHOICE_NO_NAME = "một lựa chọn của danh sách '{list}' không có name (giá trị lưu)"
XLSFORM_CHOICE_TOO_LONG = "giá trị lựa chọn '{value}…' dài hơn 60 byte: hãy dùng mã ngắn, để chữ ở cột label"
XLSFORM_CHOICE_DUPLICATE = "giá trị '{value}' lặp lại trong danh sách '{list}' (mỗi lựa chọn một giá trị riêng)"
XLSFORM_CHOICE_NO_FILTER = "lựa chọn '{value}' chưa có giá trị ở cột {column} mà choice_filter dùng"
XLSFORM_NO_TYPE = "dòng này chưa có kiểu câu hỏi (cột type)"
XLSFORM_END_WITHOUT_BEGIN = "'{type}' không có begin_{word} tương ứng ở trên"
XLSFORM_END_MISMATCH = "'{type}' đóng begin_{word} ở dòng {row}: hãy đóng đúng nhóm mở sau cùng"
XLSFORM_NO_END = "begin_{word} '{name}' chưa có end_{word}"
XLSFORM_GROUP_NO_NAME = "nhóm chưa có tên (cột name)"
XLSFORM_LOOP = "begin loop (lặp theo danh sách lựa chọn) không hỏi được trong trò chuyện; hãy dùng begin_repeat"
# A list inside a list (a repeat in a repeat): each item of the inner list says which item of the outer one it
# belongs to, chosen first. {item}: the inner list's item word, {parent}: the outer list's.
ITEM_OF_PROMPT = "{item} này thuộc {parent} nào? Chọn một trong danh sách đã nhập (bấm nút hoặc gõ số thứ tự)."
ITEM_OF_CHANGED = "Danh sách vừa được thay đổi (có thể bởi người khác của đơn vị). Vui lòng chọn lại theo danh sách dưới đây."
ITEM_OF_NONE = "Danh sách {parent} chưa có mục nào để gắn {item} vào, nên chưa nhập được {item}."
XLSFORM_INNER_COUNT = ("nhóm lặp nằm trong nhóm lặp khác được hỏi như một danh sách mở (“Thêm … nữa không?”): "
                       "số mục của từng mục cha không được kiểm tra")
XLSFORM_REPEAT_ONLY = "cột này chỉ dùng ở dòng begin_repeat"
XLSFORM_WHOLE_NUMBER = "'{value}' phải là một số nguyên"
XLSFORM_COUNT_OR_MIN_MAX = "dùng repeat_count hoặc hcc::min/hcc::max, không dùng cả hai"
XLSFORM_NO_NAME = "câu hỏi chưa có tên (cột name)"
XLSFORM_TYPE = "kiểu '{type}' không hỏi được trong trò chuyện (dùng --skip-unsupported để bỏ qua câu này)"
XLSFORM_NO_LIST = "kiểu '{type}' cần tên danh sách lựa chọn, ví dụ select_one gioi_tinh"
XLSFORM_NO_CALCULATION = "câu calculate chưa có biểu thức ở cột calculation"
XLSFORM_REQUIRED = "'{value}' không phải yes hoặc no (điều kiện bắt buộc theo biểu thức chưa được hỗ trợ)"
XLSFORM_EXPRESSION = "biểu thức chưa được hỗ trợ: {problem}"
XLSFORM_YES_NO = "'{value}' không phải yes hoặc no"
XLSFORM_GROUP_ONLY = "cột này chỉ dùng ở dòng begin_group hoặc begin_repeat"
XLSFORM_LIST_MISSING = "danh sách lựa chọn '{list}' không có trong trang tính choices"
XLSFORM_EXTERNAL_MISSING = "danh sách lựa chọn '{list}' không có trong trang tính external_choices"
XLSFORM_FILTER = ("choice_filter '{value}' chưa được hỗ trợ (dùng dạng cot = ${{cau_hoi}}, có thể nối nhiều điều kiện "
                  "bằng and)")
XLSFORM_FILTER_COLUMN = "choice_filter dùng '{column}', không phải một cột lọc của trang tính {sheet}"
XLSFORM_FILTER_TWO = "danh sách '{list}' đã được lọc theo cột '{column}' ở dòng {row}"
XLSFORM_NAME_UNKNOWN = "'{name}' không phải tên một câu hỏi của biểu mẫu: coi như một câu đã bị bỏ qua"
XLSFORM_NAMES_SKIPPED = "câu '{key}' bỏ qua vì dùng câu '{other}' đã bị bỏ qua"
XLSFORM_ALL_SKIPPED = " (đã bỏ qua {count} dòng không hỏi được)"
XLSFORM_FILTER_OUTSIDE = "choice_filter dùng câu '{key}', không phải một câu hỏi ở trước trong cùng phần"
XLSFORM_FILTER_EMPTY = "choice_filter '{value}' không giữ lại lựa chọn nào"
XLSFORM_FILTER_NEVER = ("{count} lựa chọn của danh sách '{list}' không bao giờ được đưa ra: giá trị lọc của chúng "
                        "không phải một lựa chọn của câu hỏi mà choice_filter dùng")
XLSFORM_LIST_EMPTY = "danh sách lựa chọn '{list}' không có lựa chọn nào có giá trị ở cột {column} mà choice_filter dùng"
# parse_form's problems (FORM_ERR_* above, for YAML authors) as an XLSForm's author reads them, by the same fields.
XLSFORM_FORM_PROBLEMS = {
    FORM_ERR_DUPLICATE_KEY: "tên '{key}' lặp lại (mỗi câu hỏi một tên riêng)",
    FORM_ERR_NOT_IN_FORM: "'{name}' không phải tên một câu hỏi của biểu mẫu",
    FORM_ERR_NOT_EARLIER: "'{name}' không phải một câu hỏi ở trước, trong cùng phần",
    FORM_ERR_COMPARE_INTEGERS: "chỉ so sánh hai câu hỏi số nguyên",
    FORM_ERR_COMPARE_DATES: "chỉ so sánh hai câu hỏi ngày",
    FORM_ERR_COMPACT_KEYS: "phải liệt kê tên câu hỏi của phần này (có: {keys})",
    FORM_ERR_COMPACT_SHAPE: "phải liệt kê ít nhất hai câu hỏi đầu của phần, theo thứ tự, không có câu ảnh, "
                            "câu chọn nhiều hay câu có điều kiện",
    FORM_ERR_DEFERRABLE: "chỉ câu ảnh bắt buộc mới được gửi sau",
    FORM_ERR_BADGE: "chỉ câu ảnh mới in lên thẻ",
    FORM_ERR_WHEN_UNKNOWN: "lựa chọn '{value}' lọc theo '{when}', không phải một lựa chọn của '{key}'",
    FORM_ERR_EMPTY_TEXT: "còn trống",
    FORM_ERR_NO_CONSTRAINT: "không có constraint đi kèm",
    FORM_ERR_REPEAT_BOUNDS: "hcc::min, hcc::max phải là số nguyên, 0 ≤ min ≤ max và max ≥ 1",
}
CLI_CAMPAIGN_SKIPPED = "Đã bỏ qua {count} dòng của biểu mẫu mà trò chuyện không hỏi được (--skip-unsupported):"
FORM_LIMIT_TOTAL_SIZE = "tệp giải nén ra {size} MB, quá giới hạn {limit} MB của một biểu mẫu"
# The evaluator's problems (conversations/xpath.py) in a refused expression, of an XLSForm or a YAML form.
XLSFORM_EXPRESSION_PROBLEMS = {
    r"unexpected (.*) in (.*)": "không hiểu {0} trong {1}",
    r"(.*) ends too early": "{0} còn thiếu phần cuối",
    r"expected (.*) but found (.*) in (.*)": "cần {0} nhưng gặp {1} trong {2}",
    r"chained comparison in (.*): use and": "hai phép so sánh liền nhau trong {0}: hãy nối bằng and",
    r"function (.*)\(\) is not supported \(supported: (.*)\)": "hàm {0}() chưa được hỗ trợ (có: {1})",
    r"(.*)\(\) takes (\d+) argument\(s\), got (\d+)": "hàm {0}() cần {1} đối số, có {2}",
    r"(.*)\(\) takes (\d+) to (\d+) argument\(s\), got (\d+)": "hàm {0}() cần từ {1} đến {2} đối số, có {3}",
    r"(.*)\(\) takes at least (\d+) argument\(s\), got (\d+)": "hàm {0}() cần ít nhất {1} đối số, có {2}",
    r"empty expression": "biểu thức trống",
    r"indexed-repeat\(\) reads a question of a list from outside that list": "indexed-repeat() chỉ đọc một câu hỏi "
                                                                          "của nhóm lặp từ bên ngoài nhóm lặp đó",
    r"empty \$\{\} in (.*)": "${{}} không có tên câu hỏi trong {0}",
    r"regex\(\) needs a quoted pattern as its second argument": "regex() cần mẫu đặt trong dấu nháy làm đối số "
                                                              "thứ hai, ví dụ regex(., '^[0-9]+$')",
    r"regex\(\) pattern (.*) is not valid \((.*)\)": "mẫu {0} của regex() không phải biểu thức chính quy hợp lệ",
    r"jr:choice-name\(\) needs '\$\{question\}' as its second argument": "jr:choice-name() cần '${{câu hỏi}}' "
                                                                         "làm đối số thứ hai",
    r"must be an expression in quotes": "phải là một biểu thức đặt trong dấu nháy",
}
FORM_UNREADABLE = "không đọc được bảng tính này (mở bằng Excel hoặc LibreOffice rồi lưu lại dạng .xlsx)"
FORM_CANNOT_READ = "không đọc được tệp ({reason})"
FORM_KIND = "biểu mẫu là tệp .yaml, .yml, .xlsx hoặc .xls"
# --- i23-units ---
# Units are the province's: importing them from a spreadsheet, the empty installation, clean start-up errors.
UNITS_COL_CODE = "mã"
UNITS_COL_NAME = "tên"
UNITS_COL_GROUP = "nhóm"
UNITS_COL_EMAIL = "email"
# Header words accepted for each column (compared without accents and case): Excel files made in Vietnamese.
UNITS_HEADER_ALIASES = {
    "code": ["code", "mã", "mã đơn vị", "ký hiệu", "mã số"],
    "name": ["name", "tên", "tên đơn vị", "đơn vị", "tên cơ quan", "cơ quan, đơn vị"],
    "group": ["group", "parent", "nhóm", "khối", "loại", "cấp", "nhóm đơn vị", "đơn vị cấp trên"],
    "email": ["email", "e-mail", "thư điện tử", "địa chỉ email"],
}
UNITS_FILE_ROW = "{path}, dòng {row}, cột “{column}”: {problem}"
UNITS_FILE_LINE = "{path}, dòng {row}: {problem}"
UNITS_FILE_ONLY = "{path}: {problem}"
UNITS_FILE_KIND = "chỉ nhận tệp .csv hoặc .xlsx"
UNITS_FILE_UNREADABLE = "không đọc được tệp ({reason})"
UNITS_FILE_NOT_UTF8 = ("không phải văn bản UTF-8 (trong Excel chọn Lưu thành → “CSV UTF-8 (Comma delimited)”, "
                       "hoặc lưu dạng .xlsx)")
UNITS_FILE_EMPTY = "tệp trống; cần dòng tiêu đề có cột mã và tên, ví dụ “mã;tên đơn vị;nhóm;email”"
UNITS_FILE_NO_HEADER = "thiếu cột {columns} ở dòng tiêu đề (đang có: {found}); ví dụ “mã;tên đơn vị;nhóm;email”"
UNITS_FILE_DUP_COLUMN = "cột “{column}” có hai lần ở dòng tiêu đề"
UNITS_FILE_NO_ROWS = "không có đơn vị nào dưới dòng tiêu đề"
UNITS_BAD_CODE = "mã “{value}” chỉ được gồm 1 đến 32 chữ A-Z, số 0-9, “_” hoặc “-” (không dấu, không khoảng trắng)"
UNITS_EMPTY_NAME = "tên đơn vị đang trống"
UNITS_LOST_ACCENTS = ("tên “{value}” có dấu “?”: tệp đã mất dấu tiếng Việt khi lưu; trong Excel chọn Lưu thành → "
                      "“CSV UTF-8 (Comma delimited)” hoặc .xlsx")
UNITS_BAD_EMAIL = "email “{value}” chưa đúng dạng, ví dụ vanthu@sotp.dongnai.gov.vn"
UNITS_DUP_CODE = "mã “{code}” đã có ở dòng {first}"
UNITS_TOO_LONG = "dài quá {limit} ký tự"
UNITS_PREVIEW_HEADER = "{path}: {rows} đơn vị."
UNITS_PREVIEW_ADDED = "Thêm mới ({count}):"
UNITS_PREVIEW_UPDATED = "Đổi tên hoặc thông tin ({count}):"
UNITS_PREVIEW_REACTIVATED = "Hoạt động trở lại ({count}):"
UNITS_PREVIEW_DEACTIVATED = "Ngừng hoạt động ({count}) – không xóa; báo cáo, người liên hệ vẫn giữ; không vào đợt mới, không được nhắc:"
UNITS_PREVIEW_UNCHANGED = "Không đổi: {count} đơn vị."
UNITS_PREVIEW_IGNORED = "Bỏ qua cột: {columns}."
UNITS_PREVIEW_NOTHING = "Không có gì thay đổi."
UNITS_PREVIEW_MORE = "  … và {count} đơn vị nữa"
UNITS_CONFIRM = "Ghi các thay đổi này? Gõ CÓ để đồng ý: "
UNITS_CONFIRM_WORDS = ["có", "co", "yes", "y"]
UNITS_NOT_WRITTEN = "Chưa ghi gì. Chạy lại với --yes để ghi các thay đổi trên."
UNITS_WRITTEN = "Đã ghi: {added} thêm mới, {updated} đổi tên/thông tin, {reactivated} hoạt động trở lại, {deactivated} ngừng hoạt động."
UNITS_SAMPLE_OR_FILE = "Cần tệp danh sách đơn vị (.csv hoặc .xlsx), hoặc --sample để nhập 25 đơn vị mẫu."
UNITS_DEACTIVATED = "Đã chuyển {unit} ({code}) sang ngừng hoạt động: không vào đợt báo cáo mới, không được nhắc. Dữ liệu cũ vẫn giữ."
UNITS_ACTIVATED = "Đã cho {unit} ({code}) hoạt động trở lại."
UNITS_ALREADY_INACTIVE = "{unit} ({code}) đã ngừng hoạt động từ trước."
UNITS_ALREADY_ACTIVE = "{unit} ({code}) đang hoạt động."
UNITS_STATE_ACTIVE = "hoạt động"
UNITS_STATE_INACTIVE = "ngừng"
# A deactivated unit still shown in a campaign for the report it began (status, exports, the late list).
UNIT_INACTIVE_MARK = "đơn vị đã ngừng hoạt động"
UNITS_NONE = "Chưa có đơn vị nào. Nhập danh sách: hcc-bot units import DANH_SACH.xlsx (hoặc --sample để dùng 25 đơn vị mẫu)."
UNITS_LIST_FOOTER = "{active} đơn vị hoạt động, {inactive} ngừng hoạt động."
UNITS_INACTIVE_INVITE = "{unit} ({code}) đang ngừng hoạt động. Cho hoạt động trở lại trước: hcc-bot units activate {code}"
# An installation with nothing yet: what to do next (status, the console's board, an officer in the chat).
SETUP_TITLE = "Chưa có đợt báo cáo nào"
SETUP_NEXT = "Các bước tiếp theo:"
SETUP_STEP_UNITS = "Nhập danh sách đơn vị của tỉnh: hcc-bot units import DANH_SACH.xlsx (cột mã, tên đơn vị, nhóm, email)"
SETUP_STEP_UNITS_DONE = "Danh sách đơn vị: đã có {count} đơn vị (hcc-bot units list)."
SETUP_STEP_CAMPAIGN = "Tạo đợt báo cáo: hcc-bot campaign create --title \"Báo cáo thành lập Trung tâm HCC\" --deadline \"{example}\""
SETUP_STEP_INVITE = "Cấp mã mời cho từng đơn vị: hcc-bot invite MÃ_ĐƠN_VỊ"
ADMIN_NO_CAMPAIGN = ("Chưa có đợt báo cáo nào. Tạo đợt mới trên máy chủ: hcc-bot campaign create --title \"...\" "
                     "--deadline \"dd/mm/yyyy HH:MM\". Gõ “đăng nhập web” để mở trang theo dõi.")
CLI_RUN_NO_CAMPAIGN = "Chưa có đợt báo cáo nào: chưa nhắc ai. Tạo đợt: hcc-bot campaign create --title \"...\" --deadline \"dd/mm/yyyy HH:MM\""
# Settings that are wrong: one line naming the setting (after CLI_CONFIG_ERROR's "Lỗi cấu hình: ").
SET_DATA_DIR_NOT_FOLDER = "HCC_DATA_DIR: {path} đã có và không phải thư mục; cần đường dẫn một thư mục"
SET_SQLITE_FOLDER = "HCC_DATABASE_URL: thư mục {folder} của tệp SQLite không tồn tại; kiểm tra lại đường dẫn"
SET_FORM_NOT_FILE = "HCC_FORM: {path} không phải tệp; cần đường dẫn tệp biểu mẫu .yaml hoặc .xlsx"
SET_FORM_UNREADABLE = "HCC_FORM: {problem}"
SET_PUBLIC_URL_FORM = "HCC_PUBLIC_URL: cần địa chỉ dạng https://bot.sonoivu.gov.vn, đang là “{value}”"
SET_PUBLIC_URL_HTTPS = ("HCC_PUBLIC_URL: Telegram và Zalo chỉ gửi webhook tới địa chỉ https://; đang là “{value}” "
                        "(http chỉ dùng được với 127.0.0.1 hoặc localhost để thử)")
SET_PUBLIC_URL_PATH = ("HCC_PUBLIC_URL: chỉ ghi giao thức và tên miền, không có đường dẫn hay dấu / ở cuối "
                       "(bot trả lời ở gốc tên miền); đang là “{value}”, cần “{fixed}”")
SET_LISTEN_FORM = "HCC_LISTEN: cần dạng máy:cổng, ví dụ 127.0.0.1:8080, đang là “{value}”"
SET_LISTEN_IN_USE = "HCC_LISTEN: cổng {port} trên {host} đang có chương trình khác dùng; chọn cổng khác hoặc dừng chương trình đó"
SET_LISTEN_NOT_HERE = "HCC_LISTEN: địa chỉ {host} không thuộc máy này; dùng 127.0.0.1, 0.0.0.0 hoặc một địa chỉ của máy"
SET_LISTEN_DENIED = "HCC_LISTEN: không được phép mở cổng {port} (cổng dưới 1024 cần quyền quản trị); dùng cổng từ 1024 trở lên"
SET_API_URL = "{name}: cần địa chỉ http(s), đang là “{value}”"
SET_PHOTO_HOSTS = "HCC_ZALO_PHOTO_HOSTS: cần tên máy như zdn.vn, đang có “{value}”"
SET_LOG_LEVEL = "HCC_LOG_LEVEL: cần một trong DEBUG, INFO, WARNING, ERROR, đang là “{value}”"
SET_LOG_FORMAT = "HCC_LOG_FORMAT: cần text hoặc json, đang là “{value}”"
SET_FONT_NOT_FILE = "{name}: {path} không phải tệp; cần đường dẫn tệp phông chữ .ttf có đủ chữ tiếng Việt"
SET_FONT_NOT_VIETNAMESE = "{name}: phông chữ {path} thiếu chữ tiếng Việt ({lacking}); chọn phông khác, ví dụ DejaVu Sans"
SET_ENV_LINE = "{path}, dòng {line}: cần dạng TÊN=giá trị"
# argparse's own messages, in Vietnamese.
ARG_USAGE = "Cách dùng: "
ARG_POSITIONALS = "tham số"
ARG_OPTIONS = "tùy chọn"
ARG_HELP = "in hướng dẫn này rồi thoát"
ARG_VERSION = "in phiên bản rồi thoát"
ARG_ERROR = "{prog}: lỗi: {message}"
ARG_REQUIRED = "thiếu tham số bắt buộc: %s"
ARG_INVALID_CHOICE = "lựa chọn không hợp lệ: %(value)r (chọn một trong %(choices)s)"
ARG_UNRECOGNIZED = "tham số không nhận ra: %s"
ARG_EXPECTED_ONE = "cần một giá trị"
ARG_INVALID_VALUE = "giá trị %(type)s không hợp lệ: %(value)r"
ARG_NOT_ALLOWED = "không dùng được cùng với tham số %s"
ARG_COMMANDS = "lệnh"
ARG_HELP_HINT = " (xem: {prog} --help)"
UNITS_SAMPLE_LABEL = "danh sách mẫu"
UNITS_FILE_MISSING = "không có tệp này; kiểm tra lại đường dẫn và tên tệp"
SET_DATA_DIR_UNUSABLE = "HCC_DATA_DIR: không tạo hoặc dùng được thư mục {path}; kiểm tra đường dẫn và quyền ghi"
ARG_COMMAND_METAVAR = "LỆNH"
# --- i23-ops ---
# `hcc-bot backup` / `hcc-bot restore` (bot/backup.py).
BACKUP_DONE = "Đã sao lưu vào {path}: cơ sở dữ liệu, {photos} tệp ảnh, các khoá; {size} (quyền 0600)."
BACKUP_OUT_EXISTS = "--out: {path} đã có; hãy chọn tên tệp mới (bản sao lưu không ghi đè tệp cũ)."
BACKUP_OUT_FOLDER = "--out: thư mục {path} không tồn tại; hãy tạo nó trước hoặc chọn thư mục khác."
BACKUP_NO_DATABASE = "HCC_DATABASE_URL: không thấy tệp cơ sở dữ liệu {path}; hãy kiểm tra HCC_DATA_DIR/HCC_DATABASE_URL."
BACKUP_DB_UNREACHABLE = "HCC_DATABASE_URL: không kết nối được PostgreSQL ({problem}); hãy kiểm tra máy chủ CSDL đang chạy."
BACKUP_PG_TOOL_MISSING = ("Không tìm thấy {tool} phiên bản {major} trở lên (máy chủ PostgreSQL {major}); "
                          "hãy cài gói postgresql-client-{major}.")
BACKUP_TOOL_FAILED = "{tool} báo lỗi: {detail}"
RESTORE_DONE = ("Đã khôi phục bản sao lưu lập lúc {created} ({files} tệp, đã kiểm tra SHA-256) vào {data_dir}; "
                "khởi động lại bot: hcc-bot run.")
RESTORE_NO_FILE = "Không thấy tệp sao lưu {path}; hãy kiểm tra đường dẫn."
RESTORE_NOT_AN_ARCHIVE = "{path} không phải bản sao lưu của hcc-bot (lỗi ở {problem}); hãy chọn tệp do hcc-bot backup tạo."
RESTORE_NEWER_FORMAT = "{path} do phiên bản hcc-bot mới hơn tạo; hãy cập nhật hcc-bot rồi khôi phục."
RESTORE_CHECKSUM = "Bản sao lưu bị hỏng: {name} sai mã SHA-256; không khôi phục gì. Hãy dùng một bản sao lưu khác."
RESTORE_NOT_EMPTY = ("Không khôi phục: {path} đã có dữ liệu. Hãy khôi phục vào thư mục dữ liệu (HCC_DATA_DIR) "
                     "trống hoặc chưa có.")
RESTORE_DB_NOT_EMPTY = ("Không khôi phục: cơ sở dữ liệu {url} đã có bảng. Hãy tạo một cơ sở dữ liệu trống "
                        "(createdb) và trỏ HCC_DATABASE_URL vào đó.")
RESTORE_KIND_MISMATCH = ("Bản sao lưu là của {backup}, còn HCC_DATABASE_URL trỏ tới {target}; hãy khôi phục vào "
                         "cùng loại cơ sở dữ liệu.")
# `hcc-bot run` on a SQLite data folder another run holds (bot/doctor.py's run lock).
RUN_ALREADY = ("HCC_DATA_DIR: một hcc-bot run khác (PID {pid}) đang chạy trên thư mục dữ liệu {folder}; "
               "hãy dừng nó trước (systemctl stop hcc-bot) hoặc dùng thư mục khác.")
# `hcc-bot doctor` (bot/doctor.py): "✓ <message>" or "✗ <message> → <what to do>".
DOCTOR_SETTINGS_OK = "Cấu hình hợp lệ; chế độ: {mode}."
DOCTOR_MODE_WEBHOOK = "webhook qua {url}"
DOCTOR_MODE_POLLING = "hỏi tin (polling), không có HCC_PUBLIC_URL"
DOCTOR_SETTINGS_BAD = "Cấu hình sai: {problem}"
DOCTOR_SETTINGS_FIX = "sửa dòng đó trong .env (xem .env.example) rồi chạy lại hcc-bot doctor"
DOCTOR_PUBLIC_HTTP = "HCC_PUBLIC_URL là {url}: Telegram và Zalo chỉ gửi webhook tới địa chỉ HTTPS"
DOCTOR_PUBLIC_HTTP_FIX = "đặt HCC_PUBLIC_URL=https://… (tên miền có chứng chỉ, qua Caddy hoặc nginx)"
DOCTOR_DB_OK = "Cơ sở dữ liệu ({kind}) kết nối được, cấu trúc mới nhất ({head})."
DOCTOR_DB_MISSING = "Chưa có cơ sở dữ liệu SQLite"
DOCTOR_DB_MISSING_FIX = "chạy hcc-bot run một lần (tự tạo), hoặc hcc-bot restore BẢN_SAO_LƯU"
DOCTOR_DB_UNREACHABLE = "Không kết nối được cơ sở dữ liệu: {problem}"
DOCTOR_DB_UNREACHABLE_FIX = "kiểm tra HCC_DATABASE_URL và máy chủ PostgreSQL (systemctl status postgresql)"
DOCTOR_DB_OLD = "Cấu trúc cơ sở dữ liệu chưa cập nhật (đang {current}, mới nhất {head})"
DOCTOR_DB_OLD_FIX = "khởi động lại hcc-bot run: nó tự nâng cấp khi khởi động"
DOCTOR_DATA_OK = "Thư mục dữ liệu {path}: đúng chủ, chỉ chủ đọc được (0700/0600)."
DOCTOR_DATA_MISSING = "Chưa có thư mục dữ liệu {path}"
DOCTOR_DATA_MISSING_FIX = "kiểm tra HCC_DATA_DIR; hcc-bot run tạo thư mục khi khởi động"
DOCTOR_DATA_OWNER = "Thư mục dữ liệu: {path} (và {count} mục) không thuộc người dùng chạy bot"
DOCTOR_DATA_OWNER_FIX = "chown -R {uid} {path} (chạy doctor bằng đúng người dùng của dịch vụ: sudo -u hcc hcc-bot doctor)"
DOCTOR_DATA_MODES = "Thư mục dữ liệu: {path} (và {count} mục) người khác đọc được (dữ liệu cá nhân)"
DOCTOR_DATA_MODES_FIX = "chmod -R go-rwx {path}"
DOCTOR_DISK_OK = "Dung lượng trống: {free} GB ở {path}."
DOCTOR_DISK_LOW = "Chỉ còn {free} GB trống ở {path}"
DOCTOR_DISK_LOW_FIX = "giải phóng hoặc mở rộng ổ đĩa (cần ít nhất {need} GB cho ảnh và tệp xuất)"
DOCTOR_SOFFICE_OK = "LibreOffice có sẵn ({path}): xuất được PDF."
DOCTOR_SOFFICE_MISSING = "Không có LibreOffice: báo cáo chỉ xuất được .docx, không có PDF"
DOCTOR_SOFFICE_FIX = "apt install libreoffice-writer-nogui libreoffice-calc-nogui fonts-liberation2 (ảnh Docker đã có sẵn)"
DOCTOR_API_UNREACHABLE = "{channel}: không gọi được {url} ({problem})"
DOCTOR_API_UNREACHABLE_FIX = "kiểm tra mạng ra Internet, DNS và proxy của máy chủ"
DOCTOR_TOKEN_OK = "{channel}: token hợp lệ (bot {account})."
DOCTOR_TOKEN_REFUSED = "{channel}: nền tảng từ chối token (HTTP {status})"
DOCTOR_TOKEN_FIX = "dán lại {setting} đúng như nền tảng cấp, rồi khởi động lại dịch vụ"
DOCTOR_WEBHOOK_OK = "{channel}: webhook nền tảng ghi nhận đúng ({url})."
DOCTOR_WEBHOOK_NONE = "không có (polling)"
DOCTOR_WEBHOOK_WRONG = "{channel}: nền tảng ghi nhận webhook {actual}, cần {expected}"
DOCTOR_WEBHOOK_UNKNOWN = "{channel}: không đọc được webhook từ nền tảng (HTTP {status})"
DOCTOR_WEBHOOK_FIX = "khởi động lại hcc-bot run sau khi sửa HCC_PUBLIC_URL: bot tự đăng ký lại webhook"
DOCTOR_WEBHOOK_UNKNOWN_FIX = "nền tảng đang lỗi: chạy lại hcc-bot doctor sau ít phút"
DOCTOR_WEBHOOK_ERROR = "{channel}: nền tảng vừa không gửi được tới webhook: {error}"
DOCTOR_WEBHOOK_ERROR_FIX = "kiểm tra reverse proxy (Caddy/nginx), chứng chỉ và tường lửa cổng 443"
DOCTOR_NO_CHANNEL = "Chưa bật kênh nào (không có HCC_TELEGRAM_TOKEN, HCC_ZALO_BOT_TOKEN)"
DOCTOR_NO_CHANNEL_FIX = "đặt ít nhất một token trong .env"
DOCTOR_PUBLIC_OK = "Địa chỉ công khai trả lời qua HTTPS: {url}."
DOCTOR_PUBLIC_TLS = "Chứng chỉ HTTPS của {url} không hợp lệ ({problem})"
DOCTOR_PUBLIC_TLS_FIX = "kiểm tra chứng chỉ của reverse proxy (Caddy tự cấp khi tên miền trỏ đúng máy và mở cổng 80, 443)"
DOCTOR_PUBLIC_DOWN = "Không tới được {url} từ bên ngoài ({problem})"
DOCTOR_PUBLIC_DOWN_FIX = "kiểm tra DNS của tên miền, tường lửa cổng 443, reverse proxy và hcc-bot run đang chạy"
DOCTOR_PUBLIC_NOT_BOT = "{url} trả lời HTTP {status}, không phải hcc-bot"
DOCTOR_PUBLIC_NOT_BOT_FIX = ("reverse proxy chưa chuyển tới bot: kiểm tra tên miền trong trang nginx hoặc Caddyfile, "
                             "địa chỉ chuyển tiếp (bằng HCC_LISTEN) và hcc-bot run đang chạy")
DOCTOR_PUBLIC_NOT_READY = "hcc-bot trả lời qua {url} nhưng chưa sẵn sàng (HTTP {status}): {parts}"
DOCTOR_PUBLIC_NOT_READY_FIX = "xem nhật ký của bot: journalctl -u hcc-bot"
DOCTOR_PUBLIC_PART_DATABASE = "cơ sở dữ liệu"
DOCTOR_CLOCK_OK = "Đồng hồ: {now} (giờ Việt Nam), lệch {seconds} giây so với nền tảng."
DOCTOR_CLOCK_UNCHECKED = "Đồng hồ: {now} (giờ Việt Nam); không có kênh để so giờ."
DOCTOR_CLOCK_SKEW = "Đồng hồ máy lệch {seconds} giây so với nền tảng (máy đang là {now}): nhắc hạn sẽ sai giờ"
DOCTOR_CLOCK_FIX = "bật đồng bộ giờ: timedatectl set-ntp true"
DOCTOR_TZ_MISSING = "Thiếu dữ liệu múi giờ Asia/Ho_Chi_Minh"
DOCTOR_TZ_FIX = "apt install tzdata (hoặc pip install tzdata)"
DOCTOR_RUN_ONE = "hcc-bot run đang chạy (PID {pid}) trên {folder}; lần chạy thứ hai sẽ bị từ chối."
DOCTOR_RUN_NONE = "Không có hcc-bot run nào đang chạy trên {folder}"
DOCTOR_RUN_NONE_FIX = "khởi động dịch vụ: systemctl start hcc-bot (hoặc docker compose up -d)"
DOCTOR_RUN_POSTGRES = "PostgreSQL: có thể chạy nhiều hcc-bot run cùng lúc."
# The operations commands' help (bot/cli/ops.py).
CLI_HELP_DOCTOR = ("kiểm tra cấu hình, cơ sở dữ liệu, thư mục dữ liệu, dung lượng, LibreOffice, token và webhook, "
                   "HTTPS công khai, đồng hồ; mã thoát 1 nếu có mục ✗")
CLI_HELP_JSON = "in kết quả dạng JSON"
CLI_HELP_BACKUP = ("sao lưu cơ sở dữ liệu, ảnh và khoá vào một tệp tar.gz (0600) có mã SHA-256; chạy được khi bot "
                   "đang chạy")
CLI_HELP_BACKUP_OUT = "tệp sao lưu sẽ ghi, ví dụ /var/backups/hcc-bot/hcc-20261207.tar.gz (không ghi đè)"
CLI_HELP_RESTORE = "khôi phục một bản sao lưu vào thư mục dữ liệu và cơ sở dữ liệu trống"
CLI_HELP_RESTORE_FILE = "tệp do hcc-bot backup tạo"
OPS_FILE_ERROR = "Không ghi/đọc được {path}: {problem}; hãy kiểm tra quyền của thư mục (chạy bằng người dùng của dịch vụ)."
# --- i25-docs ---
# Issuing details of the consolidated report (exports/issuing.py), Nghị định 30/2020/NĐ-CP.
ISSUING_NUMBER = "Số: {number}/{code}"
ISSUING_SUBJECT = "Tổng hợp {subject}"
ISSUING_DOC_TYPE = "BÁO CÁO"
ISSUING_FIELDS = {"doc_code": "ký hiệu văn bản (--doc-code)", "doc_number": "số văn bản (--doc-number)",
                  "signer_authority": "thẩm quyền ký (--signer-authority)", "signer_title": "chức vụ người ký "
                  "(--signer-title)", "signer_name": "họ tên người ký (--signer-name)", "recipients": "nơi nhận "
                  "(--recipients)", "parent_body": "cơ quan chủ quản (--parent-body)", "filing_line": "dòng Lưu"}
ISSUING_TOO_LONG = "{field} dài quá {max} ký tự: vui lòng rút gọn."
ISSUING_TOO_MANY_RECIPIENTS = "Nơi nhận có quá {max} dòng: vui lòng gộp bớt."
ISSUING_ANNEX_OF = "(Kèm theo Báo cáo số {reference} ngày {day} của Sở Nội vụ)"
ISSUING_ANNEX_NUMBER = "Phụ lục {n}"
REPORT_PLAN_SUMMARY = ("Có {units} đơn vị gửi kế hoạch chi tiết, tổng số {items} nội dung; số nội dung của từng "
                       "đơn vị như bảng dưới đây, chi tiết từng nội dung tại Phụ lục {annex} kèm theo.")
REPORT_PLAN_COL_COUNT = "Số nội dung"
REPORT_PLAN_COL_PERIOD = "Thời gian thực hiện"
REPORT_PLAN_ANNEX_TITLE = "KẾ HOẠCH CHI TIẾT TIẾN ĐỘ TRIỂN KHAI CỦA CÁC ĐƠN VỊ"
REPORT_STATUS_ANNEX_TITLE = "TÌNH TRẠNG GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ"
REPORT_REPEAT_ANNEX_SUMMARY = "Danh sách {section} ({items} mục của {units} đơn vị) tại Phụ lục {annex} kèm theo."
RETURNED_MARK = "đang bổ sung theo yêu cầu của Sở Nội vụ"
RETURNED_NOTE = "Trả lại để bổ sung: {comment}"
DOC_DRAFT = "DỰ THẢO – chưa nộp"
DOC_PLACE_DATE_OF = "{place}, ngày {day} tháng {month} năm {year}"
FACE_MISSING = "Ảnh chưa thấy rõ khuôn mặt"
FACE_SEVERAL = "Ảnh có nhiều khuôn mặt"
CLI_CAMPAIGN_EDITED = "Đã cập nhật đợt báo cáo #{id}: {fields}."
CLI_CAMPAIGN_EDIT_NOTHING = "Chưa có gì để đổi: hãy thêm ít nhất một tùy chọn, ví dụ --signer-name \"Tạ Quang Trường\"."
CLI_CAMPAIGN_ISSUING = ("Ban hành: {number}; {signer}; người ký: {name}; cơ quan chủ quản: {parent}; "
                        "nơi nhận: {recipients}")
PHOTO_ASIDE_NOT_SUBMITTED = "chua-nop-bao-cao"  # photo archive subfolders: why these photos are not on badges
PHOTO_WARN_NO_FACE = (
    "Ảnh chưa thấy rõ khuôn mặt: mình không tìm được đúng một khuôn mặt trong ảnh nên thẻ có thể in ra không thấy "
    "mặt. Bạn nên gửi lại ảnh chân dung chụp thẳng, rõ mặt, chỉ một người."
)
BADGE_MISSING_NO_FACE = "ảnh chưa thấy rõ khuôn mặt (thẻ vẫn in, nên thay ảnh)"
WEB_FACES_TITLE = "Ảnh chưa thấy rõ khuôn mặt (nên đề nghị đơn vị gửi lại trước khi in thẻ):"
WEB_ISSUING_TITLE = "Thông tin ban hành báo cáo tổng hợp"
WEB_ISSUING_LINK = "Số, ký hiệu, người ký, nơi nhận"
WEB_ISSUING_HELP = ("Để trống một ô để dùng mặc định theo Nghị định 30/2020/NĐ-CP (số để trống cho văn thư, ký hiệu "
                    "BC-SNV, Giám đốc ký, nơi nhận “Như trên” và “Lưu: VT, CCHC.”).")
WEB_ISSUING_LABELS = {"doc_code": "Ký hiệu (ví dụ BC-SNV)", "doc_number": "Số (để trống cho văn thư điền)",
                      "signer_authority": "Thẩm quyền ký (ví dụ KT. GIÁM ĐỐC)",
                      "signer_title": "Chức vụ người ký (ví dụ PHÓ GIÁM ĐỐC)", "signer_name": "Họ tên người ký",
                      "recipients": "Nơi nhận (mỗi dòng một nơi; dòng “Lưu: …” ở cuối)",
                      "parent_body": "Cơ quan chủ quản (ví dụ UBND TỈNH ĐỒNG NAI)"}
WEB_ISSUING_SAVE = "Lưu thông tin ban hành"
WEB_ISSUING_PREVIEW = "Báo cáo tổng hợp sẽ in như sau"
WEB_ISSUING_SAVED = "Đã lưu: {fields}."
WEB_ISSUING_UNCHANGED = "Không có gì thay đổi."
WEB_NO_DOCUMENT = "Đơn vị này chưa nhập báo cáo nên chưa có văn bản."

# --- i24-fix ---
# With --skip-unsupported, what reads a question left out (conversations/xlsform.py, drop_what_names_the_skipped).
XLSFORM_RELEVANT_SKIPPED = "câu '{key}' sẽ không được hỏi vì điều kiện hỏi (relevant) dùng câu '{other}' đã bị bỏ qua"
XLSFORM_CONSTRAINT_SKIPPED = ("câu '{key}' không còn kiểm tra điều kiện (constraint) vì nó dùng câu '{other}' đã bị "
                              "bỏ qua")
XLSFORM_CALCULATION_SKIPPED = "câu '{key}' tính với câu '{other}' đã bị bỏ qua coi như để trống"
XLSFORM_COUNT_SKIPPED = ("nhóm lặp '{key}' hỏi “thêm … nữa không?” thay cho số lượng (repeat_count) vì số lượng dùng "
                         "câu '{other}' đã bị bỏ qua")

# --- integration: hcc-bot run --workers ---
SET_WORKERS_COUNT = "--workers: cần số từ 1 trở lên, đang là {workers}"
SET_WORKERS_SQLITE = ("--workers {workers} cần PostgreSQL (HCC_DATABASE_URL=postgresql://…): SQLite chỉ có một "
                      "tiến trình ghi, nên chỉ dùng được một tiến trình bot")
SET_WORKERS_POLLING = ("--workers {workers} cần webhook (HCC_PUBLIC_URL): Zalo và Telegram chỉ giao tin cho một "
                       "tiến trình hỏi tin")

# --- i26-webform ---
WEB_NO_SUCH_FIELD = "Biểu mẫu này không có ô này. Vui lòng tải lại trang."
WEB_ITEM_GONE = "Mục này đã bị xoá (có thể bởi người khác của đơn vị). Vui lòng tải lại trang."
WEB_NOT_ASKED = "Câu này không cần trả lời với các câu trả lời hiện tại. Vui lòng tải lại trang."
WEB_TOO_MANY_ITEMS = "Danh sách đã đủ {max} {item}: không thêm được nữa."
WEB_ABOVE = "Đã lưu, nhưng {label} ({value}) lớn hơn {other} ({limit}). Vui lòng kiểm tra lại."
WEB_PHOTO_NEW_ITEM = "Vui lòng điền họ tên trước, rồi chọn ảnh."
WEB_BACK_IN_CHAT = "Các câu trả lời trên trang web đã được lưu. Tiếp tục từ câu còn thiếu:"
WEB_LINK_GONE = ("Liên kết này đã hết hạn hoặc đã được dùng. Gửi “điền trên web” trong khung chat với bot để nhận "
                 "liên kết mới.")
WEB_FORM_SIGNED_OUT = ("Phiên điền báo cáo trên web đã kết thúc. Gửi “điền trên web” trong khung chat với bot để "
                       "nhận liên kết mới.")
WEB_PAGE_TITLE = "Điền báo cáo"
WEB_OPEN_HEADING = "Mở trang điền báo cáo"
WEB_OPEN_TEXT = "Bấm nút dưới đây để mở trang điền báo cáo của đơn vị. Liên kết chỉ dùng được một lần."
WEB_OPEN_BUTTON = "Mở báo cáo"
WEB_UNIT = "Đơn vị"
WEB_DEADLINE = "Hạn nộp"
WEB_MISSING = "Còn thiếu"
WEB_NOTHING_MISSING = "Đã điền đủ. Bấm “Nộp báo cáo” ở cuối trang."
WEB_SAVE = "Lưu"
WEB_SAVED = "Đã lưu"
WEB_SAVING = "Đang lưu…"
WEB_ADD = "Thêm {item}"
WEB_DELETE = "Xoá"
WEB_SUBMIT = "Nộp báo cáo"
WEB_REQUIRED = "bắt buộc"
WEB_OPTIONAL = "không bắt buộc"
WEB_READ_ONLY = "Báo cáo chỉ xem được, không sửa được nữa."
WEB_SUBMITTED_AT = "Đã nộp lúc {at}."
WEB_PHOTO_HAVE = "Đã có ảnh."
WEB_PHOTO_CHOOSE = "Chụp hoặc chọn ảnh"
WEB_CALC = "Tự tính"
WEB_NO_SCRIPT = "Điền xong một phần thì bấm “Lưu” của phần đó."
WEB_SAVE_FAILED_NET = ("Chưa lưu được (mất kết nối?). Câu trả lời vẫn được giữ trên máy này và sẽ tự gửi lại khi có "
                       "mạng.")
WEB_PHOTO_FAILED_NET = "Chưa gửi được ảnh (mất kết nối?). Khi có mạng, vui lòng chọn lại ảnh."
WEB_SAVE_TOO_LARGE = ("Máy chủ không nhận vì nội dung gửi lên quá lớn. Với ảnh, vui lòng chọn ảnh nhỏ hơn hoặc chụp "
                      "lại với độ phân giải thấp hơn.")
WEB_SAVE_SERVER_ERROR = ("Máy chủ đang gặp sự cố (mã {status}), chưa lưu được. Câu trả lời vẫn được giữ trên máy này "
                         "và sẽ tự gửi lại; nếu vẫn không được, vui lòng thử lại sau ít phút.")
WEB_SAVE_HTTP_ERROR = "Chưa lưu được (mã {status}). Vui lòng tải lại trang rồi thử lại."
WEB_ERROR_SUMMARY = "Có {count} ô chưa lưu được. Vui lòng sửa các ô dưới đây:"
WEB_CANNOT_SUBMIT = ("Chưa nộp được: báo cáo còn thiếu {count} mục dưới đây. Bấm vào từng mục để đến ô cần điền, "
                     "điền xong rồi bấm “Nộp báo cáo” lần nữa.")
WEB_SUBMITTED = ("Đã nộp báo cáo lúc {at}. Cảm ơn bạn! Sở Nội vụ đã nhận được.\nBạn vẫn có thể sửa trên trang này "
                 "và bấm “Nộp báo cáo” lần nữa trước {deadline}.")
WEB_LOCKED = ("Đã quá hạn nộp ({deadline}): báo cáo chỉ còn xem được trên trang này. Nếu cần sửa hoặc nộp, vui lòng "
              "liên hệ Sở Nội vụ để được mở lại.")
WEB_RETURNED_NOTE = ("Sở Nội vụ đã trả lại báo cáo để bổ sung: {comment}\nSửa các ô cần sửa rồi bấm “Nộp báo cáo” "
                     "lần nữa.")
WEB_LOCKED_ACCEPTED = ("Sở Nội vụ đã duyệt báo cáo của đơn vị: báo cáo chỉ còn xem được trên trang này. Nếu cần sửa, "
                       "vui lòng liên hệ Sở Nội vụ để được mở lại.")
WEB_CHAT_WORDS = ("điền trên web", "/web", "trang web", "điền web", "điền trên trang web")
WEB_LINK_REPLY = ("Trang điền báo cáo của đơn vị (dùng được 24 giờ, một lần; cần liên kết mới thì gửi lại “điền trên "
                  "web”):\n{url}\n\nCác câu trả lời trên trang và trong chat là một: điền ở đâu cũng được.")
WEB_LINK_NO_URL = "Trang điền báo cáo trên web chưa được bật. Vui lòng tiếp tục trả lời trong chat."
WEB_HINT_LINE = "Muốn điền cả báo cáo trên một trang web? Gửi “điền trên web”."
WEB_ANSWERED_VIA = "Đã trả lời qua"
WEB_VIA_CHAT = "trong chat"
WEB_VIA_PAGE = "trên trang web"
WEB_ANSWER_COUNT = "{count} lần lưu câu trả lời, lần cuối {at}"
# The unit page's history of the answers (bot/console/answer_history.py), newest first.
WEB_ANSWER_HISTORY = "Lịch sử trả lời"
WEB_ANSWER_HISTORY_NOTE = "Mỗi lần lưu một câu trả lời, mới nhất trước; kèm người trả lời và kênh (chat hay trang web)."
WEB_ANSWER_HISTORY_EMPTY = "Đơn vị chưa trả lời câu nào."
WEB_ANSWER_HISTORY_SHOWN = "Đang xem {shown}/{total} dòng."
WEB_ANSWER_HISTORY_MORE = "Xem thêm"
WEB_ANSWER_HISTORY_SUBMIT = "Nộp báo cáo (bản {n})"
WEB_ANSWER_HISTORY_REMOVED = "đã xoá"
WEB_HISTORY_VIA_PAGE = "trang web"
WEB_HISTORY_PHOTO = "ảnh"
WEB_HISTORY_PATH_SEPARATOR = " › "
WEB_HISTORY_NOBODY = "—"
WEB_DIFF_VIA = "qua {channel}"
# The console's own words where the page's block above reuses a console name (WEB_DEADLINE, WEB_SUBMITTED_AT).
WEB_BOARD_DEADLINE = "Hạn nộp: {deadline} ({left})"
WEB_UNIT_SUBMITTED_AT = "nộp lúc {at}"
WEB_TELEGRAM_OPENING = "Đang mở trang điền báo cáo…"
WEB_APP_BUTTON = "Mở trang điền báo cáo"
# The welcome and every reminder say the page exists (one line each, kept with this block for merging).
WELCOME = WELCOME + "\n" + WEB_HINT_LINE
REMINDER = REMINDER + "\n" + WEB_HINT_LINE
