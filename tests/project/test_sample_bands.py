"""Every SENTINEL2_L2A band the collection advertises (but the four angle bands, which
no STAC provider serves as assets) exists in the embedded sample with plausible values,
at its native resolution, and loads through the local engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hybrid.backends.local.loader import S2_BANDS
from hybrid.collection import band_names
from hybrid.sample.extra_bands import RESOLUTION

ANGLES = {"sunAzimuthAngles", "sunZenithAngles", "viewAzimuthMean", "viewZenithMean"}
BOX = {"west": 6.656, "south": 45.232, "east": 6.672, "north": 45.258}


def test_the_loader_knows_every_advertised_band():
    assert set(band_names()) - ANGLES == set(S2_BANDS)


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
