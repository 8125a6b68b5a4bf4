"""More workflows of the openEO community examples (github.com/Open-EO/openeo-community-examples,
``python/``) through the openeo client against ``hybrid serve``, changed only in URL, AOI
and dates (other collections left out).

Each test holds the notebook's client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server. The
published ``processes/*.json`` run in ``test_community_processes.py`` (with a checkout
of them); what they need of the engine is checked here on graphs built in the test.
"""

from __future__ import annotations

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


def _nodata_udp(finder: str) -> dict[str, Any]:
    """A process over an array ``data``: ``array_apply`` with ``is_nodata``, then
    ``finder`` (array_contains or array_find) of true."""
    flags = {
        "process_id": "array_apply",
        "arguments": {
            "data": {"from_parameter": "data"},
            "process": {
                "process_graph": {
                    "nodata": {
                        "process_id": "is_nodata",
                        "arguments": {"x": {"from_parameter": "x"}},
                        "result": True,
                    }
                }
            },
        },
    }
    found = {
        "process_id": finder,
        "arguments": {"data": {"from_node": "flags"}, "value": True},
        "result": True,
    }
    return {"flags": flags, "found": found}


@pytest.mark.slow
def test_nodata_udps_in_a_reducer_and_refusals(connection: Any, tmp_path: Path) -> None:
    """What the community ``processes/*.json`` need of the engine, without a checkout of
    them (``test_community_processes.py`` runs them as published): stored processes
    called by a ``reduce_dimension`` reducer over t, ``array_apply`` of ``is_nodata``
    then ``array_contains`` / ``array_find`` (nodata where nothing is found, as
    Copernicus, not 999999); a ``vito`` namespace process and ``chunk_polygon`` stored
    (Copernicus stores any body with a process graph, python-driver views.py
    ``udp_store``) and refused when run, with one 400 ProcessUnsupported each."""
    from openeo.api.process import Parameter
    from openeo.rest import OpenEoApiError

    data = Parameter(name="data", description="An array", schema={"type": "array"})
    for name, finder in (("t_has_nodata", "array_contains"), ("t_first_nodata", "array_find")):
        connection.save_user_defined_process(name, _nodata_udp(finder), parameters=[data])
    area = Parameter(name="area", description="An area", schema={"type": "object"})
    vito = {"process_id": "NDWI", "namespace": "vito", "arguments": {}, "result": True}
    udf = {"process_id": "run_udf", "result": True, "arguments": {
        "data": {"from_parameter": "data"}, "udf": "x", "runtime": "Python"}}  # fmt: skip
    chunks = {"load": {"process_id": "load_collection", "arguments": {
        "id": "SENTINEL2_L2A", "spatial_extent": None, "temporal_extent": None}},
        "chunks": {"process_id": "chunk_polygon", "result": True, "arguments": {
            "data": {"from_node": "load"}, "chunks": {"from_parameter": "area"},
            "process": {"process_graph": {"udf": udf}}}}}  # fmt: skip
    for name, graph in (("t_vito", {"ndwi": vito}), ("t_chunks", chunks)):
        connection.save_user_defined_process(name, graph, parameters=[area])
        stored = connection.datacube_from_process(name, namespace="user", area=None)
        with pytest.raises(OpenEoApiError) as refused:
            stored.execute()
        assert refused.value.http_status_code == 400
        assert refused.value.code == "ProcessUnsupported"

    check_nodata_reducers(connection, tmp_path, "t_has_nodata", "t_first_nodata")


def check_nodata_reducers(connection: Any, tmp_path: Path, contains: str, find: str) -> None:
    """Stored UDPs ``contains`` (is any value nodata) and ``find`` (the index of the first
    nodata) as reducers over t of B04 with cloud shadow (SCL 3) masked, against numpy on
    the raw bands: the first true where a date is shadowed or empty, the index of that
    date (nodata where none is)."""
    from openeo.processes import process

    dates = ["2023-06-10", "2023-07-05"]
    bands = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=dates, bands=["B04", "SCL"]
    )
    masked = bands.filter_bands(["B04"]).mask(bands.band("SCL") == 3)
    for name in (contains, find):
        reduced = masked.reduce_dimension(
            dimension="t", reducer=lambda data, name=name: process(name, data=data)
        )
        reduced.download(tmp_path / f"{name}.nc", format="netCDF")
    has = _only_var(_nc(tmp_path / f"{contains}.nc"))
    found = _only_var(_nc(tmp_path / f"{find}.nc"))
    full = raw_bands(connection, ["B04", "SCL"], tmp_path / "full.nc", dates=dates)
    cloudy = (full["SCL"].values == 3) | np.isnan(full["B04"].values)
    assert 0 < cloudy.any(axis=0).mean() < 1
    np.testing.assert_array_equal(has == 1, cloudy.any(axis=0))
    want_index = np.where(cloudy.any(axis=0), cloudy.argmax(axis=0), np.nan)
    np.testing.assert_array_equal(found, want_index)
