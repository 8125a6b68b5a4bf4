"""Fields in a projected CRS (a GeoParquet in UTM read by ``load_url``) aggregated over a
cube without ``t``, through the openeo client against ``hybrid serve``: Copernicus
hands the geometries' WKT to its spatial aggregation as EPSG:4326 whatever their CRS
(openeo-geopyspark-driver 9baf2e10 geopysparkdatacube.py L1901-1903; the time-series
path reprojects them, L1883), so it reads UTM metres as degrees and finds no pixels.
The run here computes the fields all the same, and the job's log says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.raw import BBOX, DATES, FIELDS

pytestmark = pytest.mark.slow

WARNING = "Copernicus then reads them as longitude/latitude"


def _job_notes(cube: Any) -> tuple[Any, list[str]]:
    job = cube.create_job(out_format="JSON")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    return job, [entry["message"] for entry in job.logs() if WARNING in entry["message"]]


def test_projected_fields_over_a_cube_without_t_are_flagged(
    connection: Any, tmp_path: Path
) -> None:
    import geopandas as gpd

    from tests.stac_fixtures import serving_directory

    frame = gpd.GeoDataFrame.from_features(FIELDS["features"], crs=4326)
    frame.to_crs(32632).to_parquet(tmp_path / "fields.parquet")
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    with serving_directory(tmp_path) as base:
        url = f"{base}/fields.parquet"
        composite = cube.reduce_dimension(dimension="t", reducer="max")
        job, notes = _job_notes(composite.aggregate_spatial(url, reducer="mean"))
        assert len(notes) == 1 and "EPSG:32632" in notes[0], notes
        assert "no time dimension" in notes[0]
        # computed all the same: the inline lon/lat fields' values
        (asset,) = job.get_results().get_assets()
        asset.download(tmp_path / "timeseries.json")
        got = np.array(json.loads((tmp_path / "timeseries.json").read_text()))
        want = np.array(composite.aggregate_spatial(FIELDS, reducer="mean").execute())
        np.testing.assert_allclose(got, want, rtol=1e-9)
        # with t Copernicus reprojects the polygons: no warning
        _, timed = _job_notes(cube.aggregate_spatial(url, reducer="mean"))
        assert timed == []
