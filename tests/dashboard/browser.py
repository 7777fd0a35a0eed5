"""Start the real dashboard and drive it in headless Chromium (Debian's, never `playwright install`).

Used by the end-to-end test and by `python -m tests.dashboard.browser` which
takes docs/screenshot.png from a database built with the demo data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KOUBEI = Path(sys.executable).with_name("koubei")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard_server(
    db: Path | str,
    log: Path,
    timeout: float = 60.0,
    config: Path | None = None,
    cwd: Path = REPO,
    port: int | None = None,
) -> Iterator[str]:
    """`koubei --db DB dashboard --port N` (which runs `streamlit run streamlit_app.py`) in `cwd`
    (whose .streamlit/secrets.toml Streamlit reads); yields the base URL once /_stcore/health answers."""
    port = port or free_port()
    env = {**os.environ, "KOUBEI_DB": str(db)}
    if config is not None:
        env["KOUBEI_CONFIG"] = str(config)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(KOUBEI), "--db", str(db), "dashboard", "--port", str(port), "--address", "127.0.0.1"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"dashboard exited with {proc.returncode}: {log.read_text(errors='replace')}")
                try:
                    if requests.get(f"{url}/_stcore/health", timeout=2).ok:
                        break
                except (requests.ConnectionError, requests.Timeout):  # a starting server on a busy machine
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dashboard not healthy after {timeout}s: {log.read_text(errors='replace')}")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (`make browser`)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def screenshot(url: str, out: Path, width: int = 1400, height: int = 2150) -> None:
    """Streamlit scrolls inside its own container, so a tall viewport rather than full_page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            page.wait_for_timeout(1500)  # let the tables' canvases paint
            page.screenshot(path=str(out))
        finally:
            browser.close()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Screenshot the dashboard for the README.")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--query", default="", help="URL query, e.g. '?lang=en'")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with dashboard_server(args.db.resolve(), Path("/tmp/koubei-dashboard-screenshot.log")) as base:
        screenshot(base + "/" + args.query, args.out)
    print(args.out)
