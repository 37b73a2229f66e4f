"""The data folder holds personal data (Decree 13/2023/NĐ-CP): only the bot's own user may read it."""

from __future__ import annotations

from pathlib import Path

from bot.web import KEY_FILE
from exports.private_files import FILE_MODE, FOLDER_MODE, private_folder, restrict_tree

# What the bot keeps in the data folder. Only these are touched: HCC_DATA_DIR may be a folder with other things.
DATA_FILES = ("hcc.db", "hcc.db-wal", "hcc.db-shm", KEY_FILE)
DATA_FOLDERS = ("photos", "exports", "demo")


def secure_data_dir(data_dir: Path) -> None:
    """At start: the data folder and the bot's folders in it 0700 (all the way down), the bot's files 0600.

    Files the bot writes get these modes as they are written; this also covers what an earlier version or a
    copy (cp, rsync, a restored backup) left readable by others.
    """
    data_dir = private_folder(data_dir)
    for path, mode in [(data_dir, FOLDER_MODE), *((data_dir / name, FILE_MODE) for name in DATA_FILES)]:
        try:
            if path.exists() and not path.is_symlink():
                path.chmod(mode)
        except PermissionError:  # not ours: whoever set it up chose its mode
            pass
    for name in DATA_FOLDERS:
        restrict_tree(data_dir / name)
