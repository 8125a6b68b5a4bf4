"""resolution_merge: Sentinel-2's 20 m bands sharpened with its 10 m bands (ImproPhe).

Copernicus's experimental process (openeo-python-driver 9e5b49b2
``process_implementations/sar.py`` ``resolution_merge`` L101-107; openeo-geopyspark-driver
9baf2e10 ``geopysparkdatacube.py`` ``resolution_merge`` L3225-3238, which reads neither
``method`` nor ``options``) maps geotrellis-extensions 2a25a26e
``ard/Pansharpening.scala`` ``pansharpen_sentinel2`` over the layout tiles ("keys") of
the cube, each tile on its own (``mapValues``: no neighbours from other tiles), with
``ard/Improphe.scala`` ``improphe(null, tile, high, low, mink=3, kSize=5)``, a port of
FORCE's ImproPhe. For every pixel whose first high-resolution band holds data:

- its neighbours are the pixels of the 5 x 5 window inside the tile whose first high
  band holds data: the window's "circular kernel" keeps distances ``<= 2`` read back as
  integers from a float tile (``KDIST.get`` truncates, sqrt(8) is 2), so all 25;
- a neighbour's spectral distance ``S`` is the mean over the high bands of
  ``|(centre - neighbour) / 10000f|``, the cells read as Java ints (``Tile.get``: an
  integer cube's values, a float cube's truncated; no data is ``Int.MinValue``, and the
  difference wraps around as Java's does), summed in float32; its class is the first of
  the thresholds 0.0025, 0.005, 0.01, 0.02, 0.025 it is below (none: not a neighbour);
- the class used is the first holding at least 3 neighbours (of its class or a lower
  one), else the last; each neighbour of that class or lower weighs ``1 / (1 + exp(25
  (S - Smin) / (Smax - Smin) - 7.5))`` in float32 (1 when ``S`` is 0 or the class's
  range of positive ``S`` is one value);
- each low-resolution band becomes the weighted mean of the neighbours' values (float32
  sums of ``weight x value / 10000f``, the weights summed in float64) times 10000,
  stored as the cube's cell type stores a double (int16: truncated towards zero, as
  ``setDouble`` does; a neighbour without data in a low band makes it no data).

The other pixels and bands keep their values. Here the tiles are Copernicus's layout
tiles (:func:`hybrid.stac.overlap.key_size`, counted from the cube's top-left pixel),
computed one dask block each. ``method`` and ``options`` are accepted and not read, as
there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid

PROCESS = "resolution_merge"
#: ImproPhe's thresholds of the spectral distance, its window and minimum neighbours
THRESHOLDS = (0.0025, 0.005, 0.01, 0.02, 0.025)
WINDOW = 5
MIN_NEIGHBOURS = 3
#: Java's ``Int.MinValue``: ``Tile.get`` of a no-data cell
INT_NODATA = np.int32(-(2**31))
_F32_MAX = np.float32(np.finfo(np.float32).max)


def resolution_merge(
    data: Any,
    high_resolution_bands: Any = None,
    low_resolution_bands: Any = None,
    method: Any = None,
    options: Any = None,
    input_cell_type: str | None = None,
) -> Any:
    """``data`` with its low-resolution bands predicted from the high ones (module
    docstring); ``input_cell_type``: the cube's cell type (set from the graph)."""
    from hybrid.backends.local.cube_arrays import as_cube, values_last
    from hybrid.backends.local.processes.cell_conversion import cell_type

    high, low = _band_indices(data, high_resolution_bands, low_resolution_bands)
    cube, values = values_last(data, ("bands", "y", "x"))
    lead = values.ndim - 3
    chunks = (*values.chunks[:lead], (values.shape[-3],), *_key_chunks(values.shape[-2:]))
    merged = values.rechunk(chunks).map_blocks(
        _merged_block,
        high=high,
        low=low,
        stored_as=cell_type(input_cell_type or "float32"),
        dtype=values.dtype,
    )
    return as_cube(merged, cube, data)


