"""to_scl_dilation_mask / mask_scl_dilation against a reference written from the
Copernicus source (openeo-geotrellis-extensions CloudFilterStrategy.scala
``SCLConvolutionFilter.createMask`` L226-288, kernels L174-194, FFTConvolve.scala
L73-85; geotrellis Kernel.gaussian / Kernel.circle).

The reference below is independent of the implementation (which convolves the
normalised float kernel by FFT and compares floats): plain Python integer kernels, the
inputs' 0/1 masks turned into exact integer weight sums (overlap-add, rounded, the
rounding checked), each threshold decided exactly in integers, the Scala control flow
transcribed branch by branch. It replaced a naive sum of 40401 shifted copies for the
201-px kernel: same answers on every case here, a fraction of the time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hybrid.backends.local.processes.scl_dilation import (
    mask_scl_dilation,
    masked_while_loading,
    to_scl_dilation_mask,
)
from hybrid.errors import ProcessParameterInvalid

# -- the reference -------------------------------------------------------------------


def ref_gaussian_weights(size: int) -> np.ndarray:
    """geotrellis Kernel.gaussian(size, size / 6.0, 10000) (Int tile): integer weights;
    the filter divides them by their sum (see :func:`ref_dilate`)."""
    sigma = size / 6.0
    denom = 2.0 * sigma * sigma
    k = np.zeros((size, size), dtype=np.int64)
    for r in range(size):
        for c in range(size):
            rsqr = (c - size // 2) ** 2 + (r - size // 2) ** 2
            k[r, c] = int(10000.0 * math.exp(-rsqr / denom))  # Scala .toInt truncates
    return k


def ref_circle(size: int) -> np.ndarray:
    """geotrellis Kernel.circle(size, 0, size / 2): r*r + c*c < rad2 from the corner."""
    rad2 = (size // 2) ** 2
    return np.array([[1 if r * r + c * c < rad2 else 0 for c in range(size)]
                     for r in range(size)], dtype=np.int64)  # fmt: skip


def ref_weight_sums(mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For a 0/1 ``mask`` and integer ``weights``: the exact integer sum of the weights
    over the set pixels each output pixel's window covers, i.e. the full linear
    convolution (zeros outside) cropped from ((k - 1) // 2) as FFTConvolve.scala L73-85
    crops it. Overlap-add in float64 holds every such sum (< 2**31) to far better than
    0.5, so rounding gives the exact integer; the residual is checked, not assumed."""
    from scipy.signal import oaconvolve

    full = oaconvolve(mask.astype(np.float64), weights.astype(np.float64), mode="full")
    top, left = (weights.shape[0] - 1) // 2, (weights.shape[1] - 1) // 2
    full = full[top : top + mask.shape[0], left : left + mask.shape[1]]
    sums = np.rint(full)
    assert np.abs(full - sums).max(initial=0.0) < 0.25, "the integer sums are not exact"
    return sums.astype(np.int64)


def ref_dilate(mask: np.ndarray, size: int, threshold: float) -> np.ndarray:
    """conv(mask, gaussian / sum(gaussian)) > threshold, decided exactly: with S the
    integer weight sum and W the kernel's total, S / W > threshold iff S > floor(threshold
    * W) (threshold: the double the Scala literal is). So no pixel's side of the
    threshold depends on the order a float implementation sums in."""
    from fractions import Fraction

    weights = ref_gaussian_weights(size)
    limit = math.floor(Fraction(threshold) * int(weights.sum()))
    return ref_weight_sums(mask, weights) > limit


def ref_erode(binary: np.ndarray, size: int) -> np.ndarray:
    """CloudFilterStrategy.scala L290-298: conv((m - 1)**2, circle) > 0.5 -> 0 else 1;
    a 0/1 mask convolved with a 0/1 kernel counts pixels, so "> 0.5" is "any"."""
    if size <= 0:
        return binary
    holes = (binary == 0).astype(np.int64)
    return np.where(ref_weight_sums(holes, ref_circle(size)) > 0, 0.0, 1.0)


