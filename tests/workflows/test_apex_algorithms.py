"""ESA APEx algorithm catalogue (github.com/ESA-APEx/apex_algorithms, ``algorithm_catalog/``):
the Sentinel-2 UDPs as their ``openeo_udp/generate.py`` builds them with the openeo client
and as their test scripts call them, against ``hybrid serve``, changed only in URL, AOI and
dates. Offline the UDP cannot be read from its GitHub ``namespace`` URL: it is stored on
the server (``save_user_defined_process``) or read from the generated JSON file
(``datacube_from_json``, as the catalogue's own ``test_udp.py`` does).

Each test checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.raw import BBOX, DATES, pixels_inside, raw_bands, read_tiff

_W, _S, _E, _N = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
#: SCL classes the max_ndvi_composite UDP masks (SCL_LEGEND of generate.py)
_CLOUDY = [3, 8, 9, 10, 1, 6, 11, 0]


def _quiet(func: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def _max_ndvi_composite(c: Any) -> dict[str, Any]:
    """algorithm_catalog/vito/max_ndvi_composite/openeo_udp/generate.py ``generate()``."""
    import openeo
    from openeo.api.process import Parameter
    from openeo.processes import array_create
    from openeo.rest.udp import build_process_dict

    spatial_extent = Parameter.spatial_extent()
    temporal_extent = Parameter.temporal_interval(name="temporal_extent")
    schema = {"type": "string", "enum": ["B02", "B03", "B04", "B05", "B06", "B07", "B08"]}
    bands_param = Parameter.array(name="bands", description="Sentinel-2 L2A bands",
        item_schema=schema, default=["B04", "B03", "B02"], optional=True)  # fmt: skip
    max_cloud_cover_param = Parameter.number(
        name="max_cloud_cover", description="max cloud", default=75.0, optional=True
    )
    load = {"temporal_extent": temporal_extent, "spatial_extent": spatial_extent,
            "max_cloud_cover": max_cloud_cover_param}  # fmt: skip
    scl = c.load_collection("SENTINEL2_L2A", bands=["SCL"], **load)

    def scl_to_masks(scl_layer: Any) -> Any:
        return openeo.processes.any(array_create([scl_layer == v for v in _CLOUDY]))

    cloud_mask = scl.apply(process=scl_to_masks)
    ndvi_bands = c.load_collection("SENTINEL2_L2A", bands=["B04", "B08"], **load)
    ndvi_bands = ndvi_bands.mask(cloud_mask)
    ndvi = ndvi_bands.ndvi(nir="B08", red="B04").add_dimension("bands2", "ndvi", type="bands")

    def max_ndvi_selection(ndvi: Any) -> Any:
        max_ndvi = ndvi.max()
        return ndvi.array_apply(lambda x: x != max_ndvi)

    rank_mask = ndvi.apply_dimension(dimension="t", process=max_ndvi_selection)
    combined_mask = rank_mask.merge_cubes(cloud_mask, overlap_resolver="max")
    rgb_bands = c.load_collection("SENTINEL2_L2A", bands=bands_param, **load)
    composite = rgb_bands.mask(combined_mask).max_time()
    return build_process_dict(
        process_graph=composite,
        process_id="max_ndvi_composite",
        parameters=[spatial_extent, temporal_extent, max_cloud_cover_param, bands_param],
    )


def test_max_ndvi_composite_udp(connection: Any, tmp_path: Path) -> None:
    """algorithm_catalog/vito/max_ndvi_composite (generate.py, benchmark_scenarios/
    max_ndvi_composite.json): SCL classes to one mask with ``any(array_create([...]))``
    in ``apply``, NDVI with ``add_dimension("bands2", type="bands")``, the dates of max
    NDVI by ``apply_dimension`` + ``array_apply``, ``merge_cubes`` of that band with the
    SCL band, the RGB masked and ``max_time``, as a stored UDP with parameters (the
    cloud cover one in a property filter) run in a batch job.

    As Copernicus computes it: ``merge_cubes`` with the ``max`` resolver pairs the bands by
    position whatever their names (OpenEOProcesses.scala ``resolve_merge_overlap``
    L978-995), so the mask has one band, max(rank, cloud), which masks every band of the
    data (DatacubeSupport.scala ``rasterMaskGeneric`` L222-228); where every date is
    cloudy the NDVI and its max are nodata and ``nodata != nodata`` is false, but the
    clouds mask them. (Until 2026-12-07 the bands were joined by name here: two bands,
    B04 masked by the rank only, B03 by the clouds.)"""
    udp = _max_ndvi_composite(connection)
    connection.save_user_defined_process(
        "max_ndvi_composite", udp["process_graph"], parameters=udp["parameters"]
    )
    raw = raw_bands(connection, ["B03", "B04", "B08", "SCL"], tmp_path / "raw.nc",
                    max_cloud_cover=75)  # fmt: skip
    b3, b4, b8, scl = (raw[b].values.astype(np.float64) for b in ("B03", "B04", "B08", "SCL"))
    cloudy = np.isin(scl, _CLOUDY) | np.isnan(scl)
    ndvi = np.where(cloudy, np.nan, _quiet(np.divide, b8 - b4, b8 + b4))
    best = _quiet(np.nanmax, ndvi, axis=0)
    keep = (ndvi == best) | (np.isnan(ndvi) & np.isnan(best))
    assert 0 < cloudy.mean() < 1 and (~keep).any() and np.isnan(best).any()

    for bands in (["B04"], ["B04", "B03"]):
        composite = connection.datacube_from_process(
            "max_ndvi_composite", spatial_extent=BBOX, temporal_extent=DATES, bands=bands
        )
        composite.execute_batch(tmp_path / "openEO.tif")
        got = read_tiff(tmp_path / "openEO.tif")
        kept = keep & ~cloudy
        want = [_quiet(np.nanmax, np.where(kept, b4, np.nan), axis=0)]
        if bands == ["B04", "B03"]:
            want.append(_quiet(np.nanmax, np.where(kept, b3, np.nan), axis=0))
        np.testing.assert_allclose(got, np.stack(want), rtol=1e-6, err_msg=str(bands))


def _timeseries_statistics(connection: Any) -> dict[str, Any]:
    """algorithm_catalog/vito/timeseries_statistics/openeo_udp/generate.py ``generate()``
    (descriptions shortened)."""
    from openeo.api.process import Parameter
    from openeo.processes import is_valid
    from openeo.rest.datacube import CollectionMetadata, DataCube
    from openeo.rest.udp import build_process_dict

    collection_id = Parameter.string(name="collection_id", description="collection",
                                     default="SENTINEL2_L2A", optional=True)  # fmt: skip
    bands = Parameter.array(name="bands", description="bands",
                            item_schema={"type": "string"}, default=["B04", "B08"])  # fmt: skip
    geometry = Parameter.geojson(name="geometry", description="area")
    temporal_extent = Parameter.temporal_interval(name="temporal_extent", description="t")
    period = Parameter.string(name="period", description="period",
        values=["year", "month", "week", "dekad", "day"], default=None, optional=True)  # fmt: skip
    process = connection.datacube_from_process
    cube = process(process_id="load_collection", id=collection_id, bands=bands,
                   temporal_extent=temporal_extent)  # fmt: skip
    _meta = CollectionMetadata({"cube:dimensions": {"t": {"type": "temporal"},
        "bands": {"type": "bands", "values": []}, "x": {"type": "spatial"},
        "y": {"type": "spatial"}}})  # fmt: skip
    cube = DataCube(graph=cube._pg, connection=connection, metadata=_meta)

    def _quantile_reducer(prob: float) -> dict[str, Any]:
        return {"process_graph": {
            "quantiles1": {"process_id": "quantiles", "arguments": {
                "data": {"from_parameter": "data"}, "probabilities": [prob]}},
            "element1": {"process_id": "array_element", "arguments": {
                "data": {"from_node": "quantiles1"}, "index": 0}, "result": True}}}  # fmt: skip

    def _rename_bands_with_suffix(stat_cube: Any, suffix: str) -> Any:
        data = [{"from_parameter": "x"}, suffix]
        concat = {"process_id": "text_concat", "result": True,
                  "arguments": {"data": data, "separator": ""}}  # fmt: skip
        suffixed_labels = process(process_id="array_apply", data=bands,
                                  process={"process_graph": {"concat1": concat}})  # fmt: skip
        return process(process_id="rename_labels", data=stat_cube, dimension="bands",
                       target=suffixed_labels)  # fmt: skip

    simple = {"min": "min", "max": "max", "mean": "mean", "sd": "sd"}
    quantile = {"q10": _quantile_reducer(0.1), "q50": _quantile_reducer(0.5),
                "q90": _quantile_reducer(0.9)}  # fmt: skip
    stat_order = ["min", "max", "mean", "sd", "q10", "q50", "q90"]
    full, per_period = {}, {}
    for label, reducer in {**simple, **quantile}.items():
        if label in simple:
            reduced = cube.reduce_dimension(reducer=reducer, dimension="t")
            agg = cube.aggregate_temporal_period(period=period, reducer=reducer)
        else:
            reduced = process(process_id="reduce_dimension", data=cube, dimension="t",
                              reducer=reducer)  # fmt: skip
            agg = process(process_id="aggregate_temporal_period", data=cube, period=period,
                          reducer=reducer)  # fmt: skip
        full[label] = _rename_bands_with_suffix(reduced, f"_{label}")
        per_period[label] = _rename_bands_with_suffix(agg, f"_{label}")
    full_stats, period_stats = full["min"], per_period["min"]
    for name in stat_order[1:]:
        full_stats = process(process_id="merge_cubes", cube1=full_stats, cube2=full[name])
        period_stats = process(process_id="merge_cubes", cube1=period_stats,
                               cube2=per_period[name])  # fmt: skip
    stats = process(process_id="if", value=is_valid(period), accept=period_stats,
                    reject=full_stats)  # fmt: skip
    mean = {"mean1": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}},
                      "result": True}}  # fmt: skip
    stats = process(process_id="aggregate_spatial", data=stats, geometries=geometry,
                    reducer={"process_graph": mean})  # fmt: skip
    stats = process(process_id="save_result", data=stats, format="CSV")
    return build_process_dict(process_graph=stats, process_id="timeseries_statistics",
        summary="statistics", description="d",
        parameters=[collection_id, bands, geometry, temporal_extent, period])  # fmt: skip


def _statistics(values: np.ndarray) -> dict[str, np.ndarray]:
    """Per pixel over the first axis: what the UDP's reducers give (sd with n - 1;
    quantiles of the int16 cube their integer part, stored into int16 tiles there)."""
    return {
        "min": _quiet(np.nanmin, values, axis=0),
        "max": _quiet(np.nanmax, values, axis=0),
        "mean": _quiet(np.nanmean, values, axis=0),
        "sd": _quiet(np.nanstd, values, axis=0, ddof=1),
        **{
            f"q{p}": np.trunc(_quiet(np.nanquantile, values, p / 100, axis=0)) for p in (10, 50, 90)
        },
    }


@pytest.mark.slow
def test_timeseries_statistics_udp_full_extent_and_per_month(
    connection: Any, tmp_path: Path
) -> None:
    """algorithm_catalog/vito/timeseries_statistics (generate.py and openeo_udp/
    test_udp.py): the UDP written to JSON and run with ``datacube_from_json(path,
    parameters=...)`` in a batch job: a load with id, bands and dates only (no spatial
    extent: the geometry's), seven statistics per band over t (``reduce_dimension`` and
    ``aggregate_temporal_period``, quantiles through ``array_element``), bands renamed
    by ``array_apply`` + ``text_concat`` on the bands parameter, six ``merge_cubes``, an
    ``if`` on ``is_valid(period)`` choosing per-month or whole-extent statistics (the
    untaken branch never runs, as on Copernicus), the mean over the polygon as CSV."""
    udp = tmp_path / "timeseries_statistics.json"
    udp.write_text(json.dumps(_timeseries_statistics(connection)))
    geometry = {"type": "Polygon",
                "coordinates": [[[_W, _S], [_E, _S], [_E, _N], [_W, _N], [_W, _S]]]}  # fmt: skip
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc")
    inside = pixels_inside(raw, geometry)
    months = raw["t"].values.astype("datetime64[M]")
    for period in (None, "month"):
        parameters = {"geometry": geometry, "temporal_extent": DATES,
                      "collection_id": "SENTINEL2_L2A", "bands": ["B04", "B08"]}  # fmt: skip
        if period:
            parameters["period"] = period
        cube = connection.datacube_from_json(str(udp), parameters=parameters)
        job = cube.create_job()
        job.start_and_wait()
        (asset,) = job.get_results().get_assets()
        asset.download(tmp_path / "timeseries.csv")
        with (tmp_path / "timeseries.csv").open() as f:
            rows = list(csv.DictReader(f))
        groups = [months == m for m in np.unique(months)] if period else [months == months]
        assert len(rows) == len(groups), rows
        for row, group in zip(rows, groups, strict=True):
            for band in ("B04", "B08"):
                values = raw[band].values.astype(np.float64)[group][:, inside]
                for stat, per_pixel in _statistics(values).items():
                    want = _quiet(np.nanmean, per_pixel)
                    got = float(row[f"{band}_{stat}"] or "nan")
                    np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"{row} {stat}")


@pytest.mark.slow
def test_dimensionality_reduction_master_cube(connection: Any, tmp_path: Path) -> None:
    """Open-EO/openeo-community-examples python/DimensionalityReduction/
    Dimensionality Reduction.ipynb (the Sentinel-2 feature cube; its PCA UDFs need onnx
    models): an EPSG:3035 bbox, ``to_scl_dilation_mask``, ``ndvi(target_band=...)``,
    eight statistics over t in one ``apply_dimension`` into bands, four of them one-element
    ``quantiles`` arrays inside ``array_create`` (flattened, as Copernicus does),
    ``rename_labels``, a netCDF batch job, ``filter_bands`` of the means as GTiff.
    The SCL dilation mask is downloaded as the input (its own test:
    tests/engine/scl_reference.py); the statistics are recomputed in numpy."""
    import openeo.processes as eop
    import pyproj
    import xarray as xr

    x0, y0 = pyproj.Transformer.from_crs(4326, 3035, always_xy=True).transform(_W, _S)
    bbox = {"west": round(x0), "south": round(y0), "east": round(x0) + 400,
            "north": round(y0) + 400, "crs": "EPSG:3035"}  # fmt: skip
    load = {"spatial_extent": bbox, "temporal_extent": DATES, "max_cloud_cover": 10}
    data_cube = connection.load_collection("SENTINEL2_L2A", bands=["B04", "B08"], **load)
    scl = connection.load_collection("SENTINEL2_L2A", bands=["SCL"], **load)
    cloud_mask = scl.process("to_scl_dilation_mask", data=scl, kernel1_size=17,
        kernel2_size=77, mask1_values=[2, 4, 5, 6, 7], mask2_values=[3, 8, 9, 10, 11],
        erosion_kernel_size=3)  # fmt: skip
    data_cube_masked = data_cube.mask(cloud_mask).ndvi(red="B04", nir="B08", target_band="NDVI")
    band_labels = data_cube_masked.metadata.band_names

    def combined_reducer(t_array: Any) -> Any:
        stats = [eop.mean(t_array), eop.median(t_array), eop.min(t_array), eop.max(t_array)]
        quantiles = [eop.quantiles(t_array, probabilities=[p]) for p in (0.05, 0.25, 0.75, 0.95)]
        return eop.array_create([*stats, *quantiles])

    names = ["mean", "median", "min", "max", "q05", "q25", "q75", "q95"]
    target_bands = [f"{b}_{n}" for b in band_labels for n in names]
    master = data_cube_masked.apply_dimension(
        process=combined_reducer, dimension="t", target_dimension="bands"
    ).rename_labels("bands", target=target_bands)
    master.execute_batch(tmp_path / "master.nc", out_format="NetCDF")
    mean_bands = [b for b in master.metadata.band_names if b.endswith("_mean")]
    master.filter_bands(mean_bands).download(tmp_path / "mean_bands_cube.tiff")

    cloud_mask.download(tmp_path / "mask.nc", format="netCDF")
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=bbox, max_cloud_cover=10)
    # bits, written as Copernicus writes them: 0/1 with _FillValue 0 (false reads as NaN)
    with xr.open_dataset(tmp_path / "mask.nc", engine="h5netcdf", mask_and_scale=False) as ds:
        masked = ds["SCL"].values != 0
    red, nir = (np.where(masked, np.nan, raw[b].values.astype(np.float64)) for b in ("B04", "B08"))
    ndvi = _quiet(np.divide, nir - red, nir + red)
    assert masked.mean() < 1 and masked.shape[0] >= 2  # two clear dates under 10 %
    with xr.open_dataset(tmp_path / "master.nc", engine="h5netcdf") as got:
        assert [v for v in got.data_vars if v != "crs"] == target_bands
        for band, values in (("B04", red), ("B08", nir), ("NDVI", ndvi)):
            want = _statistics(values)
            want["median"] = _quiet(np.nanmedian, values, axis=0)
            for p in (5, 25, 75, 95):
                want[f"q{p:02d}"] = _quiet(np.nanquantile, values, p / 100, axis=0)
            for n in names:
                np.testing.assert_allclose(got[f"{band}_{n}"].values, want[n], rtol=1e-5,
                                           err_msg=f"{band}_{n}")  # fmt: skip
    means = read_tiff(tmp_path / "mean_bands_cube.tiff")
    want_means = [_statistics(v)["mean"] for v in (red, nir, ndvi)]  # B04, B08, NDVI
    np.testing.assert_allclose(means, np.stack(want_means), rtol=1e-5)
