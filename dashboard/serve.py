"""`python -m dashboard.serve run streamlit_app.py ...`: Streamlit's own command line (what `python -m
streamlit` runs), with jieba's dictionary loading in a background thread from the server's start, then
the topics page's default window read and cut.

Streamlit runs the app's script only when a session opens a page, so a warm-up started by the script
(streamlit_app.py starts one too, for `streamlit run` without this launcher) begins with the first
visit and competes with it for the two cores. Started here, it runs while the server boots and waits
for its first visitor: the topics page finds the dictionary loaded (docs/performance.md). The script's
own call finds this thread (one per process) and starts none.

A large store's topics page also cut its window's texts clause by clause on its first visit (about 3 s
of its own at 10M mentions on a quiet machine, against 1.7 s once the clauses were cut): the server
does that for the default window after the dictionary (dashboard.topics.warm_default_window), and a
visitor who asks meanwhile waits for it (dashboard.topics.SEGMENTING) instead of cutting the same
clauses beside it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sentiment.segmenter import warm_in_background

log = logging.getLogger("koubei.dashboard")


def warm_topics(after: threading.Thread) -> None:
    """Once `after` (the dictionary's load) is done: the default topics window of a database file of
    WARM_MIN_BYTES or more read and cut. A lake is not warmed (it has no one file's size to judge by).
    A failure changes nothing but the time of the first visit: it is logged, never raised."""
    from dashboard import loaders, topics

    after.join()
    db = loaders.db_path()
    path = Path(db)
    if db.startswith(loaders.LAKE_ADDRESS) or not path.exists() or path.stat().st_size < topics.WARM_MIN_BYTES:
        return
    try:
        topics.warm_default_window(db, str(loaders.dashboard_settings().timezone))
    except Exception:  # noqa: BLE001 - a warm-up must never take the server down
        log.warning("the topics page's warm-up failed; its first visit reads as usual", exc_info=True)


def warm_in_background_then_topics() -> threading.Thread:
    """The dictionary's warm-up, then the topics window's, in daemon threads; returns the second."""
    warming = threading.Thread(
        target=warm_topics, args=(warm_in_background(),), name="koubei-topics-warm-up", daemon=True
    )
    warming.start()
    return warming


if __name__ == "__main__":
    from streamlit.web.cli import main

    warm_in_background_then_topics()
    main(prog_name="streamlit")  # as streamlit/__main__.py: the server sees the same command line