def _band_indices(data: Any, high: Any, low: Any) -> tuple[list[int], list[int]]:
    import xarray as xr

    from hybrid.backends.local.processes.cube_dimensions import band_origins
    from hybrid.collection import band_positions

    if not isinstance(data, xr.DataArray) or not {"bands", "y", "x"} <= set(data.dims):
        raise ProcessParameterInvalid(
            f"{PROCESS}: data must be a raster cube with bands, x and y (Sentinel-2 bands)"
        )
    names = [str(b) for b in data["bands"].values]
    found = []
    for which, wanted in (("high_resolution_bands", high), ("low_resolution_bands", low)):
        if not isinstance(wanted, list | tuple) or not wanted:
            raise ProcessParameterInvalid(
                f"{PROCESS}: {which} must be a list of band names, e.g. "
                '["B02", "B03", "B04", "B08"] and ["B05", "B06", "B07", "B8A", "B11", "B12"]'
            )
        # found as Copernicus finds them: common name, label, alias (get_band_index)
        positions, missing = band_positions(names, wanted, band_origins(data))
        if missing:
            raise ProcessParameterInvalid(
                f"{PROCESS}: band(s) {', '.join(missing)} of {which} not in the cube "
                f"(its bands: {', '.join(names)})"
            )
        found.append(positions)
    return found[0], found[1]


