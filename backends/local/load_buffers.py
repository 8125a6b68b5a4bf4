"""The pixels a load reads around its extent for the kernels after it, as Copernicus's
dry run sets its ``pixel_buffer`` (openeo-python-driver ``dry_run.py`` L873-876,
L909-924, L959-971; ``math.ceil`` in ``processgraph/load_params.py`` L157-170)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hybrid.grid import kernel_buffer


def load_buffer(pid: str, args: Mapping[str, Any]) -> int:
    """Pixels a kernel needs around the extent: ceil(size / 2) from the dry run; for
    mask_scl_dilation, applied while loading, the SCL read around each tile,
    floor(kernel2_size / 2) (CloudFilterStrategy.scala L61)."""
    if pid in ("to_scl_dilation_mask", "mask_scl_dilation"):
        size = args.get("kernel2_size", 201)
        if not isinstance(size, int | float) or isinstance(size, bool):
            return 0
        return math.ceil(size / 2) if pid == "to_scl_dilation_mask" else math.floor(size / 2)
    if pid == "apply_neighborhood":
        return _overlap_buffer(args.get("overlap"))
    kernel = args.get("kernel")
    if isinstance(kernel, list) and kernel and isinstance(kernel[0], list):
        return kernel_buffer((len(kernel), len(kernel[0])))
    return 0


def _overlap_buffer(overlap: Any) -> int:
    """apply_neighborhood's x/y overlap in pixels (dry_run.py:909-924 buffers by the
    overlap itself, not half of it); other units are refused when the process runs."""
    if not isinstance(overlap, list):
        return 0
    found = [0]
    for entry in overlap:
        if not isinstance(entry, Mapping) or entry.get("dimension") not in ("x", "y"):
            continue
        value = entry.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if entry.get("unit", "px") == "px" and math.isfinite(value) and value > 0:
            found.append(math.ceil(value))
    return max(found)
