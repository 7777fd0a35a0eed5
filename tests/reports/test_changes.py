"""What changed, on counts made in the test: the largest moves, each said once."""

from __future__ import annotations

from reports.changes import candidates, largest_moves
from reports.html import move_sentence
from storage.queries import Kpis
from storage.reports import SegmentCount as C


def _segments(before: dict[str, list[C]], after: dict[str, list[C]]) -> dict[str, tuple[list[C], list[C]]]:
    return {k: (before.get(k, []), after.get(k, [])) for k in ("product", "source", "aspect", "product_aspect")}


BEFORE = {
    "product": [C(("P20",), 400, 400, 40), C(("X1",), 600, 600, 120)],
    "source": [C(("weibo",), 500, 500, 80), C(("jd",), 500, 500, 80)],
    "aspect": [C(("电池",), 100, 100, 20), C(("物流",), 200, 200, 60)],
    "product_aspect": [C(("P20", "电池"), 100, 100, 20), C(("X1", "物流"), 200, 200, 60)],
}
AFTER = {
    "product": [C(("P20",), 900, 900, 452), C(("X1",), 600, 600, 60)],
    "source": [C(("weibo",), 1000, 1000, 412), C(("jd",), 500, 500, 100)],
    "aspect": [C(("电池",), 500, 500, 432), C(("物流",), 200, 200, 10)],
    "product_aspect": [C(("P20", "电池"), 500, 500, 432), C(("X1", "物流"), 200, 200, 10)],
}


def test_the_share_move_names_the_product_aspect_that_drove_it() -> None:
    moves = candidates(Kpis(1500, 1500, 512, 0.5), Kpis(1000, 1000, 160, 0.7), _segments(BEFORE, AFTER))
    share = next(m for m in moves if m.kind == "negative_share")
    assert (round(share.before, 2), round(share.after, 3)) == (0.16, 0.341)
    assert share.driver is not None and share.driver.key == ("P20", "电池") and share.driver.delta == 412
    assert move_sentence(share, "zh") == "负面占比 从 16.0% 升至 34.1%，主要来自 P20 的 电池 方面（+412 条）。"


def test_three_moves_none_told_twice() -> None:
    moves = largest_moves(candidates(Kpis(1500, 1500, 512, 0.5), Kpis(1000, 1000, 160, 0.7), _segments(BEFORE, AFTER)))
    assert len(moves) == 3
    subjects = [m.subject for m in moves if m.subject]
    assert len(subjects) == len(set(subjects))
    drivers = [m.driver.key for m in moves if m.driver]
    assert len(drivers) == len(set(drivers))  # P20's battery is one move, not three
    magnitudes = [m.magnitude for m in moves]
    assert magnitudes == sorted(magnitudes, reverse=True)


def test_falls_are_moves_too_and_read_as_falls() -> None:
    moves = candidates(
        Kpis(800, 800, 60, 0.8), Kpis(1000, 1000, 160, 0.7), _segments(BEFORE, {"product": [C(("X1",), 800, 800, 60)]})
    )
    share = next(m for m in moves if m.kind == "negative_share")
    assert not share.rising and move_sentence(share, "en").startswith("The negative share fell from 16.0% to 7.5%")


def test_nothing_to_compare_with_gives_no_move() -> None:
    assert candidates(Kpis(500, 500, 100, 0.5), Kpis(0, 0, 0, None), _segments({}, AFTER)) == []