def ref_mask(scl, erosion=0, mask1=(2, 4, 5, 6, 7), mask2=(3, 8, 9, 10, 11), k1=17, k2=201):
    values = [[None if v != v else int(v) for v in row] for row in scl]
    binary1 = np.array([[0.0 if v in mask1 else 1.0 for v in row] for row in values])
    nothing_masked = not binary1.any()
    if not nothing_masked and k1 > 0:
        conv1 = ref_dilate(ref_erode(binary1, erosion), k1, 0.057)
    elif nothing_masked:
        conv1 = None
    else:
        conv1 = binary1 > 0
    binary2 = np.array([[1.0 if v in mask2 else 0.0 for v in row] for row in values])
    all_cloud = binary2.all()
    conv2 = binary2 > 0 if all_cloud else ref_dilate(ref_erode(binary2, erosion), k2, 0.025)
    return conv2 if conv1 is None else (conv1 | conv2)


# -- cubes ---------------------------------------------------------------------------


def _scl_cube(slices: list[np.ndarray]):
    import xarray as xr

    data = np.stack(slices)[:, None].astype(np.float32)
    ny, nx = data.shape[-2:]
    return xr.DataArray(
        data,
        dims=("t", "bands", "y", "x"),
        coords={
            "t": np.arange(len(slices)).astype("datetime64[D]").astype("datetime64[ns]"),
            "bands": ["SCL"],
            "y": 5000.0 - 10 * np.arange(ny),
            "x": 300000.0 + 10 * np.arange(nx),
        },
    ).chunk({"t": 1, "y": 17, "x": 19})


def _clouds(seed: int, shape=(48, 52)) -> np.ndarray:
    """A scene: vegetation and soil, a cloud with its shadow, water, snow, nodata."""
    rng = np.random.default_rng(seed)
    scl = rng.choice([4, 5, 4, 4, 6, 7, 2], size=shape).astype(np.float64)
    y, x = np.mgrid[: shape[0], : shape[1]]
    cy, cx = rng.integers(10, 38), rng.integers(10, 42)
    scl[(y - cy) ** 2 + (x - cx) ** 2 < 30] = 9
    scl[(y - cy - 6) ** 2 + (x - cx - 4) ** 2 < 12] = 3
    scl[rng.random(shape) < 0.01] = 10
    scl[:3, -5:] = np.nan
    scl[rng.random(shape) < 0.01] = 1
    return scl


@pytest.mark.parametrize(
    "params",
    [
        {"kernel1_size": 5, "kernel2_size": 9},
        {"kernel1_size": 7, "kernel2_size": 15, "erosion_kernel_size": 3},
        {"kernel1_size": 0, "kernel2_size": 11, "erosion_kernel_size": 5},
        {
            "kernel1_size": 9,
            "kernel2_size": 21,
            "mask1_values": [2, 4, 5, 6, 7, 10],
            "mask2_values": [9, 3],
        },
    ],
)
def test_the_mask_matches_the_reference(params):
    slices = [_clouds(seed) for seed in range(3)]
    got = to_scl_dilation_mask(_scl_cube(slices), **params)
    assert got.dims == ("t", "bands", "y", "x") and list(got["bands"].values) == ["SCL"]
    assert got.dtype == bool
    values = got.values
    ref_args = {
        "erosion": params.get("erosion_kernel_size", 0),
        "k1": params["kernel1_size"],
        "k2": params["kernel2_size"],
    }
    if "mask1_values" in params:
        ref_args.update(mask1=tuple(params["mask1_values"]), mask2=tuple(params["mask2_values"]))
    for index, scl in enumerate(slices):
        expected = ref_mask(scl, **ref_args)
        assert 0 < expected.sum() < expected.size  # the case is not trivial
        np.testing.assert_array_equal(values[index, 0], expected)


@pytest.mark.slow
def test_the_defaults_match_the_reference():
    scl = _clouds(7, shape=(64, 70))
    got = to_scl_dilation_mask(_scl_cube([scl])).values[0, 0]
    np.testing.assert_array_equal(got, ref_mask(scl))


