"""resolution_merge (backends/local/processes/resolution_merge.py) against a pixel-by-pixel
port, written here, of geotrellis-extensions 2a25a26e ``ard/Improphe.scala`` ``improphe``
(float32 where Scala computes in Float, Java int arithmetic for the cells), run on each
Copernicus layout tile separately as ``Pansharpening.pansharpen_sentinel2`` does."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.resolution_merge import resolution_merge
from hybrid.errors import ProcessParameterInvalid

F = np.float32
INT_MIN = -(2**31)
BANDS = ["B02", "B03", "B04", "B08", "B05", "B11"]
HIGH, LOW = BANDS[:4], BANDS[4:]


def _get(value: float) -> int:
    """Tile.get of an int16 cell: the int, no data Int.MinValue."""
    return INT_MIN if math.isnan(value) else int(value)


def _java_int(value: int) -> int:
    return (value + 2**31) % 2**32 - 2**31


def _rescale(weight: Any, low: Any, high: Any) -> Any:
    if weight == 0 or low == high:
        return F(1)
    return F(1) + F(math.exp(float(F(25) * ((weight - low) / (high - low)) - F(7.5))))


def _pixel(tile: np.ndarray, i: int, j: int, high: list[int], low: list[int]) -> list | None:
    """The low bands predicted at row i, column j of one tile, as improphe computes them."""
    ny, nx = tile.shape[1:]
    if _get(tile[high[0], i, j]) == INT_MIN:
        return None
    thresholds = (0.0025, 0.005, 0.01, 0.02, 0.025)
    classes, records, coarse = [], [], []
    srange = [[F(np.finfo(F).max)] * 5, [F(-np.finfo(F).max)] * 5]
    counts = [0] * 5
    for ii in range(-2, 3):
        for jj in range(-2, 3):
            ni, nj = i + ii, j + jj
            if not (0 <= ni < ny and 0 <= nj < nx) or _get(tile[high[0], ni, nj]) == INT_MIN:
                continue
            total = F(0)
            for b in high:
                diff = _java_int(_get(tile[b, i, j]) - _get(tile[b, ni, nj]))
                total = total + abs(F(diff) / F(10000))
            s = total / F(len(high))
            sc = next((n for n, t in enumerate(thresholds) if float(s) < t), -1)
            if sc < 0:
                continue
            classes.append(sc)
            records.append(s)
            coarse.append([F(tile[b, ni, nj]) / F(10000) for b in low])
            for c in range(sc, 5):
                counts[c] += 1
                if s > 0:
                    srange[1][c] = max(srange[1][c], s)
                    srange[0][c] = min(srange[0][c], s)
    chosen = next((c for c in range(5) if counts[c] >= 3), 4)
    weight, sums = 0.0, [F(0)] * len(low)
    for klass, s, values in zip(classes, records, coarse, strict=True):
        if klass <= chosen:
            w = F(1) / _rescale(s, srange[0][chosen], srange[1][chosen])
            sums = [total + w * value for total, value in zip(sums, values, strict=True)]
            weight += float(w)
    return [(float(total) / weight) * 10000.0 for total in sums]


def _reference(
    tile: np.ndarray, high: list[int], low: list[int], store: Any = math.trunc
) -> np.ndarray:
    """``store``: how the tile keeps a double (int16: truncated)."""
    out = tile.copy()
    for i in range(tile.shape[1]):
        for j in range(tile.shape[2]):
            predicted = _pixel(tile, i, j, high, low)
            if predicted is None:
                continue
            for band, value in zip(low, predicted, strict=True):
                out[band, i, j] = np.nan if math.isnan(value) else store(value)
    return out


def _scene(rows: int, cols: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(200, 3000, size=(1, rows, cols))
    cube = (base + rng.integers(-60, 60, size=(len(BANDS), rows, cols))).astype(np.float32)
    cube[:, 3, 4] = np.nan  # no data in every band
    cube[0, 7, 2] = np.nan  # the first high band only: not predicted, no neighbour
    cube[5, 9, 9] = np.nan  # a low band only: its neighbours' prediction is no data
    cube[1, 5, 11] = np.nan  # another high band: Int.MinValue wraps in the difference
    return cube


def _cube(values: np.ndarray) -> xr.DataArray:
    rows, cols = values.shape[-2:]
    return xr.DataArray(
        values,
        dims=("bands", "y", "x"),
        coords={"bands": BANDS, "y": 5e6 - 10 * np.arange(rows), "x": 6e5 + 10 * np.arange(cols)},
    )


def test_a_tile_is_predicted_as_improphe_computes_it() -> None:
    scene = _scene(24, 30, seed=3)
    got = resolution_merge(_cube(scene), HIGH, LOW, input_cell_type="int16").values
    want = _reference(scene, [0, 1, 2, 3], [4, 5])
    np.testing.assert_array_equal(got, want)
    assert (got[4] != scene[4])[np.isfinite(scene[4])].mean() > 0.5, "most pixels change"
    np.testing.assert_array_equal(got[:4], scene[:4])  # the high bands stay
    assert np.isnan(got[4, 7, 2]) == np.isnan(scene[4, 7, 2]) and got[4, 7, 2] == scene[4, 7, 2]
    # the low band's gap makes the predictions that weigh it no data, not the other band's
    assert np.isnan(got[5, 7:12, 7:12]).sum() > 1 and np.isfinite(got[4, 7:12, 7:12]).all()


def test_each_layout_tile_is_computed_on_its_own() -> None:
    """300 rows: one 256-row layout tile and a 44-row one; no window crosses them."""
    scene = _scene(300, 12, seed=5)
    got = resolution_merge(_cube(scene).chunk({"y": 100}), HIGH, LOW, input_cell_type="int16")
    want = np.concatenate(
        [
            _reference(scene[:, :256], [0, 1, 2, 3], [4, 5]),
            _reference(scene[:, 256:], [0, 1, 2, 3], [4, 5]),
        ],
        axis=1,
    )
    np.testing.assert_array_equal(got.values, want)
    whole = _reference(scene[:, 250:262], [0, 1, 2, 3], [4, 5])
    assert not np.array_equal(whole[4:6, 5:7], want[4:6, 255:257]), "the seam matters"


def test_bands_are_found_by_common_name_as_copernicus_finds_them() -> None:
    scene = _scene(12, 12, seed=4)
    by_name = resolution_merge(_cube(scene), HIGH, LOW, input_cell_type="int16").values
    common = ["blue", "green", "red", "nir"]  # B02, B03, B04, B08 (get_band_index)
    got = resolution_merge(_cube(scene), common, LOW, input_cell_type="int16").values
    np.testing.assert_array_equal(got, by_name)


def test_a_float_cube_keeps_float32_predictions() -> None:
    scene = _scene(12, 12, seed=9)
    got = resolution_merge(_cube(scene), HIGH, LOW, input_cell_type="float32").values
    np.testing.assert_array_equal(got, _reference(scene, [0, 1, 2, 3], [4, 5], store=F))
    finite = np.isfinite(got[4])
    assert (got[4][finite] != np.trunc(got[4][finite])).any()


@pytest.mark.parametrize(
    ("high", "low", "words"),
    [
        (["B02", "B99"], LOW, "band(s) B99 of high_resolution_bands not in the cube"),
        (HIGH, [], "low_resolution_bands must be a list of band names"),
        (None, LOW, "high_resolution_bands must be a list of band names"),
    ],
)
def test_bad_band_lists_are_one_clear_error(high: Any, low: Any, words: str) -> None:
    with pytest.raises(
        ProcessParameterInvalid, match=words.replace("(", r"\(").replace(")", r"\)")
    ):
        resolution_merge(_cube(_scene(12, 12, seed=1)), high, low)
