"""mask_scl_dilation applied by the loads (load_collection, load_stac) against the
reference written from the Copernicus source (tests/engine/scl_reference.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from hybrid.backends.local.processes.scl_dilation import mask_scl_dilation, masked_while_loading
from tests.engine.scl_reference import _clouds, _scl_cube, ref_mask


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
