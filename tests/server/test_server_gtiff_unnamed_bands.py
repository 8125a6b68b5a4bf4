"""A batch job's GTiff of bands renamed without ``source`` to a shorter ``target``: the
bands beyond it have no name in Copernicus's band metadata (openeo client metadata.py
``BandDimension.rename_labels`` L240-241), so its GTiff writer gives them no
``DESCRIPTION`` (geopyspark-driver geopysparkdatacube.py L2305-2312), its asset lists
only the named bands (L2314-2316, L2398-2400; geotrellis-extensions geotiff/package.scala
L253-254) and ``separate_asset_per_band`` fails on them (``bandLabels(bandIndex)``
L162, L219, L231). A real server (uvicorn in a thread), the real openeo client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_helpers import local_connection

#: a small box of the embedded sample and one week: a cheap job
_BOX = {"west": 6.660, "south": 45.240, "east": 6.662, "north": 45.242}
_WEEK = ["2023-06-01", "2023-06-08"]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("unnamed-bands"), sample_catalog) as connected:
        yield connected


def _renamed(connection: Any) -> Any:
    """Three bands, two names: the third band is named by no label of ``target``."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=_BOX, temporal_extent=_WEEK, bands=["B02", "B04", "B08"]
    )
    return cube.rename_labels("bands", target=["blue", "red"])


def test_a_band_beyond_a_shorter_target_has_no_description_and_is_no_asset_band(
    connection: Any, tmp_path: Path
) -> None:
    import rasterio

    job = _renamed(connection).create_job(out_format="GTiff")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    results = job.get_results()
    tiffs = {k: a for k, a in results.get_metadata()["assets"].items() if k.endswith(".tif")}
    assert tiffs
    for asset in tiffs.values():
        assert [band["name"] for band in asset["bands"]] == ["blue", "red"]
        assert [band["name"] for band in asset["eo:bands"]] == ["blue", "red"]
    results.download_files(tmp_path)
    for name in tiffs:
        with rasterio.open(tmp_path / name) as src:
            assert src.count == 3
            assert src.descriptions == ("blue", "red", None)


def test_a_file_per_band_with_a_band_beyond_a_shorter_target_fails_the_job(
    connection: Any,
) -> None:
    from openeo.rest import JobFailedException

    saved = _renamed(connection).save_result("GTiff", options={"separate_asset_per_band": True})
    job = saved.create_job()
    with pytest.raises(JobFailedException):
        job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    (failure,) = [entry for entry in job.logs() if entry["level"] == "error"]
    assert failure["code"] == "ProcessParameterInvalid"
    assert failure["message"].startswith("save_result: separate_asset_per_band names each")
    assert "1 of the 3 bands have no name" in failure["message"]
