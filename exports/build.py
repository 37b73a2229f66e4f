"""One export: a folder (and a zip of it) named with the campaign and the local date and time.

Synchronous on purpose: the CLI calls it directly and the bot runs it in a worker thread, so a long export
never blocks the event loop.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from conversations import texts
from conversations.answers import LOCAL_TZ
from exports.badges import build_badges, build_name_tags
from exports.data import ExportData
from exports.document import build_unit_documents
from exports.memory import release_memory
from exports.photo_archive import build_photo_archive
from exports.workbook import build_workbook

WORKBOOK_NAME = "tong-hop.xlsx"
PHOTOS_DIR = "anh-3x4"
BADGES_NAME = "the-nhan-su.pdf"
NAME_TAGS_NAME = "bang-ten.pdf"
DOCUMENTS_DIR = "bao-cao-don-vi"

Progress = Callable[[str, int, int], None]  # (step, done units, total units)


@dataclass
class ExportResult:
    folder: Path
    zip_path: Path | None
    workbook: Path
    badges: list[Path]
    name_tags: list[Path]
    documents: list[Path] = field(default_factory=list)
    photos: list[Path] = field(default_factory=list)

    def files(self) -> list[Path]:
        """Every file written, for the operator."""
        return [self.workbook, *self.badges, *self.name_tags, *self.documents, *self.photos] + \
            ([self.zip_path] if self.zip_path else [])


def export_folder_name(data: ExportData, campaign_id: int) -> str:
    """`tong-hop_<campaign>_<yyyymmdd-hhmmss>` in Asia/Ho_Chi_Minh."""
    stamp = data.generated_at.astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
    return texts.EXPORT_FOLDER.format(campaign=campaign_id, stamp=stamp)


def build_export(data: ExportData, out_dir: Path, *, campaign_id: int, make_zip: bool = True,
                 progress: Progress | None = None) -> ExportResult:
    """Write the workbook, the photo archive, badges, name tags and one document per unit; zip them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # Two exports in the same second (two admins, or "xuất" then "xuất mới") each get their own folder.
    base = export_folder_name(data, campaign_id)
    folder = out_dir / base
    n = 1
    while True:
        try:
            folder.mkdir()
            break
        except FileExistsError:
            n += 1
            folder = out_dir / f"{base}-{n}"

    def step(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(name, done, total))

    def run(builder, target: Path, name: str):
        try:
            return builder(data, target, progress=step(name))
        finally:
            release_memory()  # each builder's garbage goes back to the OS before the next one starts

    result = ExportResult(
        folder=folder,
        zip_path=None,
        workbook=run(build_workbook, folder / WORKBOOK_NAME, "workbook"),
        photos=run(build_photo_archive, folder / PHOTOS_DIR, "photos"),
        badges=run(build_badges, folder / BADGES_NAME, "badges"),
        name_tags=run(build_name_tags, folder / NAME_TAGS_NAME, "name_tags"),
        documents=run(build_unit_documents, folder / DOCUMENTS_DIR, "documents"),
    )
    if make_zip:
        result.zip_path = folder.with_suffix(".zip")
        partial = folder.with_suffix(".zip.part")  # a half-written zip never carries the final name
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    # JPEGs and xlsx are already compressed: storing them saves time for nothing lost.
                    kind = zipfile.ZIP_STORED if path.suffix in (".jpg", ".xlsx", ".docx") else zipfile.ZIP_DEFLATED
                    archive.write(path, path.relative_to(folder.parent), compress_type=kind)
        partial.replace(result.zip_path)
    return result