def test_uniform_scenes_take_the_scala_short_cuts():
    clear = np.full((20, 20), 4.0)
    cloudy = np.full((20, 20), 9.0)
    got = to_scl_dilation_mask(_scl_cube([clear, cloudy]), kernel1_size=5, kernel2_size=9).values
    assert not got[0].any()  # every pixel in mask1: nothing masked
    assert got[1].all()  # every pixel in mask2: all masked, even at the border
    np.testing.assert_array_equal(got[0, 0], ref_mask(clear, k1=5, k2=9))
    np.testing.assert_array_equal(got[1, 0], ref_mask(cloudy, k1=5, k2=9))


def test_mask_scl_dilation_masks_every_band():
    """Applied by the load (a cube without layout: computed whole) to every band; the
    process node itself passes its cube on unchanged, as on Copernicus (python-driver
    process_implementations/sar.py L112-122)."""
    import xarray as xr

    scl = _clouds(3)
    scl_cube = _scl_cube([scl])
    red = xr.full_like(scl_cube, 1234.0).assign_coords(bands=["B04"])
    cube = xr.concat([red, scl_cube], dim="bands")
    out = masked_while_loading(cube, {"kernel1_size": 5, "kernel2_size": 9}).compute()
    expected = ref_mask(scl, k1=5, k2=9)
    assert np.isnan(out.sel(bands="B04").values[0][expected]).all()
    assert (out.sel(bands="B04").values[0][~expected] == 1234.0).all()
    assert np.isnan(out.sel(bands="SCL").values[0][expected]).all()
    assert mask_scl_dilation(cube, kernel1_size=5, kernel2_size=9) is cube


def test_mask_scl_dilation_computes_each_layout_key_in_its_own_window():
    """CloudFilterStrategy.scala L60-137: per key, the SCL of the key and
    floor(kernel2_size / 2) pixels around it, zeros beyond. openeo-gfmap's arguments
    (kernel1 17 > kernel2 3, erosion 3) make the keys' edges show: the first dilation
    stops 1 pixel past a key, and the off-centre erosion kernel marks the window's last
    row and column as cloud."""
    from hybrid.backends.local.processes.resampling import LAYOUT

    rng = np.random.default_rng(5)
    scl = rng.choice([4.0, 4.0, 5.0, 6.0], size=(300, 310))
    for cy, cx in rng.integers(0, 300, size=(12, 2)):
        y, x = np.mgrid[:300, :310]
        scl[(y - cy) ** 2 + (x - cx) ** 2 < 40] = 9.0
    cube = _scl_cube([scl])
    top, left, width, height = 6, 9, 290, 280  # the layout inside the cube's pixels
    x0, y0 = float(cube["x"][0]) - 5 + 10 * left, float(cube["y"][0]) + 5 - 10 * top
    cube.attrs[LAYOUT] = (x0, y0, 10.0, width, height)
    args = {"kernel1_size": 17, "kernel2_size": 3, "erosion_kernel_size": 3}
    got = np.isnan(masked_while_loading(cube, args).values[0, 0])
    expected = np.zeros(scl.shape, dtype=bool)
    for ky in (top - 256, top, top + 256):
        for kx in (left - 256, left, left + 256):
            ys = slice(max(ky - 1, 0), min(ky + 257, 300))
            xs = slice(max(kx - 1, 0), min(kx + 257, 310))
            window = ref_mask(scl[ys, xs], erosion=3, k1=17, k2=3)
            for y in range(max(ky, 0), min(ky + 256, 300)):
                for x in range(max(kx, 0), min(kx + 256, 310)):
                    expected[y, x] = window[y - ys.start, x - xs.start]
    np.testing.assert_array_equal(got, expected)
    whole = ref_mask(scl, erosion=3, k1=17, k2=3)
    assert (got != whole).sum() > 256  # the keys' edges differ from one whole window


