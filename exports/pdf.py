"""PDF copies of our Word documents, made by LibreOffice when the machine has it.

Without LibreOffice there is no PDF, and the caller says so (never a silent gap): `convert` returns None.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
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


def convert(document: Path, *, timeout: float = TIMEOUT) -> Path | None:
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
        # `soffice` is a script that starts soffice.bin: in a session of its own, the whole group can be stopped.
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("LibreOffice conversion stopped after %s s", timeout)
            raise ConversionFailed(f"LibreOffice did not finish in {timeout} s") from None
        finally:
            _stop_group(process)
        made = work_dir / target.name
        if returncode != 0 or not made.exists():
            log.warning("LibreOffice conversion failed (exit %s)", returncode)
            raise ConversionFailed(f"LibreOffice exit {returncode}")
        shutil.move(str(made), target)
    return target


def _stop_group(process: subprocess.Popen) -> None:
    """Stop what is left of LibreOffice's process group (nothing, after a normal exit)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
