"""filter_labels with labels handed to the condition as RFC 3339 text for time.

openeo-processes-dask hands the condition numpy datetime64 values, which text
processes such as text_begins cannot read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid


def label_text(value: Any) -> Any:
    """A dimension label as the condition sees it: time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if isinstance(value, np.datetime64):
        return np.datetime_as_string(value.astype("datetime64[s]"), unit="s") + "Z"
    if isinstance(value, np.generic):
        return value.item()
    return value


def filter_labels(
    data: Any, condition: Callable[..., Any], dimension: str, context: Any = None
) -> Any:
    if dimension not in data.dims:
        raise ProcessParameterInvalid(
            f"filter_labels: dimension '{dimension}' not in the cube ({', '.join(data.dims)})"
        )
    keep = []
    for i, raw in enumerate(data[dimension].values):
        label = label_text(raw)
        verdict = condition(
            label,
            positional_parameters={"value": 0},
            named_parameters={"value": label, "context": context},
        )
        if bool(verdict) and not (isinstance(verdict, float) and np.isnan(verdict)):
            keep.append(i)
    return data.isel({dimension: keep})
