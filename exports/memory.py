"""Give freed memory back to the operating system during long exports.

Building thousands of documents allocates and frees many small C buffers (lxml) from worker threads; glibc
keeps the freed pages in per-thread arenas, so the process grows although nothing is live. Trimming now and
then keeps a 2,000-unit export flat.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

_LIBC = ctypes.util.find_library("c")


def release_memory() -> None:
    """Collect garbage and ask glibc to return free heap pages (does nothing elsewhere)."""
    gc.collect()
    if _LIBC:
        try:
            ctypes.CDLL(_LIBC).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass
