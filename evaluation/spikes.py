"""`koubei eval spikes`: the volume detector on NAB realTweets, the negative detector on synthetic streams.

NAB: each event's onset (first bucket) is the detection, exactly what
`koubei detect --series` reports as `start`; scored with evaluation.nab as NAB
defines it. Synthetic: evaluation.synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alerts.detectors import VolumeParams
from alerts.events import detect_volume
from evaluation.nab import FileScore, load_realtweets, normalised, score_file
from evaluation.synthetic import SyntheticResult, evaluate

TARGETS = {"nab": 75.0, "recall": 0.95, "precision": 0.95, "delay": 2.0}
PUBLISHED = {"ARTime": 81.84, "contextOSE": 74.48, "numenta (HTM)": 68.02, "twitterADVec": 59.62}


@dataclass
class NabResult:
    files: list[FileScore]
    score: float

    @property
    def windows(self) -> int:
        return sum(f.windows for f in self.files)

    @property
    def hit(self) -> int:
        return sum(f.windows_hit for f in self.files)

    @property
    def false_alarms(self) -> int:
        return sum(f.false_positives for f in self.files)


def nab_eval(nab_dir: Path, params: VolumeParams | None = None) -> NabResult:
    p = params or VolumeParams()
    files = []
    for s in load_realtweets(nab_dir):
        events = detect_volume(s.values[None, :], 288, p)  # 5-minute buckets: 288 a day
        flags = np.array([e.start for e in events], dtype=int)
        files.append(score_file(s.name, len(s.values), flags, s.windows))
    return NabResult(files, normalised(sum(f.raw for f in files), sum(f.windows for f in files)))


def report(nab: NabResult | None, syn: SyntheticResult | None) -> tuple[list[str], bool]:
    lines: list[str] = []
    ok = True
    if nab is not None:
        lines.append(
            "NAB realTweets, standard profile (tp 1.0, fp 0.11, fn 1.0), volume detector with default settings"
        )
        lines.append(f"{'series':<8}{'windows hit':>13}{'false alarms':>14}{'raw score':>11}")
        for f in nab.files:
            lines.append(f"{f.name:<8}{f'{f.windows_hit}/{f.windows}':>13}{f.false_positives:>14}{f.raw:>11.3f}")
        met = nab.score >= TARGETS["nab"]
        ok &= met
        lines.append(
            f"NAB score {nab.score:.2f} (target >= {TARGETS['nab']:.0f}: {'met' if met else 'MISSED'});"
            f" windows hit {nab.hit}/{nab.windows}, false alarms {nab.false_alarms}"
        )
        lines.append("published on realTweets: " + ", ".join(f"{k} {v}" for k, v in PUBLISHED.items()))
    if syn is not None:
        r_ok = syn.recall >= TARGETS["recall"]
        p_ok = syn.precision >= TARGETS["precision"]
        d_ok = syn.median_delay <= TARGETS["delay"]
        ok &= r_ok and p_ok and d_ok
        lines.append("")
        lines.append(
            f"synthetic negative spikes: {syn.streams} streams, {syn.spikes} injected spikes (sharp bursts and"
            " day-long slow burns) with decoys (campaigns, outages + backfills, quiet nights)"
        )
        lines.append(
            f"recall {syn.recall:.3f} ({syn.detected}/{syn.spikes}; target >= {TARGETS['recall']}: {'met' if r_ok else 'MISSED'})"
        )
        lines.append(
            f"precision {syn.precision:.3f} ({syn.true_alarms}/{syn.alarms} alarms; target >= {TARGETS['precision']}:"
            f" {'met' if p_ok else 'MISSED'})"
        )
        lines.append(
            f"median delay {syn.median_delay:.1f} buckets (target <= {TARGETS['delay']:.0f}: {'met' if d_ok else 'MISSED'})"
        )
        lines.append(
            "false alarms by where they fell: "
            + (", ".join(f"{k} {v}" for k, v in sorted(syn.false_by_decoy.items())) or "none")
        )
    return lines, ok


def run(nab_dir: Path | None, streams: int = 60, seed: int = 20261123) -> tuple[list[str], bool]:
    nab = nab_eval(nab_dir) if nab_dir is not None else None
    syn = evaluate(streams, seed) if streams > 0 else None
    return report(nab, syn)