def test_a_load_stac_without_properties_applies_its_mask_scl_dilation(tmp_path):
    """Copernicus's load_stac reads with the same per-load parameters as load_collection
    (geopyspark-driver load_stac.py L742, ``maskingStrategyParameters`` from the load's
    ``custom_mask``, datacube_parameters.py L29), so it masks while loading too
    (FileLayerProvider.scala L1039-1049): a date cloudy all over is dropped. A load_stac
    without ``properties`` went unmarked, and kept both dates unmasked."""
    import xarray as xr

    from hybrid.backends.local import LocalBackend, LocalSettings
    from tests.engine.test_kernel_search_box import _lonlat
    from tests.stac_fixtures import TinyScene, write_tiny_catalog

    scenes = [
        TinyScene("S2A_T32TLR_20230601_L2A", "2023-06-01T10:30:00Z", 90.0, scl=9),
        TinyScene("S2A_T32TLR_20230606_L2A", "2023-06-06T10:30:00Z", 5.0, scl=4),
    ]
    catalog = write_tiny_catalog(tmp_path / "catalog", scenes)
    (west, north), (east, south) = _lonlat(105, 105), _lonlat(295, 295)
    box = {"west": west, "south": south, "east": east, "north": north}
    when = ["2023-06-01", "2023-06-10"]
    load = {"url": str(catalog), "bands": ["red", "scl"], "temporal_extent": when,
            "spatial_extent": box}  # fmt: skip
    graph = {
        "load": {"process_id": "load_stac", "arguments": load},
        "mask": {"process_id": "mask_scl_dilation",
                 "arguments": {"data": {"from_node": "load"}, "scl_band_name": "scl"}},
        "save": {"process_id": "save_result", "result": True,
                 "arguments": {"data": {"from_node": "mask"}, "format": "netCDF"}},
    }  # fmt: skip
    (path,) = LocalBackend(LocalSettings()).execute(graph, out_dir=tmp_path / "out").files
    with xr.open_dataset(path) as ds:
        dates = [str(t)[:10] for t in ds["t"].values]
        red = ds["red"].values
    assert dates == ["2023-06-06"]
    assert np.isfinite(red).all()


def test_an_scl_band_name_is_ignored_as_on_copernicus():
    """Published graphs (APEx obsgession LAI) give to_scl_dilation_mask mask_scl_dilation's
    ``scl_band_name``: Copernicus reads only its five parameters (python-driver sar.py
    L127-141); here it was a TypeError."""
    from tests.process_vectors import run_through_engine

    scl = _clouds(3)
    arguments = {"data": _scl_cube([scl]), "kernel1_size": 5, "kernel2_size": 9}
    got = run_through_engine("to_scl_dilation_mask", {**arguments, "scl_band_name": "SCL"})
    np.testing.assert_array_equal(np.asarray(got.values)[0, 0], ref_mask(scl, k1=5, k2=9))


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ({"kernel2_size": 0}, "kernel2_size"),
        ({"kernel1_size": 2.5}, "kernel1_size"),
        ({"mask1_values": "4,5"}, "mask1_values"),
        ({"mask2_values": [3, "cloud"]}, "mask2_values"),
    ],
)
def test_bad_parameters_are_one_clear_error(args, word):
    with pytest.raises(ProcessParameterInvalid, match=word):
        to_scl_dilation_mask(_scl_cube([_clouds(0)]), **args)


def test_the_processes_are_advertised_with_copernicus_defaults():
    from hybrid.backends.local import LocalBackend

    specs = {s["id"]: s for s in LocalBackend().process_specs()}
    params = {p["name"]: p.get("default") for p in specs["to_scl_dilation_mask"]["parameters"]}
    assert params == {
        "data": None,
        "erosion_kernel_size": 0,
        "mask1_values": [2, 4, 5, 6, 7],
        "mask2_values": [3, 8, 9, 10, 11],
        "kernel1_size": 17,
        "kernel2_size": 201,
    }
    assert "mask_scl_dilation" in specs


