"""Checks of workflow parameters, with messages that say how to fix them."""

from __future__ import annotations

import datetime as dt
import math

from hybrid.errors import UsageError
from hybrid.params import PERIODS, REDUCERS, Workflow


def parse_date(text: str, *, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"{option} '{text}' is not a date; use YYYY-MM-DD, e.g. 2023-05-01"
        ) from exc


def check_dates(start: str, end: str) -> None:
    first = parse_date(start, option="--start")
    last = parse_date(end, option="--end")
    if last < first:
        raise UsageError(f"--end {end} is before --start {start}; swap them")
    if last == first:
        raise UsageError(
            f"--start and --end are both {start}; the end is excluded, so give the day after"
        )
    if first < dt.date(2015, 6, 23):
        raise UsageError(f"--start {start} is before Sentinel-2's first acquisition (2015-06-23)")
    if first > dt.date.today():
        raise UsageError(f"--start {start} is in the future; no scene exists yet")


def check_kernel_size(size: int) -> None:
    """The Gaussian kernel's size: odd, 1..101 (``hybrid run``'s and ``hybrid cache``'s)."""
    if size < 1 or size % 2 == 0:
        raise UsageError(f"--kernel-size {size} must be a positive odd number (11)")
    if size > 101:
        raise UsageError(f"--kernel-size {size} is too large (at most 101)")


def check_percentage(value: float | None, option: str) -> None:
    """``option`` (``--max-cloud-cover``, ``--max-aoi-cloud``): a percentage, or None
    when not given."""
    if value is not None and not 0 <= value <= 100:
        raise UsageError(f"{option} {value} must be a percentage in [0, 100]")


def check_workflow(workflow: Workflow) -> None:
    if workflow.period not in PERIODS:
        raise UsageError(
            f"--period '{workflow.period}' is unknown; use one of {', '.join(PERIODS)}"
        )
    if workflow.reducer not in REDUCERS:
        raise UsageError(
            f"--reducer '{workflow.reducer}' is unknown; use one of {', '.join(REDUCERS)}"
        )
    check_kernel_size(workflow.kernel_size)
    if not 0 < workflow.kernel_std < math.inf:  # inf would make the Gaussian a box
        raise UsageError(f"--kernel-std {workflow.kernel_std} must be positive and finite (1.6)")
    if not 0 <= workflow.threshold < 1:
        raise UsageError(f"--threshold {workflow.threshold} must be in [0, 1) (0.1)")
    check_percentage(workflow.max_cloud_cover, "--max-cloud-cover")
