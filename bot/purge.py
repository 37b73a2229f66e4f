"""`hcc-bot purge`: remove photos and personal fields of a finished campaign, keeping the counts.

Names, positions, mobiles and photos (the questions marked `personal` in the form) are personal data under
Decree 13/2023/NĐ-CP: once the campaign is over, they are blanked in the answers, in every submitted version
and in the audit log, and the photo files are deleted. Items keep their keys (so "3 main staff" stays true),
and counts, plans, pickup times, difficulties, genders and shirt sizes stay.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from conversations.answers import split_key
from conversations.form import Form
from storage import queries as q


@dataclass(frozen=True)
class PurgeSummary:
    reports: int
    answers: int
    versions: int
    photos: int
    files: int


def personal_keys(form: Form, keys) -> list[str]:
    """The answer keys that hold personal data."""
    personal = {(s.key, qn.key) for s in form.sections for qn in s.questions if qn.personal}
    out = []
    for key in keys:
        try:
            section, _, question = split_key(key)
        except ValueError:
            continue
        if (section, question) in personal:
            out.append(key)
    return out


async def purge_campaign(db, form: Form, campaign_id: int, *, now: datetime,
                         export_dir: Path | None = None) -> PurgeSummary:
    """Blank personal answers everywhere, delete photo files and the campaign's exports."""
    answers = versions = 0
    async with db.transaction() as s:
        reports = await q.reports_of_campaign(s, campaign_id)
        report_ids = [r.id for r in reports]
        all_keys: set[str] = set()
        for report in reports:
            keys = personal_keys(form, await q.load_answers(s, report.id))
            all_keys.update(keys)
            answers += await q.blank_answers(s, report.id, keys, at=now)
            for version in await q.list_report_versions(s, report.id):
                scrubbed = {k: (None if k in set(personal_keys(form, version.answers)) else v)
                            for k, v in version.answers.items()}
                if scrubbed != version.answers:
                    version.answers = scrubbed
                    versions += 1
        # The audit log also remembers answers deleted since (a person removed from the list): scrub by key.
        await q.scrub_audit(s, report_ids, all_keys | set(personal_keys(form, await q.audit_keys(s, report_ids))))
        photos = await q.photos_of_reports(s, report_ids)
        paths = await q.delete_photos(s, [p.id for p in photos])
        await q.add_audit(s, at=now, action="purge", new={"campaign": campaign_id, "reports": len(reports)})
    files = 0
    for path in paths:  # after the commit: a failed transaction never leaves answers pointing at lost files
        try:
            Path(path).unlink()
            files += 1
        except FileNotFoundError:
            pass
    if export_dir is not None:
        files += remove_exports(export_dir, campaign_id)
    return PurgeSummary(len(reports), answers, versions, len(photos), files)


def remove_exports(export_dir: Path, campaign_id: int) -> int:
    """Delete the campaign's export folders and zips and the units' own documents; how many files went."""
    removed = 0
    targets = [*export_dir.glob(f"tong-hop_{campaign_id}_*"), export_dir / "don-vi"]
    for target in targets:
        if target.is_dir():
            removed += sum(1 for p in target.rglob("*") if p.is_file())
            shutil.rmtree(target)
        elif target.is_file():
            target.unlink()
            removed += 1
    return removed
