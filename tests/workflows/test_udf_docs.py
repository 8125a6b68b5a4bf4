"""UDF examples of the openeo Python client's documentation (docs/udf.rst) through the
client against ``hybrid serve``, changed only in area and dates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.client_docs_evi import SMALL_BBOX, _nc
from tests.workflows.raw import DATES, raw_bands

# -- docs/udf.rst ------------------------------------------------------------------------------

#: openeo/udf/udf_signatures.py ``apply_metadata``: a UDF over the bands that returns new
#: bands and says so in its ``apply_metadata``
BANDS_UDF = """
import xarray
from openeo.metadata import CollectionMetadata


def apply_metadata(metadata: CollectionMetadata, context: dict) -> CollectionMetadata:
    return metadata.rename_labels(dimension="bands", target=["ndvi", "ratio"])


def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    red = cube.sel(bands="B04")
    nir = cube.sel(bands="B08")
    return xarray.concat([(nir - red) / (nir + red), nir / red], dim="bands")
"""


def test_apply_dimension_over_bands_with_apply_metadata(connection: Any, tmp_path: Path) -> None:
    """docs/udf.rst "apply_dimension ... all band values for a given pixel" and "UDF's
    that transform cube metadata": the bands are named as ``apply_metadata`` says
    (geopysparkdatacube.py ``apply_metadata``, called from ``_run_udf_dimension``)."""
    import openeo

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    cube.apply_dimension(process=openeo.UDF(BANDS_UDF), dimension="bands").download(
        tmp_path / "bands.nc"
    )
    got = _nc(tmp_path / "bands.nc")
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    red, nir = (raw[b].values.astype(np.float64) for b in ("B04", "B08"))
    assert [str(v) for v in got.data_vars if v != "crs"] == ["ndvi", "ratio"]
    np.testing.assert_allclose(got["ndvi"].values, (nir - red) / (nir + red), rtol=1e-5)
    np.testing.assert_allclose(got["ratio"].values, nir / red, rtol=1e-5)


def test_legacy_apply_dimension_with_code_and_runtime(connection: Any, tmp_path: Path) -> None:
    """docs/udf.rst "openeo.UDF API and usage changes in version 0.13.0": the legacy
    ``cube.apply_dimension(code=udf_code, runtime="Python", dimension="t")`` still works."""
    udf_code = """
import xarray

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    return cube.cumsum(dim="t")
"""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04"]
    )
    with pytest.warns(Warning, match="deprecated"):
        legacy = cube.apply_dimension(code=udf_code, runtime="Python", dimension="t")
    legacy.download(tmp_path / "legacy.nc")
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    want = np.cumsum(raw["B04"].values.astype(np.float64), axis=0)
    np.testing.assert_allclose(_nc(tmp_path / "legacy.nc")["B04"].values, want, rtol=1e-6)


def test_udf_inspect_logging_in_the_job_logs(connection: Any) -> None:
    """docs/udf.rst "Logging from a UDF": ``inspect(data=[cube.shape], message=...)`` in a
    UDF shows in the batch job's logs, with its data (the chunk's bands, y, x)."""
    import openeo

    udf = openeo.UDF("""
from openeo.udf import inspect
import xarray


def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    inspect(data=[cube.shape], message="UDF logging shape of my cube")
    cube.values = 0.0001 * cube.values
    return cube
""")
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES,
        bands=["B02", "B03", "B04"],
    )  # fmt: skip
    job = cube.apply(process=udf).create_job(out_format="netCDF")
    job.start_and_wait(max_poll_interval=1, print=lambda *a, **k: None)
    logged = [e for e in job.logs() if e["message"] == "UDF logging shape of my cube"]
    assert logged, job.logs()
    for entry in logged:
        assert entry["level"] == "info" and entry["code"] == "User"
        bands, rows, cols = entry["data"][0]
        assert bands == 3 and rows * cols > 0
