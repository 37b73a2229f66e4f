"""One export: a folder (and a zip of it) named with the campaign and the local date and time.

Synchronous on purpose: the CLI calls it directly and the bot runs it in a worker thread, so a long export
never blocks the event loop.
"""

from __future__ import annotations

import os
import shutil
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
from exports.pdf import ConversionFailed, convert
from exports.photo_archive import build_photo_archive
from exports.private_files import (FILE_MODE, FOLDER_MODE, PARTIAL_SUFFIX, UNFINISHED_MARKER, HeldMarker,
                                   private_folder, restrict_tree)
from exports.report import build_report
from exports.workbook import build_workbook

WORKBOOK_NAME = "tong-hop.xlsx"
PHOTOS_DIR = "anh-3x4"
BADGES_NAME = "the-nhan-su.pdf"
NAME_TAGS_NAME = "bang-ten.pdf"
DOCUMENTS_DIR = "bao-cao-don-vi"
REPORT_NAME = texts.REPORT_FILE
# LibreOffice's time grows faster than the report: 7 s at 200 units, 27 s at 600, minutes beyond. A province has
# tens of units; above this the officer gets the .docx and a note instead of a long wait.
PDF_MAX_UNITS = 600

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
    report: Path | None = None  # the consolidated report (.docx)
    report_pdf: Path | None = None  # its PDF, when LibreOffice could make it
    notes: list[str] = field(default_factory=list)  # what the export could not do, in Vietnamese, for the officer

    def files(self) -> list[Path]:
        """Every file written, for the operator."""
        report = [p for p in (self.report, self.report_pdf) if p is not None]
        return [*report, self.workbook, *self.badges, *self.name_tags, *self.documents, *self.photos] + \
            ([self.zip_path] if self.zip_path else [])

    def report_for_reading(self) -> Path | None:
        """The consolidated report to send on its own: the PDF when there is one, else the .docx."""
        return self.report_pdf or self.report


def export_folder_name(data: ExportData, campaign_id: int) -> str:
    """`tong-hop_<campaign>_<yyyymmdd-hhmmss>` in Asia/Ho_Chi_Minh."""
    stamp = data.generated_at.astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
    return texts.EXPORT_FOLDER.format(campaign=campaign_id, stamp=stamp)


def build_export(data: ExportData, out_dir: Path, *, campaign_id: int, make_zip: bool = True,
                 progress: Progress | None = None) -> ExportResult:
    """Write the consolidated report (and its PDF), the workbook, the photo archive, badges, name tags and one
    document per unit; zip them. What could not be made (the PDF without LibreOffice) is in `notes`.

    Every builder lays out `data.form`, whatever form it is: a form without badge photos (or without the
    template's main staff) gets no badges (or name tags) file, and `badges` (or `name_tags`) is [], which is
    not a fault and makes no note.

    The export is written into `<name>.partial` (with a locked marker inside) and takes its name only once
    complete, zip included: a folder under its real name is always a whole export. A killed export leaves a
    `.partial` folder that remove_unfinished_exports() deletes. Every folder is 0700 and every file 0600.
    """
    private_folder(out_dir)
    building, final = _reserve_folder(out_dir, export_folder_name(data, campaign_id))
    zip_path = final.with_name(final.name + ".zip")
    zip_part = final.with_name(final.name + ".zip.part")  # a half-written zip never carries the final name
    marker = HeldMarker(building / UNFINISHED_MARKER, {"started_at": data.generated_at.isoformat()})
    try:
        def step(name: str) -> Callable[[int, int], None] | None:
            return None if progress is None else (lambda done, total: progress(name, done, total))

        def run(builder, target: str, name: str):
            try:
                return builder(data, building / target, progress=step(name))
            finally:
                release_memory()  # each builder's garbage goes back to the OS before the next one starts

        report = run(build_report, REPORT_NAME, "report")
        result = ExportResult(
            folder=building,
            zip_path=None,
            report=report,
            workbook=run(build_workbook, WORKBOOK_NAME, "workbook"),
            photos=run(build_photo_archive, PHOTOS_DIR, "photos"),
            badges=run(build_badges, BADGES_NAME, "badges"),
            name_tags=run(build_name_tags, NAME_TAGS_NAME, "name_tags"),
            documents=run(build_unit_documents, DOCUMENTS_DIR, "documents"),
        )
        result.report_pdf = _report_pdf(report, len(data.units), result.notes)
        restrict_tree(building)  # the builders' files were made under the umask, inside a 0700 folder
        if make_zip:
            fd = os.open(zip_part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(building.rglob("*")):
                    if path.is_file() and path.name != UNFINISHED_MARKER:
                        # JPEGs and xlsx are already compressed: storing them saves time for nothing lost.
                        kind = zipfile.ZIP_STORED if path.suffix in (".jpg", ".xlsx", ".docx") else zipfile.ZIP_DEFLATED
                        archive.write(path, Path(final.name, path.relative_to(building)), compress_type=kind)
            zip_part.replace(zip_path)
            result.zip_path = zip_path
        # Unlinking the marker touches the folder, which keeps it within UNMARKED_GRACE until the rename.
        marker.release()
        building.rename(final)  # the export is complete from here on
    except BaseException:
        marker.release()
        shutil.rmtree(building, ignore_errors=True)
        zip_part.unlink(missing_ok=True)
        zip_path.unlink(missing_ok=True)
        raise
    return _moved(result, building, final)


def _report_pdf(report: Path, units: int, notes: list[str]) -> Path | None:
    """The report's PDF by LibreOffice; when there is none, a note says so and why."""
    if units > PDF_MAX_UNITS:
        notes.append(texts.REPORT_PDF_TOO_LARGE.format(units=units))
        return None
    try:
        pdf = convert(report)
    except ConversionFailed:
        notes.append(texts.REPORT_PDF_FAILED)
        return None
    if pdf is None:
        notes.append(texts.REPORT_PDF_MISSING)
    return pdf


def _reserve_folder(out_dir: Path, base: str) -> tuple[Path, Path]:
    """An empty `<name>.partial` folder of our own, and `<name>`: neither it nor its zip exists yet."""
    # Two exports in the same second (two admins, or "xuất" then "xuất mới") each get their own name.
    n = 1
    while True:
        final = out_dir / (base if n == 1 else f"{base}-{n}")
        n += 1
        building = final.with_name(final.name + PARTIAL_SUFFIX)
        try:
            building.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue
        # Checked after the mkdir: no other export can take this name while our .partial folder exists.
        if final.exists() or final.with_name(final.name + ".zip").exists():
            building.rmdir()
            continue
        os.chmod(building, FOLDER_MODE)
        return building, final


def _moved(result: ExportResult, old: Path, new: Path) -> ExportResult:
    def move(path: Path) -> Path:
        return new / path.relative_to(old)

    return ExportResult(folder=new, zip_path=result.zip_path, workbook=move(result.workbook),
                        badges=[move(p) for p in result.badges], name_tags=[move(p) for p in result.name_tags],
                        documents=[move(p) for p in result.documents], photos=[move(p) for p in result.photos],
                        report=move(result.report) if result.report else None,
                        report_pdf=move(result.report_pdf) if result.report_pdf else None, notes=result.notes)
