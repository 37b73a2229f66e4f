"""Personal data removed after a campaign (Decree 13/2023/NĐ-CP): names, mobiles and photos go, counts stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.purge import purge_campaign
from conversations import texts
from storage import queries as q
from storage.models import AuditLog, Photo
from tests.test_cli import hcc
from tests.test_service import DEADLINE, FORM, NOW, Clock, answers_of, invite, jpeg, make_service, say, setup


async def test_purge__finished_campaign__personal_fields_and_photos_gone_counts_kept(db, tmp_path):
    await setup(db)
    clock = Clock(NOW)
    service = make_service(db, tmp_path, clock)
    code = await invite(db, "STP")
    for text in [code, "Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789",
                 "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "7"]:
        await say(service, "u1", text)
    await say(service, "u1", photo=jpeg())
    for text in ["Phạm Văn An, Chuyên viên, 0905 123 456", "2", "40", "bỏ qua",  # added, then removed:
                 "sửa 3", "2", "Xóa nhân sự chính này", "Xóa", "Xong, quay về",
                 "xong", "xong", "Võ Thị Hoa, Văn thư, 0934 222 333", "xong", "125", "bỏ qua", "0", "0", "0",
                 "0", "0", "0", "có", "Tầng 1", "bỏ qua",
                 "Rà soát TTHC; Chi tiết; 01/04/2017; 30/04/2017; chung; Sở Nội vụ", "xong", "bỏ qua", "nộp"]:
        await say(service, "u1", text)
    async with db.transaction() as s:
        photo_files = [Path(p.processed_path) for p in await s.scalars(sa.select(Photo))]
        campaign_id = (await q.current_campaign(s)).id
    assert photo_files and all(p.is_file() for p in photo_files)

    exports = tmp_path / "exports"
    (exports / f"tong-hop_{campaign_id}_20170328-100000").mkdir(parents=True)
    (exports / f"tong-hop_{campaign_id}_20170328-100000" / "tong-hop.xlsx").write_bytes(b"mobiles inside")
    (exports / f"tong-hop_{campaign_id}_20170328-100000.zip").write_bytes(b"mobiles inside")
    summary = await purge_campaign(db, FORM, campaign_id, now=DEADLINE + timedelta(days=1), export_dir=exports)

    answers = await answers_of(db, "STP")
    assert (None, None, None) == (answers["reporter.name"], answers["reporter.phone"], answers["leader[1].name"])
    assert (None, None) == (answers["main_staff[1].name"], answers["main_staff[1].photo"])
    assert ("nu", "7") == (answers["main_staff[1].gender"], answers["main_staff[1].shirt_size"])
    assert 125 == answers["procedures.tthc_total"]
    assert "Rà soát TTHC" == answers["plan[1].content"]
    assert not any(p.exists() for p in photo_files)
    async with db.transaction() as s:
        report = (await q.reports_of_campaign(s, campaign_id))[0]
        version = (await q.list_report_versions(s, report.id))[-1]
        logged = list(await s.scalars(sa.select(AuditLog).where(AuditLog.key.in_(
            ["main_staff[1].phone", "main_staff[2].name", "main_staff[2].phone"]))))
        remaining_photos = list(await s.scalars(sa.select(Photo)))
    assert None is version.answers["main_staff[1].phone"] and 125 == version.answers["procedures.tthc_total"]
    assert {"main_staff[1].phone", "main_staff[2].name", "main_staff[2].phone"} == {row.key for row in logged}
    assert all(row.old is None and row.new is None for row in logged)  # the removed person too
    assert [] == list(exports.iterdir())
    assert [] == remaining_photos
    assert (1, 1) == (summary.reports, summary.versions) and summary.files >= 1
    everything = repr(answers) + repr(version.answers)
    assert "0987654321" not in everything and "Lê Thị Mai" not in everything


def test_purge_cli__campaign_not_finished__refused_with_one_line(tmp_path):
    created = hcc(["campaign", "create", "--title", "Đợt đang chạy", "--deadline", "31/03/2099 16:30"], tmp_path)
    assert 0 == created.returncode, created.stderr
    result = hcc(["purge", "--campaign", "1", "--yes"], tmp_path)
    assert 2 == result.returncode
    assert result.stderr.strip().startswith(texts.CLI_PURGE_NOT_FINISHED.split("{")[0].strip())


def test_purge_cli__not_confirmed__nothing_removed(tmp_path):
    created = hcc(["campaign", "create", "--title", "Đợt cũ", "--deadline", "28/03/2017 16:30", "--force"], tmp_path)
    assert 0 == created.returncode, created.stderr
    result = hcc(["purge", "--campaign", "1"], tmp_path, stdin="không\n")
    assert 1 == result.returncode
    assert result.stdout.rstrip().endswith(texts.CLI_PURGE_ABORTED)
    confirmed = hcc(["purge", "--campaign", "1"], tmp_path, stdin="XOA\n")
    assert 0 == confirmed.returncode, confirmed.stderr
    assert texts.CLI_PURGE_DONE.format(reports=0, answers=0, versions=0, photos=0, files=0) in confirmed.stdout
