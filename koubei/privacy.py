"""Personal data and hostile text: mask before showing, neutralise before exporting.

Mention text comes from strangers. Wherever it is shown or exported, phone
numbers, e-mail addresses and ID numbers are masked, and cells that a
spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import re

# Mainland ID card: 17 digits + digit/X, starting with a valid-looking region digit.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
# Mainland mobile, optionally +86 / 86 prefixed, optionally split by spaces or dashes.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[-\s]?)?1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
# Landline such as 010-12345678 or 0755 1234567.
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[-\s](\d{3,4})(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Bank card: 16-19 digits, optionally grouped by 4.
_BANK_CARD = re.compile(r"(?<!\d)(\d{4})(?:[-\s]?\d{4}){2,3}[-\s]?(\d{1,4})(?!\d)")

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def mask_pii(text: str | None) -> str:
    """Replace phone numbers, e-mails, ID and bank card numbers with masked forms."""
    if not text:
        return text or ""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)[:2]}{'*' * 14}{m.group(3)[-2:]}", text)
    text = _EMAIL.sub(r"\1***\2", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
    text = _BANK_CARD.sub(lambda m: f"{m.group(1)} **** {m.group(2)}", text)
    return text


def neutralize_formula(value: object) -> object:
    """Prefix a quote to strings a spreadsheet would evaluate (CSV/XLSX injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_cell(value: object) -> object:
    """What every exported text cell goes through: masked, then defused."""
    if isinstance(value, str):
        return neutralize_formula(mask_pii(value))
    return value
