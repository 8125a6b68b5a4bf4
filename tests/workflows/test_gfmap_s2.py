"""openeo-gfmap's Sentinel-2 L2A graphs (PyPI ``openeo-gfmap`` 0.4.9) against
``hybrid serve``, built here with the openeo client call by call as gfmap builds them
(gfmap itself is not needed): ``build_sentinel2_l2a_extractor`` for ``Backend.CDSE``
(``fetching/s2.py``, ``fetching/commons.py``: load_collection, ``resample_spatial``
10 m near, ``rename_labels`` to its ``S2-L2A-*`` names, ``linear_scale_range(0, 65534,
0, 65534)``) and its cloud masking (``preprocessing/cloudmasking.py``
``mask_scl_dilation``: filter_bands of the optical bands, then Copernicus's
``mask_scl_dilation`` with kernel1_size 17, kernel2_size 3, erosion_kernel_size 3).

Copernicus applies mask_scl_dilation while loading, per layout key, reading only
``floor(kernel2_size / 2)`` = 1 SCL pixel around each key
(:mod:`hybrid.backends.local.processes.scl_keys`); the check below computes that mask
with the CloudFilterStrategy reference of ``tests/engine/scl_reference.py`` on the
SCL of the key's window, downloaded wider from the same server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.netcdf_unsigned import masking
from tests.workflows.raw import BBOX, raw_bands

pytestmark = pytest.mark.slow

#: a clear date and a cloudy one (clouds near the right edge), each from one tile
#: (32TLR): where two tiles cover a date, which one serves a pixel depends on the
#: extent loaded (Copernicus's per-key overlap rule), so the wider SCL download below
#: could read the other tile
DATES = ("2023-07-05", "2023-07-15")

BANDS = ["B02", "B03", "B04", "B08", "SCL"]
GFMAP = [f"S2-L2A-{b}" for b in BANDS]
#: gfmap's mask_scl_dilation arguments (cloudmasking.py)
MASKING = {
    "scl_band_name": "S2-L2A-SCL",
    "kernel1_size": 17,
    "kernel2_size": 3,
    "mask1_values": [2, 4, 5, 6, 7],
    "mask2_values": [3, 8, 9, 10, 11],
    "erosion_kernel_size": 3,
}


def gfmap_s2_cube(connection: Any, dates: tuple[str, str] = DATES) -> Any:
    """build_sentinel2_l2a_extractor(BackendContext(Backend.CDSE), GFMAP, FetchType.TILE,
    load_collection={"eo:cloud_cover": lambda v: v <= 95}).get_cube(connection,
    BoundingBoxExtent(**BBOX, epsg=4326), TemporalContext(*DATES)), then
    mask_scl_dilation(cube), as gfmap writes them."""
    cube = connection.load_collection(
        collection_id="SENTINEL2_L2A",
        spatial_extent={**BBOX, "crs": "EPSG:4326", "srs": "EPSG:4326"},
        temporal_extent=list(dates),
        bands=BANDS,
        properties={"eo:cloud_cover": lambda v: v <= 95},
    )
    cube = cube.resample_spatial(resolution=10.0, method="near")
    cube = cube.rename_labels(dimension="bands", target=GFMAP, source=BANDS)
    cube = cube.linear_scale_range(0, 65534, 0, 65534)
    optical = cube.filter_bands(bands=GFMAP)
    return optical.process("mask_scl_dilation", data=optical, **MASKING)


def test_gfmap_scl_dilation_is_masked_per_layout_key_as_on_copernicus(
    connection: Any, tmp_path: Path
) -> None:
    import xarray as xr

    from tests.engine.scl_reference import ref_mask

    gfmap_s2_cube(connection).download(tmp_path / "gfmap.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "gfmap.nc", engine="h5netcdf") as ds:
        got = masking(ds.load(), 65535)  # UShortUserDefinedNoData(65535): no _FillValue
    xs, ys, step = got["x"].values, got["y"].values, 10.0
    # one key: the next power of two of the grid's larger side, from its upper-left pixel
    side = 1 << (max(xs.size, ys.size) - 1).bit_length()
    assert side == 128
    raw = _wide(connection, tmp_path, got, pixels=side + 20)
    window = raw.sel(
        x=slice(xs[0] - step, xs[0] + side * step),  # the key and 1 pixel around it
        y=slice(ys[0] + step, ys[0] - side * step),
    )
    assert window.sizes["x"] == window.sizes["y"] == side + 2
    aoi = raw.sel(x=xs, y=ys)
    assert got.sizes["t"] == 2
    for k, date in enumerate(got["t"].values):
        scl = window["SCL"].sel(t=date).values
        mask = ref_mask(scl, erosion=3, k1=17, k2=3)[1 : 1 + ys.size, 1 : 1 + xs.size]
        expected = mask | np.isnan(aoi["B04"].sel(t=date).values)
        masked = np.isnan(got["S2-L2A-B04"].values[k])
        assert (masked == expected).all(), (str(date)[:10], int((masked != expected).sum()))
        kept = ~masked
        values = got["S2-L2A-B04"].values[k][kept]
        assert np.array_equal(values, aoi["B04"].sel(t=date).values[kept])
    # the pixels the old per-extent computation masked along the last row and column
    assert not np.isnan(got["S2-L2A-B04"].values[:, -1, :]).all(axis=-1).any()


def _wide(
    connection: Any, tmp_path: Path, like: Any, *, pixels: int, dates: tuple[str, str] = DATES
) -> Any:
    """B04 and SCL of ``like``'s grid grown by ``pixels`` on each side, same dates."""
    import pyproj

    xs, ys, step = like["x"].values, like["y"].values, 10.0
    crs = pyproj.CRS.from_wkt(like["crs"].attrs["crs_wkt"])
    to_lonlat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    margin = pixels * step
    lon0, lat0 = to_lonlat.transform(xs[0] - margin, ys[-1] - margin)
    lon1, lat1 = to_lonlat.transform(xs[-1] + margin, ys[0] + margin)
    wide = {"west": lon0, "south": lat0, "east": lon1, "north": lat1}
    return raw_bands(connection, ["B04", "SCL"], tmp_path / "wide.nc", bbox=wide, dates=dates)


