"""Open exports as a person would: convert with LibreOffice, read the pages of the PDF, render them to PNG."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")


def to_pdf(path: Path, out_dir: Path) -> Path:
    """The file converted to PDF by LibreOffice (its own profile, so it runs beside any other LibreOffice)."""
    profile = (out_dir / "lo-profile").as_uri()
    done = subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(out_dir), str(path)], capture_output=True, text=True, timeout=240)
    assert 0 == done.returncode, done.stderr
    pdf = out_dir / (path.stem + ".pdf")
    assert pdf.exists(), done.stdout + done.stderr
    return pdf


@dataclass(frozen=True)
class Page:
    number: int
    text: str
    sizes: list[float]  # the printed size (pt) of every character, page scaling included

    @property
    def smallest(self) -> float:
        return min(self.sizes) if self.sizes else 0.0


def pages(pdf: Path) -> list[Page]:
    """Every page's text and its characters' printed sizes, as pdfminer lays them out."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTChar, LTTextContainer

    out = []
    for number, layout in enumerate(extract_pages(str(pdf)), 1):
        sizes: list[float] = []
        text: list[str] = []

        def walk(item) -> None:
            if isinstance(item, LTChar):
                if item.get_text().strip():
                    sizes.append(round(item.size, 2))
                return
            for child in getattr(item, "_objs", []) or []:
                walk(child)

        for element in layout:
            if isinstance(element, LTTextContainer):
                text.append(element.get_text())
            walk(element)
        out.append(Page(number, "".join(text), sizes))
    return out


def to_png(pdf: Path, prefix: Path, *, dpi: int = 60) -> list[Path]:
    """The PDF's pages as PNG files (prefix-1.png, prefix-2.png, …)."""
    subprocess.run([PDFTOPPM, "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True, timeout=240)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))
