"""Text processes (text_begins, text_contains, text_ends, text_concat) as openEO 1.2 says.

openeo-processes-dask crashes on null text (``float has no attribute startswith`` for
NaN), answers null for the empty string, writes null as 'none' in ``text_concat`` and
makes its optional ``separator`` required.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hybrid.backends.local.processes.comparison import is_nan_value, null_of


def _match(data: Any, pattern: str, case_sensitive: bool, how: str) -> Any:
    if data is None or is_nan_value(data):
        return null_of(data)
    text = str(data)
    if not case_sensitive:
        text, pattern = text.casefold(), pattern.casefold()
    if how == "begins":
        return text.startswith(pattern)
    if how == "ends":
        return text.endswith(pattern)
    return pattern in text


def text_begins(data: Any, pattern: str, case_sensitive: bool = True) -> Any:
    return _match(data, pattern, case_sensitive, "begins")


def text_ends(data: Any, pattern: str, case_sensitive: bool = True) -> Any:
    return _match(data, pattern, case_sensitive, "ends")


def text_contains(data: Any, pattern: str, case_sensitive: bool = True) -> Any:
    return _match(data, pattern, case_sensitive, "contains")


def _as_text(value: Any) -> str:
    """A value as openEO writes it in text: JSON's null/true/false, numbers as JSON."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    return json.dumps(value) if isinstance(value, bool | int | float) else str(value)


def text_concat(data: list[Any], separator: Any = "") -> str:
    return _as_text(separator).join(_as_text(v) for v in data)
