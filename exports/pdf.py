"""PDF copies of our Word documents, made by LibreOffice when the machine has it.

Without LibreOffice there is no PDF, and the caller says so (never a silent gap): `convert` returns None.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT = 180  # seconds; a report converts in a few


class ConversionFailed(RuntimeError):
    """LibreOffice ran and made no PDF."""


def soffice() -> str | None:
    """The LibreOffice program, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(document: Path) -> Path | None:
    """`document` converted to a PDF beside it; None without LibreOffice; ConversionFailed when it fails."""
    program = soffice()
    if program is None:
        return None
    target = document.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="hcc-lo-") as work:
        work_dir = Path(work)
        # Its own profile: runs beside an office suite the machine's user has open, and leaves nothing behind.
        command = [program, f"-env:UserInstallation={(work_dir / 'profile').as_uri()}", "--headless",
                   "--convert-to", "pdf", "--outdir", str(work_dir), str(document)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise ConversionFailed(f"LibreOffice did not finish in {TIMEOUT} s") from None
        made = work_dir / target.name
        if done.returncode != 0 or not made.exists():
            log.warning("LibreOffice conversion failed (exit %s)", done.returncode)
            raise ConversionFailed(f"LibreOffice exit {done.returncode}")
        shutil.move(str(made), target)
    return target
