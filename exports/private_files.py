"""Files that hold personal data: owner-only modes, and locked markers of work still under way.

Names, mobiles and photos are personal data under Decree 13/2023/NĐ-CP: every folder the bot makes is 0700 and
every file it writes 0600, set explicitly whatever the process's umask.

A marker is a small JSON file whose lock (flock) is held for as long as the work it describes runs. A killed
process cannot remove its markers, but the kernel drops its locks: a marker nobody holds is abandoned work,
while a marker another live worker sharing the data folder holds is left alone.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable

FOLDER_MODE = 0o700
FILE_MODE = 0o600
PARTIAL_SUFFIX = ".partial"  # an export being built (exports/build.py); it takes its real name once complete
UNFINISHED_MARKER = ".unfinished.json"  # inside it, locked while the building process lives
UNMARKED_GRACE = 60.0  # seconds a .partial folder may be without its marker (just made) before it counts as dead


def private_folder(path: Path) -> Path:
    """Create `path` and any missing parents as 0700 folders; folders that already exist are left as they are."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # another worker or thread made it first
            continue
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered by the umask
    return path


def restrict_tree(root: Path) -> None:
    """Make `root` and every folder under it 0700 and every file 0600 (symbolic links are not followed)."""
    root = Path(root)
    if not root.is_dir() or root.is_symlink():
        return
    _restrict(root, FOLDER_MODE)
    for folder, folders, files in os.walk(root):
        for name in folders:
            _restrict(Path(folder, name), FOLDER_MODE)
        for name in files:
            _restrict(Path(folder, name), FILE_MODE)


def _restrict(path: Path, mode: int) -> None:
    try:
        if path.is_symlink() or (path.stat().st_mode & 0o7777) == mode:
            return
        os.chmod(path, mode)
    except FileNotFoundError:  # removed meanwhile (a finished export's temporary file)
        pass
    except PermissionError:  # not ours: whoever put it there chose its mode
        pass


class HeldMarker:
    """A JSON marker created complete and already locked; release() when the work is done."""

    def __init__(self, path: Path, content: dict):
        self.path = Path(path)
        # Written under a temporary name and locked before it takes its real name: whoever finds the marker
        # finds it whole and locked, never half-written between create and lock.
        temp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, json.dumps(content, ensure_ascii=False).encode())
            os.replace(temp, self.path)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        self._fd: int | None = fd

    def release(self) -> None:
        """The work is done: remove the marker."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None

    def abandon(self) -> None:
        """The work stops unfinished (cancelled): leave the marker, unlocked, for the next start to find."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def claim_abandoned(path: Path) -> dict | None:
    """The content of a marker whose owner is gone, removing the marker; None while its owner still runs."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # finished meanwhile
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        try:  # released between our open and our lock: the work finished
            if not os.path.samestat(os.fstat(fd), os.stat(path)):
                return None
        except FileNotFoundError:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read()
        try:
            content = json.loads(raw)
        except ValueError:
            content = None
        Path(path).unlink(missing_ok=True)
        return content if isinstance(content, dict) else {}
    finally:
        os.close(fd)


def remove_unfinished_exports(out_dir: Path, *, now: Callable[[], float] = time.time) -> list[Path]:
    """Delete the exports a killed process left half-built (folder and zip); the folders removed.

    An export still being built by a live process (another worker sharing the folder) holds its marker's lock
    and is left alone.
    """
    removed = []
    for building in sorted(Path(out_dir).glob(f"*{PARTIAL_SUFFIX}")):
        if not building.is_dir() or building.is_symlink():
            continue
        marker = building / UNFINISHED_MARKER
        if marker.exists():
            if claim_abandoned(marker) is None:
                continue  # its process is still building it
        elif building.stat().st_mtime > now() - UNMARKED_GRACE:
            continue  # made a moment ago: its marker is about to appear
        final = building.with_name(building.name[: -len(PARTIAL_SUFFIX)])
        for leftover in (final.with_name(final.name + ".zip"), final.with_name(final.name + ".zip.part")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(building, ignore_errors=True)
        removed.append(building)
    return removed
