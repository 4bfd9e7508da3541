"""Cells of CSV files people open in a spreadsheet, made inert.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or
``@`` (and, after stripping, a tab or carriage return) as a formula: ``=HYPERLINK(...)``
in a recommendation's title would run in the reader's spreadsheet (formula or CSV
injection). Such a text cell is prefixed with an apostrophe, which the spreadsheet shows as
text, as OWASP recommends. Numbers stay numbers: ``-3`` written from an int is data.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet reads it as text: a text starting like a formula gets a
    leading apostrophe; anything that is not text is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through ``safe_cell``."""
    return [safe_cell(v) for v in values]
