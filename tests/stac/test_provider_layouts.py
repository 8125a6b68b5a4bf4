"""The same scenes described in each provider's STAC layout give identical NDVI.

The embedded sample is written in Earth Search v1 layout; here its items are rewritten
in the Planetary Computer layout (asset keys B02..SCL, no raster:bands, offset from
``s2:processing_baseline``, ``s2:mgrs_tile``) and the CDSE layout (keys B04_10m /
SCL_20m, STAC 1.1 ``raster:scale``/``raster:offset`` on the assets,
``processing:version``, ``proj:code``), pointing at the very same COGs. The local
backend must not see a difference, and neither may the independent reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.params import Workflow
from hybrid.sample import SEED_AOI
from hybrid.workflow_graph import build_graph
from tests.reference import reference_ndvi
from tests.stac_fixtures import rewritten_catalog

START, END = "2023-05-01", "2023-07-01"
ES_TO_BAND = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "scl": "SCL"}
RESOLUTION = {"B02": 10, "B03": 10, "B04": 10, "B08": 10, "SCL": 20}


def _pc_item(item: dict) -> dict:
    props = dict(item["properties"])
    tile = props.pop("grid:code").removeprefix("MGRS-")
    for key in [k for k in props if k.startswith(("earthsearch:", "mgrs:"))]:
        props.pop(key)
    props["s2:mgrs_tile"] = tile
    assets = {}
    for key, asset in item["assets"].items():
        if key not in ES_TO_BAND:
            continue
        asset = {k: v for k, v in asset.items() if k != "raster:bands"}
        assets[ES_TO_BAND[key]] = asset
    return {**item, "properties": props, "assets": assets}


def _cdse_item(item: dict) -> dict:
    props = dict(item["properties"])
    baseline = props.pop("s2:processing_baseline")
    for key in [k for k in props if k.startswith(("earthsearch:", "mgrs:", "s2:"))]:
        props.pop(key)
    props["processing:version"] = baseline
    epsg = props.pop("proj:epsg", None) or props.pop("proj:code", "EPSG:32632")
    props["proj:code"] = epsg if str(epsg).startswith("EPSG:") else f"EPSG:{epsg}"
    assets = {}
    for key, asset in item["assets"].items():
        if key not in ES_TO_BAND:
            continue
        band = ES_TO_BAND[key]
        raster = (asset.get("raster:bands") or [{}])[0]
        new = {k: v for k, v in asset.items() if k not in ("raster:bands", "proj:epsg")}
        new["nodata"] = raster.get("nodata", 0)
        if "scale" in raster:
            new["raster:scale"] = raster["scale"]
            new["raster:offset"] = raster["offset"]
        assets[f"{band}_{RESOLUTION[band]}m"] = new
    return {**item, "properties": props, "assets": assets}


@pytest.fixture(scope="module")
def layouts(sample_catalog, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layouts")
    return {
        "earth-search": sample_catalog,
        "planetary-computer": rewritten_catalog(sample_catalog, root / "pc", _pc_item),
        "cdse": rewritten_catalog(sample_catalog, root / "cdse", _cdse_item),
    }


def _ndvi(catalog: Path, out: Path) -> xr.DataArray:
    graph = build_graph(Workflow(aoi=SEED_AOI, start=START, end=END))
    result = LocalBackend(LocalSettings(stac=str(catalog))).execute(graph, out_dir=out)
    with xr.open_dataset(result.files[0], engine="h5netcdf") as ds:
        return ds["var"].load()


@pytest.mark.parametrize("layout", ["planetary-computer", "cdse"])
def test_each_layout_gives_the_earth_search_ndvi(layouts, layout, tmp_path):
    from hybrid.stac.providers import detect_layout
    from hybrid.stac.source import static_items

    items = list(static_items(layouts[layout]))
    assert {detect_layout(i).name for i in items} == {layout}
    expected = _ndvi(layouts["earth-search"], tmp_path / "es")
    got = _ndvi(layouts[layout], tmp_path / layout)
    assert np.isfinite(got.values).any()
    np.testing.assert_array_equal(got.values, expected.values)
    np.testing.assert_array_equal(got["t"].values, expected["t"].values)


@pytest.mark.parametrize("layout", ["planetary-computer", "cdse"])
def test_the_reference_agrees_across_layouts(layouts, layout):
    a = reference_ndvi(layouts["earth-search"], SEED_AOI, START, END)
    b = reference_ndvi(layouts[layout], SEED_AOI, START, END)
    assert a.labels == b.labels
    np.testing.assert_array_equal(a.data, b.data)
