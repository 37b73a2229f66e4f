"""One export = one folder and its zip; two exports at the same moment never touch each other's files."""

from __future__ import annotations

import zipfile

from exports.build import build_export
from tests.export_samples import sample_export_data


def test_build_export__twice_in_the_same_second__two_complete_folders_and_zips(tmp_path):
    data = sample_export_data(tmp_path)
    first = build_export(data, tmp_path / "out", campaign_id=7)
    second = build_export(data, tmp_path / "out", campaign_id=7)
    assert "tong-hop_7_20170328-100000" == first.folder.name
    assert "tong-hop_7_20170328-100000-2" == second.folder.name
    for result in (first, second):
        with zipfile.ZipFile(result.zip_path) as archive:
            names = archive.namelist()
        assert f"{result.folder.name}/tong-hop.xlsx" in names
        assert f"{result.folder.name}/bao-cao-don-vi/bao-cao_STP.docx" in names
        assert all(path.is_file() for path in result.files())
    assert [] == list((tmp_path / "out").glob("*.part"))


def test_status_label__returned_accepted_and_extended__as_the_console_says():
    from datetime import datetime, timedelta, timezone

    from exports.data import ExportData, UnitReport, status_label
    from conversations.form import load_form

    deadline = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)
    data = ExportData(form=load_form(), campaign_title="T", doc_ref=None, deadline_at=deadline,
                      generated_at=deadline + timedelta(hours=1), units=[])
    returned = UnitReport("STP", "Sở Tư pháp", "in_progress", {}, review="returned")
    accepted = UnitReport("CAT", "Công an tỉnh", "submitted", {}, review="accepted")
    extended = UnitReport("SYT", "Sở Y tế", "in_progress", {}, deadline_at=deadline + timedelta(days=2))
    assert "cần bổ sung, quá hạn" == status_label(data, returned)
    assert "đã duyệt" == status_label(data, accepted)
    assert "đang nhập" == status_label(data, extended)
