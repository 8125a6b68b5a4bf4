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


def _asset_band_names(connection: Any, cube: Any, tmp_path: Path) -> dict[str, list[str]]:
    """Each GTiff asset's ``bands`` names of a batch job on ``cube``; the files checked to
    hold the three bands loaded, described by the first three names."""
    import rasterio

    job = cube.create_job(out_format="GTiff")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    results = job.get_results()
    tiffs = {k: a for k, a in results.get_metadata()["assets"].items() if k.endswith(".tif")}
    results.download_files(tmp_path)
    for name, asset in tiffs.items():
        assert [band["name"] for band in asset["eo:bands"]] == [b["name"] for b in asset["bands"]]
        with rasterio.open(tmp_path / name) as src:
            assert src.count == 3
            assert src.descriptions == ("blue", "red", "nir")
    return {name: [band["name"] for band in asset["bands"]] for name, asset in tiffs.items()}


@pytest.mark.parametrize("reduced_first", [True, False])
def test_a_longer_target_is_listed_whole_on_the_asset_of_a_cube_without_time(
    connection: Any, tmp_path: Path, reduced_first: bool
) -> None:
    """Without time, Copernicus's GTiff asset lists every name of its band metadata: the
    file is written by ``saveRDDAllowAssetPerBand`` with ``band_count`` the metadata's
    names (geopysparkdatacube.py L2305-2307, L2497-2504) and its asset gets band indices
    ``0 until bandCount`` (geotiff/package.scala L253-254), each one kept from the names
    (geopysparkdatacube.py L2314-2316, L2529-2532); the file holds the three bands."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=_BOX, temporal_extent=_WEEK, bands=["B02", "B04", "B08"]
    )
    target = ["blue", "red", "nir", "extra"]
    if reduced_first:
        cube = cube.reduce_dimension("t", reducer="mean").rename_labels("bands", target=target)
    else:
        cube = cube.rename_labels("bands", target=target).reduce_dimension("t", reducer="mean")
    assert _asset_band_names(connection, cube, tmp_path) == {"openEO.tif": target}


def test_a_longer_target_lists_the_bands_of_each_date_on_the_assets_of_a_cube_with_time(
    connection: Any, tmp_path: Path
) -> None:
    """With time, an asset lists only the names of the bands its file holds: the band
    indices of the tiles written (geotiff/package.scala L173, L188; geopysparkdatacube.py
    L2398-2400)."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=_BOX, temporal_extent=_WEEK, bands=["B02", "B04", "B08"]
    ).rename_labels("bands", target=["blue", "red", "nir", "extra"])
    names = _asset_band_names(connection, cube, tmp_path)
    assert names
    assert set(map(tuple, names.values())) == {("blue", "red", "nir")}