def _key_chunks(shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Row and column chunks that are Copernicus's layout tiles of a cube this size."""
    from hybrid.stac.overlap import key_size

    rows, cols = shape
    side = key_size(cols, rows)

    def spans(n: int) -> tuple[int, ...]:
        return tuple(min(side, n - start) for start in range(0, n, side))

    return spans(rows), spans(cols)


def _merged_block(block: np.ndarray, high: list[int], low: list[int], stored_as: Any) -> np.ndarray:
    """One layout tile (..., bands, y, x) with its low bands predicted, stored as the
    cell type ``stored_as`` stores them."""
    from hybrid.backends.local.processes.cell_conversion import converted

    out = np.array(block, dtype=block.dtype, copy=True)
    ints = _java_ints(block[..., high, :, :])
    coarse = block[..., low, :, :].astype(np.float32) / np.float32(10000)
    predicted, done = _improphe(ints, coarse)
    stored = converted(predicted, stored_as)
    for f, band in enumerate(low):
        out[..., band, :, :] = np.where(done, stored[..., f, :, :], block[..., band, :, :])
    return out


def _java_ints(values: np.ndarray) -> np.ndarray:
    """Cells as ``Tile.get`` reads them: truncated to int32, no data Int.MinValue."""
    with np.errstate(invalid="ignore"):
        whole = np.trunc(np.clip(values, -(2.0**31), 2.0**31 - 1))
    return np.where(np.isnan(values), INT_NODATA, whole).astype(np.int32)


def _windows(ints: np.ndarray, coarse: np.ndarray) -> Any:
    """For each of the 25 window offsets in Copernicus's order (rows, then columns):
    the neighbour's int cells and coarse values, aligned with the centre pixels (no
    data beyond the tile)."""
    h = WINDOW // 2
    pad = [(0, 0)] * (ints.ndim - 2) + [(h, h), (h, h)]
    ints_padded = np.pad(ints, pad, constant_values=INT_NODATA)
    coarse_padded = np.pad(coarse, pad, constant_values=np.nan)
    rows, cols = ints.shape[-2:]
    for di in range(WINDOW):
        for dj in range(WINDOW):
            window = (..., slice(di, di + rows), slice(dj, dj + cols))
            yield ints_padded[window], coarse_padded[window]


def _distances(ints: np.ndarray, neighbour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A neighbour's spectral distance S (float32) and class (-1: not a neighbour: above
    every threshold, or no data in the first high band at it or at the centre)."""
    count = ints.shape[-3]
    total = np.zeros(ints.shape[:-3] + ints.shape[-2:], dtype=np.float32)
    with np.errstate(over="ignore"):
        for b in range(count):
            difference = (ints[..., b, :, :] - neighbour[..., b, :, :]).astype(np.float32)
            total = total + np.abs(difference / np.float32(10000))
    distance = total / np.float32(count)
    wide = distance.astype(np.float64)
    klass = np.full(distance.shape, -1, dtype=np.int8)
    for index, threshold in reversed(list(enumerate(THRESHOLDS))):
        klass = np.where(wide < threshold, np.int8(index), klass)
    valid = (ints[..., 0, :, :] != INT_NODATA) & (neighbour[..., 0, :, :] != INT_NODATA)
    return distance, np.where(valid, klass, np.int8(-1))


def _improphe(ints: np.ndarray, coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The predicted low bands (float64, x 10000) and where they replace the cells."""
    centre_ok = ints[..., 0, :, :] != INT_NODATA
    records = []
    classes = len(THRESHOLDS)
    low_s = np.full((classes, *centre_ok.shape), _F32_MAX, dtype=np.float32)
    high_s = np.full((classes, *centre_ok.shape), -_F32_MAX, dtype=np.float32)
    counts = np.zeros((classes, *centre_ok.shape), dtype=np.int32)
    for neighbour, values in _windows(ints, coarse):
        distance, klass = _distances(ints, neighbour)
        for s in range(classes):
            member = (klass >= 0) & (klass <= s)
            counts[s] += member
            ranged = member & (distance > 0)
            low_s[s] = np.where(ranged & (distance < low_s[s]), distance, low_s[s])
            high_s[s] = np.where(ranged & (distance > high_s[s]), distance, high_s[s])
        records.append((distance, klass, values))
    chosen = np.argmax(counts >= MIN_NEIGHBOURS, axis=0)
    chosen = np.where((counts >= MIN_NEIGHBOURS).any(axis=0), chosen, classes - 1)
    smin = np.take_along_axis(low_s, chosen[None], axis=0)[0]
    smax = np.take_along_axis(high_s, chosen[None], axis=0)[0]
    return _weighted(records, chosen, smin, smax, centre_ok, coarse.shape)


def _weighted(
    records: list, chosen: Any, smin: Any, smax: Any, centre_ok: Any, shape: tuple
) -> tuple[np.ndarray, np.ndarray]:
    sums = np.zeros(shape, dtype=np.float32)
    weight = np.zeros(centre_ok.shape, dtype=np.float64)
    for distance, klass, values in records:
        use = (klass >= 0) & (klass <= chosen)
        w = np.float32(1) / _rescaled(distance, smin, smax)
        sums = np.where(use[..., None, :, :], sums + w[..., None, :, :] * values, sums)
        weight = np.where(use, weight + w.astype(np.float64), weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = (sums.astype(np.float64) / weight[..., None, :, :]) * 10000.0
    return predicted, centre_ok & (weight > 0)


def _rescaled(distance: np.ndarray, smin: np.ndarray, smax: np.ndarray) -> np.ndarray:
    """ImproPhe's ``rescale_weight`` in float32 (exp in float64, as FastMath.exp)."""
    with np.errstate(all="ignore"):
        scaled = np.float32(25) * ((distance - smin) / (smax - smin)) - np.float32(7.5)
        grown = np.float32(1) + np.exp(scaled.astype(np.float64)).astype(np.float32)
    flat = (distance == 0) | (smin == smax)
    return np.where(flat, np.float32(1), grown).astype(np.float32)


SPEC: dict[str, Any] = {
    "id": PROCESS,
    "summary": "Resolution merging or pansharpening",
    "description": "Predicts the low-resolution bands (Sentinel-2's 20 m bands) from the "
    "high-resolution ones (its 10 m bands) with ImproPhe, per Copernicus layout tile.",
    "categories": ["cubes", "optical"],
    "experimental": True,
    "parameters": [
        {"name": "data", "description": "A raster data cube with the bands.",
         "schema": {"type": "object", "subtype": "datacube"}},
        {"name": "method", "description": "Not read (ImproPhe).", "optional": True,
         "default": None, "schema": {"type": ["string", "null"]}},
        {"name": "high_resolution_bands", "description": "The high-resolution bands.",
         "schema": {"type": "array", "items": {"type": "string", "subtype": "band-name"}}},
        {"name": "low_resolution_bands", "description": "The bands to sharpen.",
         "schema": {"type": "array", "items": {"type": "string", "subtype": "band-name"}}},
        {"name": "options", "description": "Not read.", "optional": True, "default": {},
         "schema": {"type": "object"}},
    ],
    "returns": {"description": "The cube with the low-resolution bands sharpened.",
                "schema": {"type": "object", "subtype": "datacube"}},
}  # fmt: skip
