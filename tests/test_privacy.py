"""Personal data is masked wherever text is shown or exported; spreadsheet formulas are defused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koubei.privacy import mask_pii, neutralize_formula, safe_cell


@pytest.mark.parametrize(
    ("text", "secret", "shown"),
    [
        ("电话13812345678联系我", "13812345678", "138****5678"),
        ("打 +86 138-1234-5678 找我", "1234", "138****5678"),
        ("邮箱 zhang.san@qq.com 谢谢", "zhang.san@qq.com", "z***@qq.com"),
        ("身份证110101199003071234", "110101199003071234", "11**************34"),
        ("身份证号11010119900307123X", "11010119900307123X", "11**************3X"),
        ("座机010-12345678", "12345678", "010-****5678"),
        ("卡号6222 0212 3456 7890 123", "0212 3456 7890", "6222 **** 123"),
    ],
)
def test_personal_data_is_masked(text: str, secret: str, shown: str) -> None:
    masked = mask_pii(text)
    assert secret not in masked
    assert shown in masked


@pytest.mark.parametrize(
    "text",
    [
        "订单号202611230001已退款",
        "2026-11-23 20:15 下单",
        "价格199元，用了3天",
        "声浪P20充电宝发烫",
        "Great sound, 5 stars",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_pii(text) == text


@given(st.text(alphabet="充电宝发烫好评差评物流很快客服 ，。！abc", max_size=60))
def test_text_without_digits_or_at_signs_never_changes(text: str) -> None:
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://evil")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "＝1+1"]
)
def test_formula_cells_are_defused(cell: str) -> None:
    assert neutralize_formula(cell) == "'" + cell


def test_safe_cell_masks_then_defuses_and_passes_numbers_through() -> None:
    assert safe_cell('=HYPERLINK("13812345678")') == '\'=HYPERLINK("138****5678")'
    assert safe_cell(3.5) == 3.5 and safe_cell(None) is None