def test_gfmap_median_composite_of_the_masked_uint16_cube_keeps_the_integer_part(
    connection: Any, tmp_path: Path
) -> None:
    """gfmap's ``median_compositing(cube, "month")`` after its cloud mask: the cube is
    uint16 from linear_scale_range (geotrellis-extensions OpenEOProcessScriptBuilder.scala
    L1271-1322) and mask_scl_dilation passes it on as it is (python-driver
    process_implementations/sar.py L112-122), so the median of two dates is stored in
    uint16 tiles, the integer part (OpenEOProcessScriptBuilder.scala ``multibandReduce``
    L223-243); it was the float32 median (x.5 where the two dates differ by an odd
    number)."""
    import warnings

    import xarray as xr

    masked = gfmap_s2_cube(connection)
    masked.download(tmp_path / "masked.nc", format="netCDF")
    composite = masked.aggregate_temporal_period(period="month", reducer="median", dimension="t")
    composite.download(tmp_path / "composite.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "masked.nc", engine="h5netcdf") as ds:
        dates = masking(ds.load(), 65535)  # UShortUserDefinedNoData(65535): no _FillValue
    with xr.open_dataset(tmp_path / "composite.nc", engine="h5netcdf") as ds:
        got = masking(ds.load(), 65535)
    assert [str(t)[:10] for t in got["t"].values] == ["2023-07-01"]
    for band in GFMAP:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(dates[band].values, axis=0)
        valid = np.isfinite(median)
        if band == "S2-L2A-B04":
            assert (median[valid] % 1 != 0).any()  # halves to truncate
        np.testing.assert_array_equal(got[band].values[0][valid], np.trunc(median[valid]))
        assert np.isnan(got[band].values[0][~valid]).all()


def test_gfmap_a_date_masked_over_its_whole_layout_key_is_dropped_as_on_copernicus(
    connection: Any, tmp_path: Path
) -> None:
    """CloudFilterStrategy.scala L78-159: a key whose mask is set all over gets no tile
    (``loadMasked`` returns None), so a date masked over every key of the load is not in
    the cube at all (here one 128-px key, reaching past the extent): 22 July, cloudy
    over the whole key, is gone; a date masked over the extent only stays, all no-data.
    It was kept all no-data, and a monthly composite interpolated over it."""
    import xarray as xr

    from tests.engine.scl_reference import ref_mask

    dates = ("2023-07-20", "2023-07-31")  # 22 and 27 July, each from one tile (32TLR)
    gfmap_s2_cube(connection, dates).download(tmp_path / "gfmap.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "gfmap.nc", engine="h5netcdf") as ds:
        got = ds.load()
    xs, ys, step, side = got["x"].values, got["y"].values, 10.0, 128
    raw = _wide(connection, tmp_path, got, pixels=side + 20, dates=dates)
    window = raw["SCL"].sel(
        x=slice(xs[0] - step, xs[0] + side * step), y=slice(ys[0] + step, ys[0] - side * step)
    )
    whole = [ref_mask(v, erosion=3, k1=17, k2=3)[1:-1, 1:-1].all() for v in window.values]
    kept = [str(t)[:10] for t, w in zip(window["t"].values, whole, strict=True) if not w]
    assert [str(t)[:10] for t in raw["t"].values] == ["2023-07-22", "2023-07-27"]
    assert kept == ["2023-07-27"]
    assert [str(t)[:10] for t in got["t"].values] == kept
