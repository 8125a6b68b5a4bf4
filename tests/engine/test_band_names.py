"""Band names as Copernicus resolves them: load_collection's ``bands`` and filter_bands
(and ndvi) find a band by its common name, its name or an alias (the openeo client's
``BandDimension.band_index``, which geopyspark-driver's ``layercatalog.py`` L188-196
and ``geopysparkdatacube.py`` L292-295 apply); a load keeps the names asked for, a
filter the cube's labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.collection import band_position, collection_band
from hybrid.errors import BandNotFound, ProcessParameterInvalid
from tests.server_helpers import SEED_BBOX

EXTENTS = {"spatial_extent": SEED_BBOX, "temporal_extent": ["2023-06-01", "2023-06-10"]}


@pytest.mark.parametrize(
    ("name", "band"),
    [("red", "B04"), ("nir", "B08"), ("B8A", "B8A"), ("nir08", "B8A"), ("SAA", "sunAzimuthAngles"),
     ("IMG_DATA_Band_SCL_20m_Tile1_Data", "SCL"), ("NDVI", None)],
)  # fmt: skip
def test_a_collection_band_by_common_name_name_or_alias(name: str, band: str | None) -> None:
    found = collection_band(name)
    assert (found["name"] if found else None) == band


def test_a_cube_band_by_common_name_first_then_label_then_alias() -> None:
    assert band_position(["B04", "B08"], "nir") == 1
    assert band_position(["red", "nir"], "nir") == 1
    assert band_position(["NDVI", "B04"], "NDVI") == 0
    assert band_position(["NDVI", "B04"], "IMG_DATA_Band_B04_10m_Tile1_Data") == 1
    # a band loaded as "red" is not "B04" (no common name, label nor alias says so)
    assert band_position(["red", "nir"], "B04") is None
    # a computed band has only its label
    assert band_position(["NDVI"], "nir") is None


def _run(
    tmp_path: Path, catalog: Path, load_bands: Any, filtered: Any = None, process: str = ""
) -> Any:
    """The netCDF of a load, with a filter_bands (or ``process``) of ``filtered``."""
    nodes: dict[str, Any] = {
        "load": {"process_id": "load_collection",
                 "arguments": {"id": "SENTINEL2_L2A", **EXTENTS, "bands": load_bands}},
    }  # fmt: skip
    last = "load"
    if filtered is not None:
        nodes["f"] = {"process_id": process or "filter_bands",
                      "arguments": {"data": {"from_node": "load"}, **filtered}}  # fmt: skip
        last = "f"
    nodes["save"] = {"process_id": "save_result", "result": True,
                     "arguments": {"data": {"from_node": last}, "format": "netCDF"}}  # fmt: skip
    out = tmp_path / "out"
    files = LocalBackend(LocalSettings(stac=str(catalog))).execute(nodes, out_dir=out).files
    with xr.open_dataset(files[0]) as dataset:
        return dataset.load()


def test_a_load_by_common_names_reads_those_bands_and_keeps_the_names(
    sample_catalog: Path, tmp_path: Path
) -> None:
    by_name = _run(tmp_path / "a", sample_catalog, ["B04", "B08", "sunAzimuthAngles"])
    by_common = _run(tmp_path / "b", sample_catalog, ["red", "nir", "SAA"])
    assert [v for v in by_common.data_vars if v != "crs"] == ["red", "nir", "SAA"]
    for asked, named in (("red", "B04"), ("nir", "B08"), ("SAA", "sunAzimuthAngles")):
        np.testing.assert_array_equal(by_common[asked].values, by_name[named].values)
        assert by_common[asked].dtype == by_name[named].dtype


def test_filter_bands_by_common_name_keeps_the_cube_s_labels(
    sample_catalog: Path, tmp_path: Path
) -> None:
    picked = _run(tmp_path / "a", sample_catalog, ["B04", "B08"], {"bands": ["nir", "B04"]})
    assert [v for v in picked.data_vars if v != "crs"] == ["B08", "B04"]
    whole = _run(tmp_path / "b", sample_catalog, ["B04", "B08"])
    np.testing.assert_array_equal(picked["B08"].values, whole["B08"].values)


def test_rename_labels_finds_a_band_by_common_name(sample_catalog: Path, tmp_path: Path) -> None:
    renamed = {"dimension": "bands", "target": ["NIR"], "source": ["nir"]}
    got = _run(tmp_path, sample_catalog, ["B04", "B08"], renamed, process="rename_labels")
    assert [v for v in got.data_vars if v != "crs"] == ["B04", "NIR"]


@pytest.mark.parametrize(
    ("load_bands", "filtered", "error", "message"),
    [
        (["red", "nir"], {"bands": ["B04"]}, BandNotFound,
         "filter_bands: the cube has no band B04; its bands are red, nir"),
        (["B04", "B08"], {"bands": ["B04"], "wavelengths": [[0.6, 0.7]]},
         ProcessParameterInvalid, "filter_bands: 'wavelengths' is not supported"),
        (["B04", "B08"], {"bands": []}, ProcessParameterInvalid,
         "filter_bands: 'bands' must be a non-empty list"),
        (["red", "swir"], None, BandNotFound, "SENTINEL2_L2A has no band swir; available"),
    ],
)  # fmt: skip
def test_names_that_select_nothing_are_refused_in_one_line(
    load_bands: list[str],
    filtered: dict[str, Any] | None,
    error: type[Exception],
    message: str,
    sample_catalog: Path,
    tmp_path: Path,
) -> None:
    with pytest.raises(error, match=message):
        _run(tmp_path, sample_catalog, load_bands, filtered)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_renamed_band_keeps_its_common_name_only_when_renamed_from_a_source() -> None:
    """Copernicus's rename_labels keeps a band's common name and aliases when ``source``
    names it and drops them without (openeo client ``BandDimension.rename_labels``, via
    geopysparkdatacube.py L499-511): ndvi and filter_bands then find B04 renamed "a" as
    ``red``; renamed to ``["B08", "B04"]`` without source, "B04" is no longer red (the
    label text described it: a swapped NDVI)."""
    from tests.process_vectors import run_through_engine

    values = np.array([[[[1.0]], [[3.0]]]])  # (t, bands, y, x): B04 = 1, B08 = 3
    cube = xr.DataArray(values, dims=("t", "bands", "y", "x"), coords={"bands": ["B04", "B08"]})
    renamed = run_through_engine(
        "rename_labels",
        {"data": cube, "dimension": "bands", "target": ["a", "b"], "source": ["red", "B08"]},
    )
    assert list(renamed["bands"].values) == ["a", "b"]
    ndvi = run_through_engine("ndvi", {"data": renamed})
    assert float(ndvi.values.ravel()[0]) == pytest.approx(0.5)  # (3 - 1) / (3 + 1)
    picked = run_through_engine("filter_bands", {"data": renamed, "bands": ["nir", "red"]})
    assert list(picked["bands"].values) == ["b", "a"]
    again = run_through_engine(  # renamed twice: still B04's
        "rename_labels", {"data": renamed, "dimension": "bands", "target": ["c"], "source": ["a"]}
    )
    assert list(
        run_through_engine("filter_bands", {"data": again, "bands": ["red"]})["bands"].values
    ) == ["c"]
    swapped = run_through_engine(
        "rename_labels", {"data": cube, "dimension": "bands", "target": ["B08", "B04"]}
    )
    with pytest.raises(BandNotFound, match="ndvi: band nir") as refused:
        run_through_engine("ndvi", {"data": swapped})
    assert refused.value.code == "NirBandAmbiguous"  # Copernicus's code (_ndvi_v10)


def test_ndvi_finds_a_band_by_its_label_before_its_common_name() -> None:
    """Copernicus's ndvi looks for ``nir``/``red`` among the band names first, then the
    common names, never the aliases (geopysparkdatacube.py ``_ndvi_v10`` L3019-3024),
    while filter_bands looks at common names first: B8A renamed ``nir`` is ndvi's nir
    band, though B08 keeps the common name nir."""
    from tests.process_vectors import run_through_engine

    values = np.array([[[[1.0]], [[3.0]], [[5.0]]]])  # (t, bands, y, x)
    cube = xr.DataArray(
        values, dims=("t", "bands", "y", "x"), coords={"bands": ["B04", "B08", "B8A"]}
    )
    renamed = run_through_engine(
        "rename_labels",
        {"data": cube, "dimension": "bands", "target": ["nir"], "source": ["B8A"]},
    )
    ndvi = run_through_engine("ndvi", {"data": renamed})
    assert float(ndvi.values.ravel()[0]) == pytest.approx(4 / 6)  # (5 - 1) / (5 + 1)
    picked = run_through_engine("filter_bands", {"data": renamed, "bands": ["nir"]})
    assert list(picked["bands"].values) == ["B08"]
    swapped = run_through_engine(  # the label "nir" holds B04, the label "red" B08
        "rename_labels",
        {"data": cube, "dimension": "bands", "target": ["red", "nir"], "source": ["B08", "B04"]},
    )
    negative = run_through_engine("ndvi", {"data": swapped, "nir": "nir", "red": "red"})
    assert float(negative.values.ravel()[0]) == pytest.approx(-0.5)  # (1 - 3) / (1 + 3)
