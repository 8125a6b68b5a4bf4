"""The check every process with a ``dimension`` parameter makes first."""

from __future__ import annotations

from typing import Any

from hybrid.errors import ProcessParameterInvalid


def require_dimension(data: Any, dimension: str, process: str) -> None:
    """Refuse a dimension the cube does not have (openEO's DimensionNotAvailable)."""
    if dimension not in data.dims:
        raise ProcessParameterInvalid(
            f"{process}: dimension '{dimension}' is not available (DimensionNotAvailable); "
            f"the cube has {', '.join(map(str, data.dims))}"
        )
