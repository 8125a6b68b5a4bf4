"""A fifth round of Open-EO/openeo-community-examples notebooks through the openeo client
against ``hybrid serve``: each notebook's calls as published, its collections read as
``SENTINEL2_L2A`` (named per test), AOI and dates moved into the embedded sample, each
result checked against numpy on what the same server downloads."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from tests.workflows.raw import BBOX, DATES, raw_bands, read_tiff

EXTENT = {k: BBOX[k] for k in ("west", "south", "east", "north")}


def test_hillshade_multiplies_slope_and_aspect_cubes(connection: Any, tmp_path: Path) -> None:
    """python/Hillshade/Hillshade.ipynb (``COPERNICUS_30`` as the maximum over time of
    ``B04``, a surface with slopes): ``slope`` and ``aspect`` by ``process()``, the
    hillshade as arithmetic of cubes (``sin(alt) * slope.apply(cos) + cos(alt) *
    slope.apply(sin) * aspect.apply(...)``), ``apply`` of ``clip``, GTiff. The client
    writes a product or sum of two cubes as ``merge_cubes`` with that resolver, which
    Copernicus applies band by band whatever the names (``B04_slope`` with
    ``B04_aspect``: OpenEOProcesses.scala ``resolve_merge_overlap`` L978-995): one band,
    the hillshade. Found here: the bands were joined by name, two bands, no product."""
    import openeo.processes as eop

    SUN_AZIMUTH = 315
    SUN_ALTITUDE = 45
    az = math.radians(SUN_AZIMUTH)
    alt = math.radians(SUN_ALTITUDE)
    dem = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=EXTENT, temporal_extent=DATES, bands=["B04"]
    )
    dem = dem.reduce_dimension(dimension="t", reducer="max")
    slope = dem.process("slope", data=dem)
    aspect = dem.process("aspect", data=dem)
    hillshade = math.sin(alt) * slope.apply(eop.cos) + math.cos(alt) * slope.apply(
        eop.sin
    ) * aspect.apply(lambda x: eop.cos(eop.subtract(az, eop.add(x, math.pi))))
    hillshade = hillshade.apply(lambda x: eop.clip(x, 0.0, 1.0))
    output = tmp_path / "hillshade.tif"
    hillshade.download(output)

    slope.download(tmp_path / "slope.tif")
    aspect.download(tmp_path / "aspect.tif")
    beta, alpha = read_tiff(tmp_path / "slope.tif")[0], read_tiff(tmp_path / "aspect.tif")[0]
    towards_sun = np.cos(az - (alpha + math.pi))
    want = math.sin(alt) * np.cos(beta) + math.cos(alt) * np.sin(beta) * towards_sun
    got = read_tiff(output)
    assert got.shape == (1, *beta.shape)
    assert np.isfinite(want).mean() > 0.25  # flats have no aspect
    np.testing.assert_allclose(got[0], np.clip(want, 0.0, 1.0), atol=1e-6)


def test_worldcereal_sum_of_two_mean_layers(connection: Any, tmp_path: Path) -> None:
    """python/WorldCereal/WorldCereal.ipynb (``ESA_WORLDCEREAL_MAIZE`` and
    ``..._WINTERCEREALS``, band ``CLASSIFICATION``, both as ``SCL``): two loads with a
    ``crs`` in the extent and date-times, ``reduce_dimension(t, "mean")``, one after
    ``apply(lambda x: 100 * (x + 10))``, ``merge_cubes(overlap_resolver="sum")`` of the
    same band name, ``execute_batch(out_format="GTiff")``, ``download_files()``."""
    extent = {**EXTENT, "crs": "EPSG:4326"}
    temporal = (f"{DATES[0]}T00:00:00Z", f"{DATES[1]}T00:00:00Z")
    maize = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=temporal, spatial_extent=extent, bands=["SCL"]
    ).reduce_dimension(dimension="t", reducer="mean")
    winter = (
        connection.load_collection(
            "SENTINEL2_L2A", temporal_extent=temporal, spatial_extent=extent, bands=["SCL"]
        )
        .apply(lambda x: 100 * (x + 10))
        .reduce_dimension(dimension="t", reducer="mean")
    )
    combined = maize.merge_cubes(winter, overlap_resolver="sum")
    job = combined.execute_batch(title="Worldcereal example Terrascope", out_format="GTiff")
    paths = job.get_results().download_files(tmp_path / "out")
    (tif,) = [p for p in paths if p.suffix == ".tif"]

    scl = raw_bands(connection, ["SCL"], tmp_path / "scl.nc")["SCL"].values.astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmean(scl, axis=0) + np.nanmean(100 * (scl + 10), axis=0)
    got = read_tiff(tif)
    assert got.shape == (1, *want.shape) and np.isfinite(want).all()
    np.testing.assert_allclose(got[0], want, rtol=1e-6)
