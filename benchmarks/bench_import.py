"""`koubei import` of a generated 1,000,000-row CSV: peak memory (RSS) of the real process.

Before the import streamed, memory was about 30x the file (1.49 GB for a 46 MB, 500k-row CSV,
2.7 GB for 1M rows). Target: at most 500 MB for any file size.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 1_000_000
TARGET_RSS_MB = 500.0
REPO = Path(__file__).resolve().parent.parent
PHRASES = ("物流很快", "包装完好", "客服不回复", "质量一般", "充电发热", "音质清晰", "退款一周还没到", "性价比高")


def write_csv(path: Path, rows: int = ROWS, seed: int = 5) -> None:
    """A company export: id, text, time, rating, nickname, likes."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("评论id,内容,评论时间,评分,昵称,点赞数\n")
        for i in range(rows):
            text = "，".join(rng.sample(PHRASES, 3))
            day, minute = 1 + i % 28, i % 1440
            out.write(
                f"c{i},{text}第{i}条,2026-10-{day:02d} {minute // 60:02d}:{minute % 60:02d}:00,"
                f"{rng.randint(1, 5)},用户{rng.randint(1, 200_000)},{rng.randint(0, 50)}\n"
            )


def peak_rss_of(args: list[str]) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, stdout) of a process run to its end."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"koubei import failed: {err.strip()[-500:]}")
    return usage.ru_maxrss / 1024, seconds, out.strip()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, db = Path(tmp) / "export.csv", Path(tmp) / "import.duckdb"
        write_csv(csv_path)
        size_mb = csv_path.stat().st_size / 1e6
        koubei = [sys.executable, "-m", "koubei", "--db", str(db)]
        rss, seconds, out = peak_rss_of([*koubei, "import", str(csv_path), "--source", "crm"])
    print(f"koubei import, {ROWS:,}-row CSV ({size_mb:.0f} MB): peak RSS {rss:.0f} MB in {seconds:.0f} s ({out})")
    if rss > TARGET_RSS_MB:
        raise AssertionError(f"peak RSS {rss:.0f} MB > {TARGET_RSS_MB:.0f} MB")
    print(f"target met: <= {TARGET_RSS_MB:.0f} MB")


if __name__ == "__main__":
    main()
