"""Every SENTINEL2_L2A band the collection advertises exists in the embedded sample with
plausible values, at its native resolution, and loads through the local engine; the four
angle bands are one value per scene, from the items' view properties, as Copernicus
serves its granule metadata means (hybrid.backends.local.angle_bands)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hybrid.backends.local.angle_bands import ANGLE_BANDS
from hybrid.backends.local.loader import S2_BANDS
from hybrid.collection import band_names
from hybrid.sample.extra_bands import RESOLUTION

ANGLES = {"sunAzimuthAngles", "sunZenithAngles", "viewAzimuthMean", "viewZenithMean"}
BOX = {"west": 6.656, "south": 45.232, "east": 6.672, "north": 45.258}


def test_the_loader_knows_every_advertised_band():
    assert set(band_names()) == set(S2_BANDS) | ANGLES == set(S2_BANDS) | set(ANGLE_BANDS)


def test_extra_bands_are_at_their_native_resolution():
    assert RESOLUTION == {
        "B01": 60, "B05": 20, "B06": 20, "B07": 20, "B8A": 20, "B09": 60,
        "B11": 20, "B12": 20, "AOT": 20, "WVP": 20,
    }  # fmt: skip


@pytest.mark.slow
def test_every_band_loads_with_plausible_values(sample_catalog: Path, tmp_path: Path):
    import xarray as xr

    from hybrid.backends.local import LocalBackend, LocalSettings

    graph = {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "SENTINEL2_L2A",
                "spatial_extent": BOX,
                "temporal_extent": ["2023-07-01", "2023-07-20"],
                "bands": list(S2_BANDS),
                "properties": {
                    "eo:cloud_cover": {
                        "process_graph": {
                            "c": {
                                "process_id": "lte",
                                "arguments": {"x": {"from_parameter": "value"}, "y": 5},
                                "result": True,
                            }
                        }
                    }
                },
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "load"}, "format": "netCDF"},
            "result": True,
        },
    }
    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    (path,) = backend.execute(graph, out_dir=tmp_path).files
    with xr.open_dataset(path) as ds:
        assert set(S2_BANDS) <= set(ds.data_vars)
        cube = {b: ds[b].values for b in S2_BANDS}
    valid = np.isfinite(cube["SCL"]) & np.isin(cube["SCL"], (4, 5))  # clear land
    assert valid.mean() > 0.3
    for band in S2_BANDS:
        values = cube[band][valid]
        assert np.isfinite(values).all(), band
    refl = {b: np.median(cube[b][valid]) / 1e4 for b in S2_BANDS if b.startswith("B")}
    for band, value in refl.items():
        assert 0.005 < value < 0.6, (band, value)
    # the vegetation red edge: red < B05 < B06 < B07 <= NIR; SWIR below NIR on land
    assert refl["B04"] < refl["B05"] < refl["B06"] < refl["B07"] <= refl["B08"] * 1.01
    assert refl["B12"] < refl["B11"] < refl["B08"]
    aot = np.median(cube["AOT"][valid]) / 1000
    wvp = np.median(cube["WVP"][valid]) / 1000
    assert 0.02 < aot < 0.5 and 0.2 < wvp < 5.0


def _item_properties(catalog: Path) -> dict[str, dict]:
    """date -> properties of the first item of that date (ids sort as the merge order)."""
    import json

    folder = catalog.parent if catalog.is_file() else catalog
    items = sorted(folder.rglob("*.json"), key=lambda p: p.stem)
    found: dict[str, dict] = {}
    for path in items:
        document = json.loads(path.read_text())
        if document.get("type") == "Feature":
            found.setdefault(document["properties"]["datetime"][:10], document["properties"])
    return found


def test_angle_bands_are_each_scenes_mean_angles(sample_catalog: Path):
    """Copernicus: a float32 constant per granule from MTD_TL.xml (sun: Mean_Sun_Angle;
    view: Mean_Viewing_Incidence_Angle of band 4); here from the item's view properties,
    on the grid of the other bands, in the order asked."""
    from hybrid.backends.local.loader import LoadRequest, load_s2
    from hybrid.grid import BBox

    bands = ("viewZenithMean", "B04", "sunZenithAngles", "sunAzimuthAngles", "viewAzimuthMean")
    box = BBox(BOX["west"], BOX["south"], BOX["east"], BOX["north"])
    request = LoadRequest(box, "2023-06-01", "2023-06-10", bands, max_cloud_cover=None)
    cube = load_s2(str(sample_catalog), request).cube
    assert list(cube["bands"].values) == list(bands) and cube.dtype == np.float32
    properties = _item_properties(sample_catalog)
    values = cube.values
    assert len(cube["t"]) >= 3 and np.isfinite(values[:, 1]).any()  # B04 alongside
    for k, day in enumerate(np.datetime_as_string(cube["t"].values, unit="D")):
        p = properties[str(day)]
        want = [p["view:incidence_angle"], None, 90 - p["view:sun_elevation"]]
        want += [p["view:sun_azimuth"], p["view:azimuth"]]
        for b, expected in enumerate(want):
            if expected is None:
                continue
            layer = values[k, b]
            assert np.ptp(layer) == 0, (day, bands[b])  # one value over the grid
            np.testing.assert_allclose(layer[0, 0], expected, rtol=1e-6)
    only = load_s2(str(sample_catalog), replace(request, bands=("sunZenithAngles",))).cube
    np.testing.assert_array_equal(only.values[:, 0], values[:, 2])
    assert np.nanmin(values[:, 2]) > 20 and np.nanmax(values[:, 2]) < 40  # June, 45 N
