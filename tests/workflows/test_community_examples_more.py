"""More workflows of the openEO community examples (github.com/Open-EO/openeo-community-examples,
``python/`` and the UDPs of ``processes/``) through the openeo client against
``hybrid serve``, changed only in URL, AOI and dates (other collections left out).

Each test holds the notebook's client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.raw import BBOX, finite_share, pixels_inside, raw_bands, read_tiff


def _quiet(func: Any, values: np.ndarray, **kwargs: Any) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = func(values, **kwargs)
    return out


#: a pentagon: the sample's BBOX with its north-west corner cut off
_W, _S, _E, _N = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
PENTAGON = [[_W, _S], [_E, _S], [_E, _N], [(_W + _E) / 2, _N], [_W, (_S + _N) / 2], [_W, _S]]

NBR_UDF = """
from openeo.udf import XarrayDataCube


def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    # access the underlying xarray
    inarr = cube.get_array()

    # nbr
    nir = inarr.loc[:,'B08']
    swir = inarr.loc[:,'B12']
    nbr = (nir-swir)/(nir+swir)
    
    # extend bands dim
    nbr=nbr.expand_dims(dim='bands', axis=-3).assign_coords(bands=['nbr'])
    
    # wrap back to datacube and return
    return XarrayDataCube(nbr)
