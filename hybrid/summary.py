"""The short per-period table ``hybrid run`` prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xarray as xr


@dataclass(frozen=True)
class PeriodSummary:
    label: str
    valid_fraction: float
    mean_ndvi: float


def summarise(cube: xr.DataArray) -> list[PeriodSummary]:
    """One row per period of a cube from :func:`hybrid.io.reader.open_result` (any format);
    with several bands, the first one."""
    import numpy as np

    var = cube.isel(bands=0) if "bands" in cube.dims else cube
    rows = []
    for i in range(var.sizes.get("t", 0)):
        values = np.asarray(var.isel(t=i).values)
        valid = np.isfinite(values)
        count = int(np.count_nonzero(valid))
        label = str(var["t"].values[i])[:10]
        # summed in float64 where valid, without a float64 copy of the period
        total = np.add.reduce(values, axis=None, dtype=np.float64, where=valid)
        mean = float(total) / count if count else float("nan")
        rows.append(PeriodSummary(f"{label}T00:00:00Z", count / max(valid.size, 1), mean))
    return rows


def format_table(rows: list[PeriodSummary], *, value: str = "NDVI") -> str:
    """The rows under a header naming the averaged ``value`` (the workflow's NDVI; the
    first band of another graph's result)."""
    header = f"mean {value}"
    lines = [f"{'period':<22} {'valid pixels':>12} {header:>10}"]
    for r in rows:
        lines.append(f"{r.label:<22} {r.valid_fraction:>11.1%} {r.mean_ndvi:>10.4f}")
    return "\n".join(lines)
