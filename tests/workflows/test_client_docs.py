"""Examples of the openeo Python client's own documentation
(github.com/Open-EO/openeo-python-client, docs/) through the client against
``hybrid serve``, changed only in URL, AOI and dates.

Each test holds the documented client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import DATES, raw_bands

#: a few pixels of the seed field (a callback that multiplies the band count by the
#: pixel count stays small enough to fail fast)
SMALL_BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6645, "north": 45.2404}


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def test_append_indices_adds_the_indices_as_bands(connection: Any, tmp_path: Path) -> None:
    """docs/cookbook/spectral_indices.rst: ``append_indices`` keeps the bands and adds one
    per index (``apply_dimension`` over bands with ``array_modify``, then
    ``rename_labels``), as Copernicus's arrayModifyFunction inserts the values."""
    from openeo.extra.spectral_indices import append_indices

    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=SMALL_BBOX,
        temporal_extent=DATES,
        bands=["B02", "B04", "B08"],
    )
    cube = append_indices(cube, ["NDVI", "EVI"])
    cube.download(tmp_path / "indices.nc", format="netCDF")
    got = _nc(tmp_path / "indices.nc")

    raw = raw_bands(connection, ["B02", "B04", "B08"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    b, r, n = (raw[x].values.astype(np.float64) for x in ("B02", "B04", "B08"))
    assert [str(v) for v in got.data_vars if v != "crs"] == ["B02", "B04", "B08", "NDVI", "EVI"]
    for band, values in (("B02", b), ("B04", r), ("B08", n)):
        np.testing.assert_array_equal(got[band].values, values)
    with np.errstate(all="ignore"):  # on the digital numbers: the client does not rescale
        ndvi = (n - r) / (n + r)
        evi = 2.5 * (n - r) / (n + 6.0 * r - 7.5 * b + 1.0)
    np.testing.assert_allclose(got["NDVI"].values, ndvi, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(got["EVI"].values, evi, rtol=1e-5, equal_nan=True)
