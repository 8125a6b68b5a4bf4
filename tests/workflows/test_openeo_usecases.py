"""Process graphs of the openEO H2020 use cases (Open-EO/openeo-usecases ``*/D35/*.json``,
the graphs sent to each backend for deliverable D35) posted to ``hybrid serve`` through
the openeo client: ``evi_d22_usecase/D35/jrc.json`` (EVI from an array ``sum``, the
minimum over time) and ``jrc_agriculture_monitoring_usecase/D35/jrc_noudf.json`` (NDVI
masked by ``SCL != 4`` with ``replacement: 0``, the mean per field as JSON). The
collection id ``EarthObservation.Copernicus.Sentinel2.Level2A`` is read as
``SENTINEL2_L2A`` and its band names ``B2``/``B4``/``B8`` as ``B02``/``B04``/``B08``,
the extent and dates moved into the embedded sample; each result checked against numpy
on the raw bands of the same server.

The graphs are read from a checkout (or a bare git directory) of openeo-usecases named
by ``HYBRID_OPENEO_USECASES``, not copied into this project; the tests skip without one.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.published import published_text
from tests.workflows.raw import BBOX, DATES, FIELDS, pixels_inside, raw_bands, read_tiff

USECASES_ENV = "HYBRID_OPENEO_USECASES"
pytestmark = pytest.mark.skipif(
    not os.environ.get(USECASES_ENV),
    reason=f"set {USECASES_ENV} to a checkout of Open-EO/openeo-usecases",
)
_BANDS = {'"B2"': '"B02"', '"B4"': '"B04"', '"B8"': '"B08"'}


def _usecase_graph(relative: str) -> dict[str, Any]:
    """The published graph with its load moved into the sample (module docstring)."""
    text = published_text(USECASES_ENV, relative, "Open-EO/openeo-usecases")
    for old, new in _BANDS.items():
        text = text.replace(old, new)
    graph: dict[str, Any] = json.loads(text)["process_graph"]
    load = graph["dc"]["arguments"]
    load.update(id="SENTINEL2_L2A", spatial_extent=dict(BBOX), temporal_extent=list(DATES))
    return graph


def test_evi_use_case_takes_the_minimum_of_an_array_sum_evi(
    connection: Any, tmp_path: Path
) -> None:
    """evi_d22_usecase/D35/jrc.json: as published its time reduction names the dimension
    ``temporal``, which the cube does not have: refused with one 4xx naming it (Copernicus
    fails too: its dry run's ``metadata.reduce_dimension`` asserts the name,
    python-driver dry_run.py L810-818, openeo client metadata.py
    ``assert_valid_dimension``); with ``t`` the GTiff is ``min`` over time of
    ``2.5 * (nir - red) / sum([1, 6 * red, -7.5 * blue, nir])``."""
    from openeo.rest import OpenEoApiError

    graph = _usecase_graph("evi_d22_usecase/D35/jrc.json")
    assert graph["mintime"]["arguments"]["dimension"] == "temporal"
    with pytest.raises(OpenEoApiError) as refused:
        connection.download(graph, tmp_path / "refused.tif")
    assert 400 <= refused.value.http_status_code < 500 and "temporal" in refused.value.message
    graph["mintime"]["arguments"]["dimension"] = "t"
    connection.download(graph, tmp_path / "evi.tif")

    raw = raw_bands(connection, ["B02", "B04", "B08"], tmp_path / "raw.nc")
    blue, red, nir = (raw[b].values.astype(np.float64) for b in ("B02", "B04", "B08"))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmin(2.5 * (nir - red) / (1 + 6 * red - 7.5 * blue + nir), axis=0)
    np.testing.assert_allclose(read_tiff(tmp_path / "evi.tif")[0], want, rtol=1e-5)


def test_agriculture_use_case_means_the_masked_ndvi_with_zeros_per_field(
    connection: Any, tmp_path: Path
) -> None:
    """jrc_agriculture_monitoring_usecase/D35/jrc_noudf.json: as published its fields are
    ``{"type": "file", "path": "BRP_Gewaspercelen_2017.gdb"}``, no GeoJSON: refused with
    one 4xx (Copernicus: ProcessParameterInvalid "Failed to parse inline GeoJSON",
    python-driver process_implementations/cubes.py L451-458); its tile filter
    ``eo:mgrs == "31UFT"`` is dropped (no item records ``eo:mgrs``, CDSE's name the tile
    ``grid:code``: it keeps no item, NoDataAvailable, here as on Copernicus), its
    ``eo:cloud_cover`` ``between`` 0 and 70 kept; with two fields of our own
    the JSON holds per date and field the mean of the NDVI where ``SCL != 4`` is false
    and 0 elsewhere (``replacement: 0`` goes where the NDVI has a value)."""
    from openeo.rest import OpenEoApiError

    graph = _usecase_graph("jrc_agriculture_monitoring_usecase/D35/jrc_noudf.json")
    del graph["dc"]["arguments"]["properties"]["eo:mgrs"]
    assert graph["aggreg1"]["arguments"]["geometries"]["type"] == "file"
    with pytest.raises(OpenEoApiError) as refused:
        connection.download(graph, tmp_path / "refused.json")
    assert 400 <= refused.value.http_status_code < 500
    assert "geometries" in refused.value.message
    graph["aggreg1"]["arguments"]["geometries"] = FIELDS
    connection.download(graph, tmp_path / "timeseries.json")
    series = json.loads((tmp_path / "timeseries.json").read_text())

    raw = raw_bands(connection, ["B04", "B08", "SCL"], tmp_path / "raw.nc")
    red, nir = (raw[b].values.astype(np.float32) for b in ("B04", "B08"))
    with np.errstate(all="ignore"):
        ndvi = (nir - red) / (nir + red)
    masked = np.where(raw["SCL"].values != 4, np.float32(0), ndvi)
    assert 0 < (raw["SCL"].values == 4).mean() < 1
    for i, feature in enumerate(FIELDS["features"]):
        inside = pixels_inside(raw, feature["geometry"])
        for date, values in zip(raw["t"].values, masked, strict=True):
            got = series[f"{str(date)[:10]}T00:00:00Z"][i][0]
            np.testing.assert_allclose(got, values[inside].astype(np.float64).mean(), rtol=1e-6)
