"""The differences between two versions of a report, on the shipped form, as the page shows them."""

import pytest

from conversations.form import load_form
from conversations.versions import ADDED, CHANGED, REMOVED, FieldChange, ItemChange, changed_count, diff_versions

FORM = load_form()

BASE = {
    "reporter.name": "Nguyễn Thị Lan",
    "reporter.phone": "+84912345678",
    "main_staff[1].name": "Lê Thị Mai",
    "main_staff[1].position": "Chuyên viên",
    "main_staff[1].phone": "+84987654321",
    "main_staff[1].gender": "nu",
    "main_staff[1].shirt_size": "7",
    "main_staff[1].photo": 11,
    "main_staff[3].name": "Trần Văn Bình",
    "main_staff[3].position": "Văn thư",
    "main_staff[3].phone": "+84913456789",
    "main_staff.__last__": 3,
    "main_staff.__done__": True,
    "procedures.tthc_total": 125,
    "procedures.tthc_total_partners": "Sở Tài chính",
    "pickup.agree": False,
    "pickup.proposed_times": "09:30, 14:30",
}


def test_diff_versions__identical__no_change():
    assert [] == diff_versions(FORM, BASE, dict(BASE))


def test_diff_versions__main_staff_phone_changed__one_changed_item_with_formatted_phones():
    new = {**BASE, "main_staff[3].phone": "+84905123456"}
    changes = diff_versions(FORM, BASE, new)
    assert ["main_staff"] == [c.section.key for c in changes]
    assert "I.2. Nhân sự chính tại trung tâm" == changes[0].section.title
    assert () == changes[0].fields
    assert (ItemChange(CHANGED, "Trần Văn Bình",
                       (FieldChange(CHANGED, "Số điện thoại", "0913 456 789", "0905 123 456"),)),) == changes[0].items
    assert 1 == changed_count(changes)


def test_diff_versions__person_added__every_answered_field_listed():
    new = {**BASE, "main_staff[4].name": "Phạm Văn Nam", "main_staff[4].phone": "+84905123456",
           "main_staff[4].gender": "nam", "main_staff[4].photo": 27, "main_staff.__last__": 4}
    changes = diff_versions(FORM, BASE, new)
    assert (ItemChange(ADDED, "Phạm Văn Nam", (
        FieldChange(ADDED, "Tên", None, "Phạm Văn Nam"),
        FieldChange(ADDED, "Số điện thoại", None, "0905 123 456"),
        FieldChange(ADDED, "Giới tính", None, "Nam"),
        FieldChange(ADDED, "Ảnh 3x4", None, "27", photo=True),  # the photo id, for a thumbnail
    )),) == changes[0].items
    assert 1 == changed_count(changes)


def test_diff_versions__person_removed__titled_by_their_name():
    new = {k: v for k, v in BASE.items() if not k.startswith("main_staff[1].")}
    changes = diff_versions(FORM, BASE, new)
    assert (ItemChange(REMOVED, "Lê Thị Mai", (
        FieldChange(REMOVED, "Tên", "Lê Thị Mai", None),
        FieldChange(REMOVED, "Chức vụ", "Chuyên viên", None),
        FieldChange(REMOVED, "Số điện thoại", "0987 654 321", None),
        FieldChange(REMOVED, "Giới tính", "Nữ", None),
        FieldChange(REMOVED, "Kích cỡ áo", "7", None),
        FieldChange(REMOVED, "Ảnh 3x4", "11", None, photo=True),
    )),) == changes[0].items


def test_diff_versions__people_added_and_removed__items_in_number_order():
    new = {k: v for k, v in BASE.items() if not k.startswith("main_staff[1].")}
    new |= {"main_staff[5].name": "Đỗ Thị Hoa", "main_staff[3].position": "Chuyên viên"}
    items = diff_versions(FORM, BASE, new)[0].items
    assert [(REMOVED, "Lê Thị Mai"), (CHANGED, "Trần Văn Bình"), (ADDED, "Đỗ Thị Hoa")] == [
        (i.kind, i.title) for i in items]
    assert (FieldChange(CHANGED, "Chức vụ", "Văn thư", "Chuyên viên"),) == items[1].fields
    assert 3 == changed_count(diff_versions(FORM, BASE, new))


