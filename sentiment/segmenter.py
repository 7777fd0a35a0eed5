"""jieba, made ready once per process: its prefix dictionary loaded from a cache koubei keeps, and
warmed in a background thread where a process (the dashboard server) knows it will need it.

jieba builds its prefix dictionary from dict.txt (349k words) on first use, and keeps a marshal of it
to load instead. On this project's 2-core machine both cost the same: 0.65-0.80 CPU s to build,
0.64-0.78 to load the marshal (2-3 s of wall time each at a load average of 15; docs/performance.md).
So what takes the dictionary off the topics page's path is the warm-up, not the cache. The cache is
kept, and named, for correctness: jieba's own default is one /tmp/jieba.cache shared by every user
of the machine and never invalidated for the default dictionary, so after an upgrade of jieba it
would keep loading the old dictionary. koubei's is named by a digest of jieba's version and dict.txt's
bytes (a changed dictionary misses and is rebuilt) and lives in koubei's cache folder
($KOUBEI_CACHE_DIR, else $XDG_CACHE_HOME/koubei or ~/.cache/koubei; the temporary folder when none
of these is writable). koubei's lexicons are not added to jieba's dictionary (sentiment/keywords.py
checks them beside it), so they are not part of the key. Nothing is ever downloaded: the cache is
made from the installed package's dict.txt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType

CACHE_PREFIX = "jieba-"
CACHE_SUFFIX = ".cache"

JIEBA_WARM_UP = "koubei-jieba-warm-up"  # the name of the thread that loads jieba's dictionary
_background: dict[str, threading.Thread] = {}  # by name: each started once per process
_background_lock = threading.Lock()


def cache_dir() -> Path:
    """The first of $KOUBEI_CACHE_DIR, $XDG_CACHE_HOME/koubei, ~/.cache/koubei that can be written,
    else the temporary folder (jieba then builds the dictionary as it would without a cache)."""
    candidates = []
    if given := os.environ.get("KOUBEI_CACHE_DIR"):
        candidates.append(Path(given))
    candidates.append(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "koubei")
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    return Path(tempfile.gettempdir())


def cache_name() -> str:
    """The cache file's name: a digest of what jieba's prefix dictionary is built from."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(metadata.version("jieba").encode())
    digest.update(resources.files("jieba").joinpath("dict.txt").read_bytes())
    return f"{CACHE_PREFIX}{digest.hexdigest()}{CACHE_SUFFIX}"


def drop_stale(folder: Path, keep: str) -> None:
    """Caches of other dictionaries (an older jieba's): 9 MB each, never read again."""
    for stale in folder.glob(f"{CACHE_PREFIX}*{CACHE_SUFFIX}"):
        if stale.name != keep:
            stale.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def segmenter() -> ModuleType:
    """jieba, pointed at koubei's cache of its dictionary (loaded on first use, or by ready())."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" chatter is noise on the CLI
    folder, name = cache_dir(), cache_name()
    if not (folder / name).exists():
        drop_stale(folder, name)
    jieba.dt.tmp_dir = str(folder)
    jieba.dt.cache_file = name
    return jieba


def ready() -> ModuleType:
    """jieba with its dictionary loaded (from the cache, or built and the cache written)."""
    jieba = segmenter()
    jieba.dt.check_initialized()
    return jieba


def warm_in_background() -> threading.Thread:
    """Start loading jieba's dictionary in a daemon thread, once per process; returns that thread.
    A caller that segments before it is done is still right: jieba's initialisation holds a lock,
    so the caller waits for the load under way instead of starting a second one."""
    return once_in_background(JIEBA_WARM_UP, ready)


def once_in_background(name: str, target: Callable[[], object]) -> threading.Thread:
    """`target` in a daemon thread called `name`, started once per process: later calls return it."""
    with _background_lock:
        if name not in _background:
            _background[name] = threading.Thread(target=target, name=name, daemon=True)
            _background[name].start()
        return _background[name]