"""  # noqa: W293  (the notebook's UDF as written)


@pytest.mark.slow
def test_burnt_mapping_nbr_udf_per_polygon(connection: Any, tmp_path: Path) -> None:
    """python/BurntMapping/burntmapping.ipynb: two loads without spatial extent, NBR by a
    UDF through ``apply_polygon`` on a FeatureCollection of one MultiPolygon (the load's
    extent comes from it), ``reduce_dimension(t, mean)``, after minus before, GeoTIFF.
    Pixels whose centre is outside the polygon are no data."""
    from shapely.geometry import Polygon

    before_date = ["2023-06-10", "2023-06-20"]
    after_date = ["2023-06-20", "2023-07-05"]
    before_cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=before_date, bands=["B08", "B12"]
    )
    after_cube = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=after_date,
        bands=["B08", "B12"],
    )
    udf_process = lambda data: data.run_udf(udf=NBR_UDF, runtime="python")  # noqa: E731
    spatial_param = {
        "type": "FeatureCollection",
        "name": "cal_aoi_v2",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"id": 1},
                "geometry": {"type": "MultiPolygon", "coordinates": [[PENTAGON]]},
            }
        ],
    }
    pre_nbr = before_cube.apply_polygon(geometries=spatial_param, process=udf_process)
    post_nbr = after_cube.apply_polygon(geometries=spatial_param, process=udf_process)
    pre_n = pre_nbr.reduce_dimension(dimension="t", reducer="mean")
    post_n = post_nbr.reduce_dimension(dimension="t", reducer="mean")
    sub = post_n - pre_n
    sub.download(tmp_path / "sub_nbr_udf.tiff")
    img = read_tiff(tmp_path / "sub_nbr_udf.tiff")

    def mean_nbr(dates: list[str], name: str) -> Any:
        raw = raw_bands(connection, ["B08", "B12"], tmp_path / name, dates=dates)
        n, s = raw["B08"].values.astype(np.float32), raw["B12"].values.astype(np.float32)
        with np.errstate(all="ignore"):
            return raw, _quiet(np.nanmean, (n - s) / (n + s), axis=0)

    raw, before = mean_nbr(before_date, "pre.nc")
    _, after = mean_nbr(after_date, "post.nc")
    inside = pixels_inside(raw, Polygon(PENTAGON))
    want = np.where(inside, after - before, np.nan)
    assert img.shape == (1, *want.shape)
    assert 0.6 < inside.mean() < 0.95
    np.testing.assert_allclose(img[0], want, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert finite_share(img) > 0.5


#: the notebooks' to_scl_dilation_mask parameters
DILATION = {
    "kernel1_size": 17,
    "kernel2_size": 77,
    "mask1_values": [2, 4, 5, 6, 7],
    "mask2_values": [3, 8, 9, 10, 11],
    "erosion_kernel_size": 3,
}


def _nc(path: Path) -> Any:
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _only_var(ds: Any) -> np.ndarray:
    (name,) = [v for v in ds.data_vars if v != "crs"]
    out: np.ndarray = ds[name].values
    return out


@pytest.mark.slow
def test_rank_composites_max_ndvi_per_month(connection: Any, tmp_path: Path) -> None:
    """python/RankComposites/rank_composites.ipynb: ``to_scl_dilation_mask``, NDVI of the
    masked bands, ``apply_neighborhood`` with an ordinary callback (x, y 1 px, t
    "month": ``array_apply(x != max(data))``, ``max`` reading array_apply's ``data``),
    ``linear_scale_range``, ``merge_cubes(max)`` with the cloud mask, the RGB bands masked
    by it, ``aggregate_temporal_period("month", "first")``, ``filter_bbox`` last; both
    the mask and the composite as netCDF batch jobs."""
    dates = ["2023-06-10", "2023-08-01"]
    spatial_extent = {**BBOX, "crs": "epsg:4326"}
    scl = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=dates, bands=["SCL"], max_cloud_cover=95
    )
    cloud_mask = scl.process("to_scl_dilation_mask", data=scl, **DILATION)
    ndvi_bands = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=dates, bands=["B04", "B08", "SCL"], max_cloud_cover=95
    )
    ndvi_bands = ndvi_bands.mask(cloud_mask)
    ndvi = ndvi_bands.ndvi(nir="B08", red="B04")

    def max_ndvi_selection(ndvi: Any) -> Any:
        max_ndvi = ndvi.max()
        return ndvi.array_apply(lambda x: x != max_ndvi)

    rank_mask = ndvi.apply_neighborhood(
        max_ndvi_selection,
        size=[
            {"dimension": "x", "unit": "px", "value": 1},
            {"dimension": "y", "unit": "px", "value": 1},
            {"dimension": "t", "value": "month"},
        ],
        overlap=[],
    ).linear_scale_range(0, 200, 0, 200)
    combined_mask = rank_mask.merge_cubes(cloud_mask, overlap_resolver="max")
    combined_mask.filter_bbox(spatial_extent).execute_batch(tmp_path / "the_mask.nc")
    rgb_bands = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=dates, bands=["B02", "B03", "B04"], max_cloud_cover=95
    )
    composite = rgb_bands.mask(combined_mask).aggregate_temporal_period("month", "first")
    composite.filter_bbox(spatial_extent).execute_batch(tmp_path / "composite.nc")
    got_mask = _nc(tmp_path / "the_mask.nc")
    got = _nc(tmp_path / "composite.nc")

    cloud_mask.filter_bbox(spatial_extent).download(tmp_path / "cloud.nc", format="netCDF")
    cloud = _only_var(_nc(tmp_path / "cloud.nc")) == 1
    raw = raw_bands(
        connection, ["B02", "B04", "B08"], tmp_path / "raw.nc", dates=dates, max_cloud_cover=95
    )
    assert cloud.shape == raw["B02"].shape and 0 < cloud.mean() < 1
    r, n = raw["B04"].values.astype(np.float64), raw["B08"].values.astype(np.float64)
    with np.errstate(all="ignore"):
        nd = np.where(cloud, np.nan, (n - r) / (n + r)).astype(np.float32)
    months = raw["t"].values.astype("datetime64[M]")
    rank = np.zeros(nd.shape, bool)
    for month in np.unique(months):
        sel = months == month
        best = _quiet(np.nanmax, nd[sel], axis=0)
        # Copernicus's neq: nodata vs a number is true, nodata vs nodata false
        rank[sel] = (nd[sel] != best) & ~(np.isnan(nd[sel]) & np.isnan(best))
    want_mask = rank | cloud
    np.testing.assert_array_equal(_only_var(got_mask) == 1, want_mask)

    assert [str(t)[:10] for t in got["t"].values] == ["2023-06-01", "2023-07-01"]
    b02 = np.where(want_mask, np.nan, raw["B02"].values.astype(np.float64))
    for i, month in enumerate(np.unique(months)):
        stack = b02[months == month]
        has = np.isfinite(stack)
        first = np.take_along_axis(stack, has.argmax(axis=0)[None], axis=0)[0]
        want = np.where(has.any(axis=0), first, np.nan)
        np.testing.assert_allclose(got["B02"].values[i], want, equal_nan=True)
    assert finite_share(got["B02"].values) > 0.9


#: processes/*.json of openeo-community-examples as published, shortened: id, summary,
#: parameters (name, schema) and process graph; run_udf's code left out (never run)
_PROCESSES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "community_processes.json").read_text(encoding="utf-8")
)


def _community_process(name: str) -> dict[str, Any]:
    """processes/<name>.json of openeo-community-examples (its text, as published)."""
    return dict(_PROCESSES[name])


@pytest.mark.slow
def test_community_processes_stored_and_used(connection: Any, tmp_path: Path) -> None:
    """processes/crop_polygon.json, array_contains_nodata.json, array_find_nodata.json
    (stored with ``save_user_defined_process``, used in a graph and in a reducer), and
    flood_ndwi.json, burntmapping_chunks.json, rescale_chunks.json, refused with one
    openEO error each: they call the ``vito`` namespace's NDWI and ``chunk_polygon``,
    which Copernicus's API 1.2 does not offer either (openeo-python-driver registers
    chunk_polygon for API 1.0/1.1 only). anomaly_detection.json (Sentinel-1, CropSAR)
    is left out."""
    from openeo.processes import process
    from openeo.rest import OpenEoApiError
    from shapely.geometry import Polygon

    for name in ("crop_polygon", "array_contains_nodata", "array_find_nodata"):
        spec = _community_process(name)
        connection.save_user_defined_process(
            spec["id"], spec["process_graph"], parameters=spec["parameters"],
            summary=spec.get("summary"), description=spec.get("description"),
        )  # fmt: skip
    for name in ("flood_ndwi", "burntmapping_chunks", "rescale_chunks"):
        spec = _community_process(name)
        with pytest.raises(OpenEoApiError) as refused:
            connection.save_user_defined_process(
                spec["id"], spec["process_graph"], parameters=spec["parameters"]
            )
        assert refused.value.http_status_code == 400
        assert refused.value.code == "ProcessUnsupported"

    dates = ["2023-06-10", "2023-07-05"]
    aoi = {"type": "Polygon", "coordinates": [PENTAGON]}
    cube = connection.load_collection("SENTINEL2_L2A", temporal_extent=dates, bands=["B04"])
    cube.process("crop_polygon", data=cube, mask=aoi, replacement=-5).download(
        tmp_path / "crop.nc", format="netCDF"
    )
    crop = _nc(tmp_path / "crop.nc")
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc", dates=dates)
    # filter_spatial keeps the pixels of the polygon's envelope (a row and a column fewer
    # than the bbox load here): compare on the crop's own pixels
    raw = raw.sel(x=crop["x"].values, y=crop["y"].values)
    assert raw.sizes["x"] >= 60 and raw.sizes["y"] >= 85
    inside = pixels_inside(raw, Polygon(PENTAGON))
    want = np.where(inside, raw["B04"].values, -5)
    assert crop["B04"].shape == want.shape
    np.testing.assert_array_equal(crop["B04"].values, want)

    # nodata in some series: the pixels of cloud shadow (SCL 3) masked
    bands = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=dates, bands=["B04", "SCL"]
    )
    scl = bands.band("SCL")
    masked = bands.filter_bands(["B04"]).mask(scl == 3)
    for name in ("array_contains_nodata", "array_find_nodata"):
        reduced = masked.reduce_dimension(
            dimension="t", reducer=lambda data, name=name: process(name, data=data)
        )
        reduced.download(tmp_path / f"{name}.nc", format="netCDF")
    contains = _only_var(_nc(tmp_path / "array_contains_nodata.nc"))
    found = _only_var(_nc(tmp_path / "array_find_nodata.nc"))
    full = raw_bands(connection, ["B04", "SCL"], tmp_path / "full.nc", dates=dates)
    cloudy = (full["SCL"].values == 3) | np.isnan(full["B04"].values)
    assert 0 < cloudy.any(axis=0).mean() < 1
    np.testing.assert_array_equal(contains == 1, cloudy.any(axis=0))
    want_index = np.where(cloudy.any(axis=0), cloudy.argmax(axis=0), np.nan)
    np.testing.assert_array_equal(found, want_index)