def test_diff_versions__reporter_name_changed__one_field_change():
    changes = diff_versions(FORM, BASE, {**BASE, "reporter.name": "Nguyễn Thị Hoa"})
    assert 1 == len(changes)
    assert "Người điền báo cáo" == changes[0].section.title
    assert (FieldChange(CHANGED, "Người điền báo cáo", "Nguyễn Thị Lan", "Nguyễn Thị Hoa"),) == changes[0].fields
    assert () == changes[0].items


def test_diff_versions__count_changed_and_field_added__in_question_order():
    new = {**BASE, "procedures.tthc_linked": 12, "procedures.tthc_total": 130}
    changes = diff_versions(FORM, BASE, new)
    assert ["procedures"] == [c.section.key for c in changes]
    assert (FieldChange(CHANGED, "Thủ tục hành chính", "125", "130"),
            FieldChange(ADDED, "Thủ tục hành chính liên thông", None, "12")) == changes[0].fields
    assert 2 == changed_count(changes)


def test_diff_versions__field_removed__old_text_kept():
    new = {k: v for k, v in BASE.items() if k != "procedures.tthc_total_partners"}
    changes = diff_versions(FORM, BASE, new)
    assert (FieldChange(REMOVED, "Thủ tục hành chính: đơn vị liên thông", "Sở Tài chính", None),) == changes[0].fields


@pytest.mark.parametrize("old_value, new_value", [(1, 1.0), (1, True), (0, False)])
def test_diff_versions__values_equal_in_python_but_not_in_json__changed(old_value, new_value):
    changes = diff_versions(FORM, {**BASE, "procedures.tthc_linked": old_value},
                            {**BASE, "procedures.tthc_linked": new_value})
    assert [CHANGED] == [f.kind for f in changes[0].fields]


def test_diff_versions__question_no_longer_asked__its_answer_removed():
    """Agreeing to the schedule hides the proposed times: the page shows them gone."""
    changes = diff_versions(FORM, BASE, {**BASE, "pickup.agree": True})
    assert (FieldChange(CHANGED, "Đồng ý thu gom 10:00 và 15:00", "Không", "Có"),
            FieldChange(REMOVED, "Thời gian đơn vị đề xuất", "09:30, 14:30", None)) == changes[0].fields


def test_diff_versions__photo_changed__photo_ids():
    changes = diff_versions(FORM, BASE, {**BASE, "main_staff[1].photo": 12})
    assert (FieldChange(CHANGED, "Ảnh 3x4", "11", "12", photo=True),) == changes[0].items[0].fields


def test_diff_versions__marker_keys_changed__ignored():
    new = {**BASE, "main_staff.__done__": False, "main_staff.__last__": 9, "backup_staff.__done__": True}
    assert [] == diff_versions(FORM, BASE, new)


@pytest.mark.parametrize("extra", [
    {"reporter.email": "lan@example.vn"},  # a question not in the form
    {"unknown_section.name": "x"},  # a section not in the form
    {"main_staff[3].nickname": "Bình"},  # a question not in the repeat
    {"main_staff.name": "Lê Thị Mai"},  # a repeat section's question without an item number
    {"reporter[2].name": "Lan"},  # a plain section's question with an item number
    {"not a key": 1},
])
def test_diff_versions__unknown_key__ignored(extra):
    assert [] == diff_versions(FORM, BASE, {**BASE, **extra})
    assert [] == diff_versions(FORM, {**BASE, **extra}, BASE)


def test_diff_versions__untitled_item_added__titled_by_its_ordinal():
    """An item with only an unknown key does not exist; one whose first question is not answered is named by its
    first answer (the first question of an item may be optional), one with no answer at all by its place."""
    new = {**BASE, "plan[2].detail": "Rà soát 125 TTHC"}
    items = diff_versions(FORM, BASE, new)[0].items
    assert [(ADDED, "Rà soát 125 TTHC")] == [(i.kind, i.title) for i in items]
    from conversations.answers import item_title
    section = next(s for s in FORM.sections if s.key == "plan")
    assert "nội dung kế hoạch thứ 1" == item_title(section, {}, 1)


def test_diff_versions__sections__in_form_order():
    new = {**BASE, "procedures.tthc_total": 1, "reporter.phone": "+84905123456", "main_staff[1].gender": "nam"}
    assert ["reporter", "main_staff", "procedures"] == [c.section.key for c in diff_versions(FORM, BASE, new)]
