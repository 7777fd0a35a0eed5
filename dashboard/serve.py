"""`python -m dashboard.serve run streamlit_app.py ...`: Streamlit's own command line (what `python -m
streamlit` runs), with jieba's dictionary loading in a background thread from the server's start.

Streamlit runs the app's script only when a session opens a page, so a warm-up started by the script
(streamlit_app.py starts one too, for `streamlit run` without this launcher) begins with the first
visit and competes with it for the two cores. Started here, it runs while the server boots and waits
for its first visitor: the topics page finds the dictionary loaded (docs/performance.md). The script's
own call finds this thread (one per process) and starts none.
"""

from __future__ import annotations

from sentiment.segmenter import warm_in_background

if __name__ == "__main__":
    from streamlit.web.cli import main

    warm_in_background()
    main(prog_name="streamlit")  # as streamlit/__main__.py: the server sees the same command line
