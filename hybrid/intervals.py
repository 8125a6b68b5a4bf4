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
from hybrid.rfc3339 import aware_datetime

_HINT = (
    'give a JSON list like [["2023-05-01", "2023-06-15", "2023-05-01"], ...] '
    "or a CSV with columns start,end[,label] (label: a date naming the interval)"
)


def _date(value: Any, where: str) -> dt.date:
    """A ``YYYY-MM-DD`` date, or an RFC 3339 date-time at 00:00 UTC (its date)."""
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        stamp = aware_datetime(text)
    except ValueError as exc:
        raise UsageError(f"{where}: '{value}' is not a date (YYYY-MM-DD); {_HINT}") from exc
    if stamp.utcoffset() != dt.timedelta(0) or stamp.time() != dt.time(0):
        raise UsageError(
            f"{where}: '{value}' is not at 00:00 UTC; intervals are whole days (YYYY-MM-DD)"
        )
    return stamp.date()


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
        rows: list[list[Any]] = []
        for entry in doc:
            if isinstance(entry, dict):
                rows.append([entry.get("start"), entry.get("end"), entry.get("label")])
            elif isinstance(entry, list):
                rows.append(list(entry))
            else:
                raise UsageError(f"intervals file {path}: entry {entry!r} is not an interval")
        return rows
    reader = csv.reader(io.StringIO(text))
    lines = [r for r in reader if r and any(c.strip() for c in r)]
    if lines and lines[0][0].strip().lower() == "start":
        lines = lines[1:]
    return [[c.strip() for c in r] for r in lines]


def parse_intervals(rows: list[list[Any]], *, source: str = "intervals") -> tuple[Interval, ...]:
    """Checked intervals: real dates, start < end, unique labels, no overlap (file order)."""
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
        label = None
        if len(row) == 3 and row[2] not in (None, ""):
            # Copernicus parses aggregate_temporal labels with pandas.to_datetime and
            # fails on anything else, so a label must be a date to keep the graph portable
            try:
                label = _date(row[2], f"{source}, interval {n}").isoformat()
            except UsageError as exc:
                raise UsageError(
                    f"{source}, interval {n}: label '{row[2]}' is not a date; labels become "
                    "time labels (Copernicus only accepts dates), e.g. the stage's start date"
                ) from exc
        intervals.append(Interval(start, end, label))
    names = [i.label or i.start.isoformat() for i in intervals]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(
                f"{source}: label '{name}' names more than one interval; labels must be unique"
            )
    ordered = sorted(intervals, key=lambda i: i.start)
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise UsageError(
                f"{source}: intervals [{a.start}, {a.end}) and [{b.start}, {b.end}) overlap; "
                "intervals must not overlap"
            )
    return tuple(intervals)


def read_intervals(path: str | Path) -> tuple[Interval, ...]:
    """The intervals of a JSON (list of [start, end[, label]] or objects) or CSV file."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"intervals file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"intervals file {path} is not text; {_HINT}") from exc
    return parse_intervals(_rows(path, text), source=f"intervals file {path}")