@pytest.mark.slow
def test_the_cdse_cloud_mask_recipe_runs_on_the_sample(sample_catalog, tmp_path):
    """Two loads (bands, SCL) as the CDSE notebooks write them, the mask from
    to_scl_dilation_mask, three save_result nodes: the mask matches the reference away
    from the edges (where the engine sees the loaded buffer), and the data is nodata
    exactly where the mask is set."""
    import xarray as xr

    from hybrid.backends.local import LocalBackend, LocalSettings

    box = {"west": 6.656, "south": 45.232, "east": 6.672, "north": 45.258}
    dates = ["2023-06-01", "2023-06-12"]
    params = {"kernel1_size": 17, "kernel2_size": 77, "erosion_kernel_size": 3}

    def load(bands):
        return {
            "process_id": "load_collection",
            "arguments": {"id": "SENTINEL2_L2A", "spatial_extent": box,
                          "temporal_extent": dates, "bands": bands},
        }  # fmt: skip

    def save(node, fmt, prefix):
        arguments = {"data": {"from_node": node}, "format": fmt}
        return {"process_id": "save_result",
                "arguments": {**arguments, "options": {"filename_prefix": prefix}}}  # fmt: skip

    graph = {
        "s2": load(["B04", "B08"]),
        "scl": load(["SCL"]),
        "dilate": {
            "process_id": "to_scl_dilation_mask",
            "arguments": {"data": {"from_node": "scl"}, **params},
        },
        "masked": {
            "process_id": "mask",
            "arguments": {"data": {"from_node": "s2"}, "mask": {"from_node": "dilate"}},
        },
        "save_data": {**save("masked", "netCDF", "data"), "result": True},
        "save_mask": save("dilate", "netCDF", "mask"),
        "save_scl": save("scl", "netCDF", "scl"),
    }
    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    assert backend.validate(graph).buffer == 39  # ceil(77 / 2)
    files = backend.execute(graph, out_dir=tmp_path).files
    assert sorted(f.name for f in files) == ["data.nc", "mask.nc", "scl.nc"]
    with (
        xr.open_dataset(tmp_path / "data.nc") as data,
        xr.open_dataset(tmp_path / "mask.nc") as mask,
        xr.open_dataset(tmp_path / "scl.nc") as scl,
    ):
        cloud = mask["SCL"].values == 1
        kept = np.isin(mask["t"].values, data["t"].values)
        red = data["B04"].values
        scl_values = scl["SCL"].values
    assert 0 < cloud.mean() < 1
    # the data load has no kernel of its own, so no buffer (the SCL load's 39 px are its
    # own: FileLayerProvider.scala L1010-1016): a date its mask covers all over is dropped
    # (a mask applied while loading), the rest masked where the mask is set
    assert cloud[~kept].all() and kept.sum() == red.shape[0] >= 1
    assert np.isnan(red[cloud[kept]]).all()
    assert np.isfinite(red[~cloud[kept] & np.isfinite(scl_values[kept])]).mean() > 0.99
    margin = 77 // 2 + 3
    for index in range(scl_values.shape[0]):
        expected = ref_mask(scl_values[index], erosion=3, k1=17, k2=77)
        inner = (slice(margin, -margin), slice(margin, -margin))
        np.testing.assert_array_equal(cloud[index][inner], expected[inner])


def test_a_key_whose_unmasked_pixels_hold_no_value_is_no_tile():
    """loadMasked masks a key's read (CloudFilterStrategy.scala L152-153) and the load
    then drops a tile with no value in any band (FileLayerProvider.scala L708): on the
    first date the west key is cloud all over and the east key leaves one pixel
    unmasked, a no-data pixel among clear ones (its own weight in the 17-px Gaussian is
    below 0.057), so no key of the date is left and the date is gone."""
    import xarray as xr

    from hybrid.backends.local.processes.resampling import LAYOUT

    scl = np.full((2, 16, 512), 5.0)
    scl[0, :, :256], scl[0, :, 256:] = 9.0, 4.0
    scl[0, 8, 384] = np.nan
    cube = _scl_cube(list(scl))
    red = xr.where(cube.isnull(), np.nan, 1000.0).assign_coords(bands=["B04"])
    cube = xr.concat([red, cube], dim="bands")
    cube.attrs[LAYOUT] = (float(cube["x"][0]) - 5, float(cube["y"][0]) + 5, 10.0, 512, 16)
    args = {"kernel1_size": 17, "kernel2_size": 1, "mask1_values": [4, 5], "mask2_values": [4]}
    out = masked_while_loading(cube, args)
    np.testing.assert_array_equal(out["t"].values, cube["t"].values[1:])
    assert not np.isnan(out.values[0]).any()
