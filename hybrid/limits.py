"""Every size limit of hybrid in one place: what a graph, a request, an area, a cube or an
array may be before it is refused in one line (a 4xx on the server, exit 2 on the CLI).

The values are read where the checks run: the emulator's graph checks
(:mod:`hybrid.server.graph_limits`, :mod:`hybrid.server.payload`,
:mod:`hybrid.server.paging`, :mod:`hybrid.server.udp_expansion`), a graph file
(:mod:`hybrid.graph_file`, :mod:`hybrid.graph_structure`), an AOI (:mod:`hybrid.aoi`,
:mod:`hybrid.backends.local.load_extents`), ``load_url``
(:mod:`hybrid.backends.local.processes.url_load`). The two limits of what the engine
computes, Copernicus's on a resampled cube and this engine's on ``array_create``, are
checked here (:func:`check_resample_pixels`, :func:`check_array_repeat`).

Copernicus's size check of a load_collection (:data:`MAX_PIXELS` estimated pixels, and
:data:`SYNC_MAX_SIDE` pixels a side in a synchronous request) runs in the engine
(:mod:`hybrid.backends.local.load_size`); the kind of request it runs in, which decides
the side limit and whether the check runs at all, is set by the caller with
:func:`load_check` (``POST /result``: "sync"; a batch job: "batch", or "off" with the job
option ``do_extent_check: false``; ``hybrid run``: "batch" unless its job document turns
the check off).
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from hybrid.errors import ExtentTooLarge, ProcessParameterInvalid
from hybrid.grid import pixel_step

#: most nodes in one graph, callbacks included (the emulator's limit, and the engine's)
MAX_NODES = 1000
#: deepest nesting of callbacks (``process_graph`` inside an argument)
MAX_CALLBACK_DEPTH = 16
#: the deepest nesting of lists and objects in a graph document, also the emulator's
#: limit of a request body (a callback adds about 4 levels)
MAX_JSON_DEPTH = 200
#: the largest graph file read (the emulator takes requests of :data:`MAX_BODY_BYTES`)
MAX_GRAPH_BYTES = 100 * 2**20
#: the emulator's default largest request body; larger ones are refused with 413
MAX_BODY_BYTES = 1024 * 1024
#: deepest chain of user-defined processes calling each other
MAX_UDP_DEPTH = 8
#: the largest page a client may ask for; larger values are refused with 400
MAX_PAGE_SIZE = 1000
#: the widest AOI or load extent, in degrees of longitude or latitude (a Sentinel-2 AOI
#: larger than this is almost surely a mistake)
MAX_SPAN_DEG = 5.0
#: the largest file load_url fetches
MAX_URL_BYTES = 512 * 2**20
#: the most pixels Copernicus loads (openeo-geopyspark-driver ``layercatalog.py``
#: ``LARGE_LAYER_THRESHOLD_IN_PIXELS``, L78)
MAX_PIXELS = 10**11
#: the most pixels a side of a load in a synchronous request on Copernicus, unless
#: aggregate_spatial's geometries follow (``layercatalog.py`` ``is_layer_too_large`` L1431)
SYNC_MAX_SIDE = 20000
#: the most values one array_create may give (per pixel in a callback): 80 MB of float64
MAX_ARRAY_ELEMENTS = 10**7


LoadCheck = Literal["sync", "batch", "off"]
_LOAD_CHECK: contextvars.ContextVar[LoadCheck] = contextvars.ContextVar(
    "hybrid_load_check", default="batch"
)


@contextlib.contextmanager
def load_check(kind: LoadCheck) -> Iterator[None]:
    """Within it, the engine checks a load's size as Copernicus does in a request of
    ``kind``: "sync" (``POST /result``, with the side limit), "batch" (a batch job, the
    default) or "off" (a batch job with ``do_extent_check: false``)."""
    token = _LOAD_CHECK.set(kind)
    try:
        yield
    finally:
        _LOAD_CHECK.reset(token)


def load_check_kind() -> LoadCheck:
    """The kind of request :func:`load_check` set ("batch" outside it)."""
    return _LOAD_CHECK.get()


def extent_check_wanted(options: Any) -> bool:
    """Whether the job ``options`` leave Copernicus's size check on: ``do_extent_check``
    read as its ``smart_bool`` reads it (openeo-python-driver 9e5b49b2 ``utils.py``
    L165-174: "0", "no", "off", "false" in any case are false, other values as Python's
    ``bool``), on when absent (geopyspark-driver ``layercatalog.py`` L101)."""
    if not isinstance(options, Mapping) or "do_extent_check" not in options:
        return True
    value = options["do_extent_check"]
    if isinstance(value, str) and value.lower() in ("0", "no", "off", "false"):
        return False
    return bool(value)


def check_resample_pixels(data: Any, source: Any, target: Any, res: Any) -> None:
    """Refuse a resolution ``res`` (odc-geo ``Resolution``, ``target`` units) that makes
    ``data`` (in ``source``) larger than :data:`MAX_PIXELS`.

    Copernicus's dry run hands a resample_spatial's resolution to the load, whose
    ``ExtentTooLarge`` check counts the pixels at that resolution (x * y * dates * bands)
    and refuses more than :data:`MAX_PIXELS` with ``ProcessGraphComplexity``
    (openeo-geopyspark-driver ``layercatalog.py`` ``load_collection`` L102-121,
    ``is_layer_too_large`` L1403-1410 and L1426-1444). Here the check runs before the new
    grid is built: a resolution of 1e-9 m over a small area asked for a grid of 10^23
    cells and ran the server out of memory (a 500 ``MemoryError``)."""
    import numpy as np
    from odc.geo.geobox import GeoBox

    x, y = np.asarray(data["x"].values, dtype=float), np.asarray(data["y"].values, dtype=float)
    if not x.size or not y.size:
        return
    step_x, step_y = abs(pixel_step(x, 0.0)), abs(pixel_step(y, 0.0))
    west, east = float(x.min()) - step_x / 2, float(x.max()) + step_x / 2
    south, north = float(y.min()) - step_y / 2, float(y.max()) + step_y / 2
    extent = GeoBox.from_bbox((west, south, east, north), source, shape=(1, 1)).extent
    box = extent.to_crs(target).boundingbox
    columns = (box.right - box.left) / abs(res.x)
    rows = (box.top - box.bottom) / abs(res.y)
    others = data.size // max(x.size * y.size, 1)
    pixels = columns * rows * others
    if pixels > MAX_PIXELS:
        raise ExtentTooLarge(
            f"resample_spatial: resolution {abs(res.x):g} x {abs(res.y):g} makes the cube "
            f"{columns:.0f} x {rows:.0f} pixels ({pixels:.3g} with its other dimensions); "
            f"Copernicus computes at most {MAX_PIXELS:.0e}: choose a coarser resolution"
        )


def check_array_repeat(data: Any, repeat: Any) -> None:
    """Refuse ``repeat`` as Copernicus does, and a result beyond :data:`MAX_ARRAY_ELEMENTS`.

    Copernicus refuses a ``repeat`` below 1 (or not an integer) with
    ``ProcessParameterInvalid`` (openeo-python-driver
    ``processgraph/process_implementations/array.py`` ``array_create`` L36-46); above it,
    ``list(data) * repeat`` is built whatever its size, in the web app's memory. Here the
    engine runs inside the emulator: ``array_create([1], repeat=10**9)`` took minutes and
    the next such request had the kernel kill the server for its memory (23 GB)."""
    if not isinstance(repeat, numbers.Integral) or repeat < 1:
        raise ProcessParameterInvalid(
            "The value passed for parameter 'repeat' in process 'array_create' is invalid: "
            "The `repeat` parameter should be an integer of at least value 1."
        )
    size = _array_values(data)
    if size * int(repeat) > MAX_ARRAY_ELEMENTS:
        raise ProcessParameterInvalid(
            f"array_create: {size} values repeated {repeat} times make {size * repeat} "
            f"values; at most {MAX_ARRAY_ELEMENTS} are computed here (Copernicus builds them in "
            "its memory, whatever their number)"
        )


def _array_values(data: Any) -> int:
    """How many values ``data`` gives the array: a list's or an array's length along its
    first axis (an ndarray of 10**6 is 10**6, not one), 1 for a single value."""
    if isinstance(data, list | tuple):
        return len(data)
    shape = getattr(data, "shape", ())
    return int(shape[0]) if shape else 1
