"""The UDPs of the openEO community examples (github.com/Open-EO/openeo-community-examples,
``processes/*.json``) through the openeo client against ``hybrid serve``: stored with
``save_user_defined_process`` as published and used in a graph and in a reducer, or
refused with one openEO error; each result checked against numpy on the raw bands
downloaded from the same server.

The processes are read from a checkout (or a bare git directory) of
openeo-community-examples named by ``HYBRID_COMMUNITY_EXAMPLES``, not copied into this
project; the tests skip without one. What the engine does for them is covered without
the checkout by ``test_community_examples_more.py::test_nodata_udps_in_a_reducer_and_refusals``
and ``tests/engine/test_array_text_processes.py::test_array_find_on_arrays``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.published import published_text
from tests.workflows.raw import pixels_inside, raw_bands
from tests.workflows.test_community_examples_more import PENTAGON, _nc, check_nodata_reducers

#: a checkout (or a bare git directory) of Open-EO/openeo-community-examples
EXAMPLES_ENV = "HYBRID_COMMUNITY_EXAMPLES"
pytestmark = pytest.mark.skipif(
    not os.environ.get(EXAMPLES_ENV),
    reason=f"set {EXAMPLES_ENV} to a checkout of Open-EO/openeo-community-examples",
)


def _community_process(name: str) -> dict[str, Any]:
    """processes/<name>.json of openeo-community-examples, as published."""
    text = published_text(
        EXAMPLES_ENV, f"processes/{name}.json", "Open-EO/openeo-community-examples"
    )
    spec: dict[str, Any] = json.loads(text)
    return spec


@pytest.mark.slow
def test_community_processes_stored_and_used(connection: Any, tmp_path: Path) -> None:
    """processes/crop_polygon.json, array_contains_nodata.json, array_find_nodata.json
    (stored with ``save_user_defined_process``, used in a graph and in a reducer), and
    flood_ndwi.json, burntmapping_chunks.json, rescale_chunks.json, stored (as
    Copernicus stores any process graph) and refused when run with one openEO error
    each: they call the ``vito`` namespace's NDWI and ``chunk_polygon``, which
    Copernicus's API 1.2 does not offer either (openeo-python-driver registers
    chunk_polygon for API 1.0/1.1 only). anomaly_detection.json (Sentinel-1, CropSAR)
    is left out."""
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
        connection.save_user_defined_process(
            spec["id"], spec["process_graph"], parameters=spec["parameters"]
        )
        needed = {p["name"]: None for p in spec["parameters"] if "default" not in p}
        stored = connection.datacube_from_process(spec["id"], namespace="user", **needed)
        with pytest.raises(OpenEoApiError) as refused:
            stored.execute()
        assert refused.value.http_status_code == 400
        assert refused.value.code == "ProcessUnsupported", refused.value.message

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
    # Copernicus's mask_polygon does not read `replacement` (geopysparkdatacube.py L1169):
    # the pixels outside the polygon are nodata, not -5
    want = np.where(inside, raw["B04"].values, np.nan)
    assert crop["B04"].shape == want.shape
    np.testing.assert_array_equal(crop["B04"].values, want)

    check_nodata_reducers(connection, tmp_path, "array_contains_nodata", "array_find_nodata")
