"""Custom aggregation intervals (growing stages) from a JSON or CSV file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from pathlib import Path
from typing import Any

from hybrid.errors import UsageError
from hybrid.params import Interval

_HINT = (
    'give a JSON list like [["2023-05-01", "2023-06-15", "emergence"], ...] '
    "or a CSV with columns start,end[,label]"
)


def _date(value: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise UsageError(f"{where}: '{value}' is not a date (YYYY-MM-DD); {_HINT}") from exc


def _rows(path: Path, text: str) -> list[list[Any]]:
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith(("[", "{")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"intervals file {path} is not valid JSON ({exc}); {_HINT}") from exc
        if isinstance(doc, dict):
            doc = doc.get("intervals")
        if not isinstance(doc, list):
            raise UsageError(f"intervals file {path} must hold a list of intervals; {_HINT}")
        rows = []
        for entry in doc:
            if isinstance(entry, dict):
                rows.append([entry.get("start"), entry.get("end"), entry.get("label")])
            elif isinstance(entry, list):
                rows.append(list(entry))
            else:
                raise UsageError(f"intervals file {path}: entry {entry!r} is not an interval")
        return rows
    reader = csv.reader(io.StringIO(text))
    rows = [r for r in reader if r and any(c.strip() for c in r)]
    if rows and rows[0] and rows[0][0].strip().lower() == "start":
        rows = rows[1:]
    return [[c.strip() for c in r] for r in rows]


def parse_intervals(rows: list[list[Any]], *, source: str = "intervals") -> tuple[Interval, ...]:
    if not rows:
        raise UsageError(f"{source} holds no interval; {_HINT}")
    intervals = []
    for n, row in enumerate(rows, start=1):
        if len(row) not in (2, 3):
            raise UsageError(f"{source}, interval {n}: expected start, end[, label]; got {row!r}")
        start = _date(row[0], f"{source}, interval {n}")
        end = _date(row[1], f"{source}, interval {n}")
        if end <= start:
            raise UsageError(
                f"{source}, interval {n}: end {end} is not after start {start} (end excluded)"
            )
        label = str(row[2]) if len(row) == 3 and row[2] not in (None, "") else None
        intervals.append(Interval(start, end, label))
    ordered = sorted(intervals, key=lambda i: i.start)
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise UsageError(
                f"{source}: intervals [{a.start}, {a.end}) and [{b.start}, {b.end}) overlap; "
                "intervals must not overlap"
            )
    return tuple(intervals)


def read_intervals(path: str | Path) -> tuple[Interval, ...]:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"intervals file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"intervals file {path} is not text; {_HINT}") from exc
    return parse_intervals(_rows(path, text), source=f"intervals file {path}")
