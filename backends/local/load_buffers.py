"""The pixels a load reads around its extent for the kernels after it, as Copernicus's
dry run sets its ``pixel_buffer`` (openeo-python-driver ``dry_run.py`` L873-876,
L909-924, L959-971; ``math.ceil`` in ``processgraph/load_params.py`` L157-170).

Only the FIRST process on a path from the load that sets a ``pixel_buffer`` counts:
the dry run keeps the first of each operation in source-to-leaf order
(``get_source_constraints``, ``args_list[:1]``, dry_run.py L531-545), so a 3 x 3 kernel
followed by an 11 x 11 one buffers the load by 2 pixels, not 6; the paths of one load
then take the largest (load_params.py L202-214).

The buffer counts pixels of the load's resolution: a ``resample_spatial`` the dry run
hands to the load (the first on the path from it, before any of
:data:`RESAMPLE_BLOCKERS`: dry_run.py L155-171) makes them its pixels
(``target_resolution * ceil(buffer)``, load_params.py L152-168), so an 11 x 11 kernel
after ``resample_spatial(20)`` reads 6 pixels of 20 m around the extent, 12 of the 10 m
ones read here. A kernel given by an ``array_create`` node (``apply_kernel(kernel=
array_create(...))``, as APEx dlr/scmap writes it) is evaluated there before the dry run
sees it, and is read here from that node.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hybrid.grid import kernel_buffer

#: processes between a load and a resample that keep the resampling out of the load
#: (openeo-python-driver dry_run.py L157-169): the resample push-down's and the kernel
#: buffer's (:mod:`.resample_pushdown`, this module)
RESAMPLE_BLOCKERS = frozenset(
    {
        "apply_kernel", "reduce_dimension", "apply", "apply_dimension", "apply_neighborhood",
        "reduce_dimension_binary", "mask", "to_scl_dilation_mask", "corsa_compress",
        "predict_onnx",
    }
)  # fmt: skip


def resample_step(args: Mapping[str, Any]) -> float | None:
    """The pixel size in metres a ``resample_spatial`` handed to the load gives it; None
    when it keeps the load's (resolution 0), names a CRS or is ``geocode`` (not
    scaled here: a CRS in degrees has no pixel size in metres)."""
    if args.get("projection") is not None or args.get("method") == "geocode":
        return None
    values = args.get("resolution")
    values = values if isinstance(values, list | tuple) else [values]
    sizes = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    largest = max([v for v in sizes if math.isfinite(v) and v > 0], default=0.0)
    return largest or None


def after_resample(
    pid: str, args: Mapping[str, Any], seen: bool, step: float | None
) -> tuple[bool, float | None]:
    """(seen, step) of a trace after ``pid``: the first ``resample_spatial`` hands its
    pixel size to the load; a blocker or a ``resample_cube_spatial`` ends the search."""
    if seen:
        return seen, step
    if pid == "resample_spatial":
        return True, resample_step(args)
    return pid in RESAMPLE_BLOCKERS or pid == "resample_cube_spatial", step


def scaled_buffer(pixels: int, step: float | None, native: float | None) -> int:
    """``pixels`` of ``step`` metres as pixels of the load's ``native`` size."""
    if not pixels or step is None or native is None:
        return pixels
    return math.ceil(pixels * step / native - 1e-9)


def kernel_literal(graph: Mapping[str, Any], args: Mapping[str, Any]) -> Mapping[str, Any]:
    """``args`` with a ``kernel`` that references an ``array_create`` node replaced by
    that node's ``data`` (the kernel the process gets)."""
    kernel = args.get("kernel")
    if not isinstance(kernel, Mapping) or "from_node" not in kernel:
        return args
    node = graph.get(str(kernel["from_node"]))
    if not isinstance(node, Mapping) or node.get("process_id") != "array_create":
        return args
    data = (node.get("arguments") or {}).get("data")
    return {**args, "kernel": data} if isinstance(data, list) else args


def sets_pixel_buffer(pid: str, args: Mapping[str, Any]) -> bool:
    """Whether the dry run records a ``pixel_buffer`` for the process: apply_kernel and
    to_scl_dilation_mask always, apply_neighborhood when its overlap names x or y (even
    with 0 px), mask_scl_dilation never (dry_run.py L873-876, L909-924, L956-971). Only
    the first on a path from the load counts (``args_list[:1]``, dry_run.py L531-545)."""
    if pid in ("apply_kernel", "to_scl_dilation_mask"):
        return True
    if pid != "apply_neighborhood" or not isinstance(args.get("overlap"), list):
        return False
    return any(isinstance(e, Mapping) and e.get("dimension") in ("x", "y") for e in args["overlap"])


def load_buffer(pid: str, args: Mapping[str, Any]) -> int:
    """Pixels a kernel needs around the extent: ceil(size / 2) from the dry run
    (mask_scl_dilation sets none: it reads around each key while loading,
    :mod:`hybrid.backends.local.processes.scl_keys`)."""
    if pid == "to_scl_dilation_mask":
        size = args.get("kernel2_size", 201)
        if not isinstance(size, int | float) or isinstance(size, bool):
            return 0
        return math.ceil(size / 2)
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
