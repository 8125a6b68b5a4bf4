"""UDFs through the real openeo client against ``hybrid serve``.

The examples of the openeo-python-client docs (docs/udf.rst, docs/examples/udf/) and of
CDSE's UDF notebook (eu-cdse/notebook-samples openeo/UDF.ipynb) run unchanged but for
the area and dates (the embedded sample's); each result equals
``openeo.udf.run_udf_code`` on the downloaded input. Then the confinement: time limit,
the server's data folder, another user's results, syntax errors, other runtimes.
Every UDF starts a worker process (several seconds on a busy machine): all slow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.server.udf_serve import (
    BBOX,
    DATES,
    RESCALE_UDF,
    UDF_TIMEOUT,
    _connect,
    _openeo_home,  # noqa: F401 (autouse)
    _s2,
    _serve,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(sample_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with _serve(tmp_path_factory.mktemp("udf-serve"), sample_catalog, UDF_TIMEOUT) as serve:
        yield serve


#: docs/examples/udf/smooth_savitzky_golay.py
SAVGOL_UDF = """
import xarray
from scipy.signal import savgol_filter

from openeo.udf import XarrayDataCube


def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    array: xarray.DataArray = cube.get_array()
    filled = array.interpolate_na(dim="t")
    smoothed_array = savgol_filter(filled.values, 5, 2, axis=0)
    return XarrayDataCube(array=xarray.DataArray(smoothed_array, dims=array.dims, coords=array.coords))
"""  # noqa: E501


#: a reducer over t: "should return an Xarray DataArray without the dimension"
REDUCE_UDF = """
import xarray

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    return cube.max(dim="t") * context["factor"]
"""


#: a 3x3 maximum: exact on tiles whose overlap covers the window
NEIGHBORHOOD_UDF = """
import numpy as np
import xarray
from scipy.ndimage import maximum_filter

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    values = np.nan_to_num(cube.values, nan=-np.inf)
    size = [1] * (cube.ndim - 2) + [3, 3]
    out = maximum_filter(values, size=size, mode="constant", cval=-np.inf)
    return cube.copy(data=np.where(np.isinf(out), np.nan, out))
"""


#: CDSE's notebook
CDSE_UDF = """
from openeo.udf import XarrayDataCube

def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    array = cube.get_array()
    array.values = 0.0001 * array.values
    return cube
"""


def _local_udf(code: str, path: Path, context: dict[str, Any] | None = None) -> Any:
    """``openeo.udf.run_udf_code`` on a downloaded cube, as a user debugs a UDF."""
    from openeo.udf import UdfData, XarrayDataCube
    from openeo.udf.run_code import run_udf_code

    cube = XarrayDataCube.from_file(path, fmt="netcdf")
    data = UdfData(datacube_list=[cube], user_context=context or {})
    return run_udf_code(code=code, data=data).get_datacube_list()[0].get_array()


def _open(path: Path) -> Any:
    from openeo.udf import XarrayDataCube

    return XarrayDataCube.from_file(path, fmt="netcdf").get_array()


def _same(result: Any, expected: Any) -> None:
    expected = expected.transpose(*result.dims)
    np.testing.assert_allclose(result.values, expected.values, rtol=1e-6, equal_nan=True)
    assert np.isfinite(result.values).any()


def test_udf_runtimes_lists_python_and_its_libraries(server: Any) -> None:
    import openeo
    import xarray

    runtimes = openeo.connect(server.url).list_udf_runtimes()
    python = runtimes["Python"]
    assert python["default"] == "3"
    libraries = python["versions"]["3"]["libraries"]
    assert libraries["xarray"]["version"] == xarray.__version__
    assert libraries["openeo"]["version"] == openeo.__version__


def test_apply_rescale_udf_matches_run_udf_code(server: Any, tmp_path: Path) -> None:
    import openeo

    s2_cube = _s2(_connect(server), ["B02", "B03", "B04"])
    s2_cube.download(tmp_path / "input.nc")
    udf = openeo.UDF(RESCALE_UDF)
    rescaled = s2_cube.apply(process=udf)
    rescaled.download(tmp_path / "apply-udf-scaling.nc")
    _same(_open(tmp_path / "apply-udf-scaling.nc"), _local_udf(RESCALE_UDF, tmp_path / "input.nc"))


SWAP_AND_ADD_UDF = """
import xarray
def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    swapped = cube.sel(bands=["B08", "B04"])
    ratio = (cube.sel(bands="B08") / cube.sel(bands="B04")).expand_dims(bands=["ratio"])
    return xarray.concat([swapped, ratio.transpose(*swapped.dims)], dim="bands")
"""


def test_a_udf_keeps_the_cubes_band_names_as_on_copernicus(server: Any, tmp_path: Path) -> None:
    """Without ``apply_metadata`` Copernicus keeps the cube's band metadata
    (geopysparkdatacube.py ``apply_tiles`` L935-938) and its netCDF writer names a band
    beyond it ``unkown_band_<i>`` (NetCDFRDDWriter.scala L176-181): the UDF's B08, B04,
    ratio are written as B04, B08, unkown_band_2 (with B08's values under B04). They were
    the UDF's names. ``apply_metadata`` names them."""
    import openeo
    import rasterio

    cube = _s2(_connect(server), ["B04", "B08"])
    cube.download(tmp_path / "input.nc")
    cube.apply_dimension(openeo.UDF(SWAP_AND_ADD_UDF), dimension="bands").download(
        tmp_path / "swapped.nc"
    )
    raw = _open(tmp_path / "input.nc")
    got = _open(tmp_path / "swapped.nc")
    assert list(got["bands"].values) == ["B04", "B08", "unkown_band_2"]
    _same(got.sel(bands="B04"), raw.sel(bands="B08"))
    # its GTiff writer describes the metadata's bands only (geopysparkdatacube.py L2305-2312)
    swapped = cube.apply_dimension(openeo.UDF(SWAP_AND_ADD_UDF), dimension="bands")
    swapped.download(tmp_path / "swapped.tif", format="GTiff")
    with rasterio.open(tmp_path / "swapped.tif") as src:
        assert src.descriptions == ("B04", "B08", None)
    named = SWAP_AND_ADD_UDF + (
        "def apply_metadata(metadata, context):\n"
        "    return metadata.rename_labels('bands', target=['nir', 'red', 'ratio'])\n"
    )
    cube.apply_dimension(openeo.UDF(named), dimension="bands").download(tmp_path / "named.nc")
    assert list(_open(tmp_path / "named.nc")["bands"].values) == ["nir", "red", "ratio"]


def test_apply_dimension_savitzky_golay_matches_run_udf_code(server: Any, tmp_path: Path) -> None:
    import openeo

    cube = _s2(_connect(server), ["B04", "B08"]).ndvi(red="B04", nir="B08")
    cube.download(tmp_path / "input.nc")
    (tmp_path / "smooth_savitzky_golay.py").write_text(SAVGOL_UDF)
    smoothing_udf = openeo.UDF.from_file(tmp_path / "smooth_savitzky_golay.py")
    smoothed = cube.apply_dimension(smoothing_udf, dimension="t")
    smoothed.download(tmp_path / "smoothed.nc")
    result = _open(tmp_path / "smoothed.nc")
    assert result.sizes["t"] == 7
    _same(result, _local_udf(SAVGOL_UDF, tmp_path / "input.nc"))


def test_reduce_dimension_udf_with_context_matches_run_udf_code(
    server: Any, tmp_path: Path
) -> None:
    import openeo

    cube = _s2(_connect(server), ["B04", "B08"])
    cube.download(tmp_path / "input.nc")
    udf = openeo.UDF(REDUCE_UDF, context={"from_parameter": "context"})
    reduced = cube.reduce_dimension(reducer=udf, dimension="t", context={"factor": 2})
    reduced.download(tmp_path / "reduced.nc")
    result = _open(tmp_path / "reduced.nc")
    assert "t" not in result.dims
    _same(result, _local_udf(REDUCE_UDF, tmp_path / "input.nc", {"factor": 2}))


def test_apply_neighborhood_udf_with_overlap_matches_run_udf_code(
    server: Any, tmp_path: Path
) -> None:
    import openeo

    connection = _connect(server)
    cube = _s2(connection, ["B04"])
    # the overlap is loaded beyond the extent and cropped off at save_result, as
    # Copernicus's dry run buffers the load (dry_run.py L909-924): the pixels at the edge
    # see their real neighbours, so the reference runs on a wider download
    pad = 0.0005  # > 2 pixels of 10 m
    wide = {"west": BBOX["west"] - pad, "south": BBOX["south"] - pad,
            "east": BBOX["east"] + pad, "north": BBOX["north"] + pad}  # fmt: skip
    connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=wide, temporal_extent=DATES, bands=["B04"]
    ).download(tmp_path / "input.nc")
    udf = openeo.UDF(NEIGHBORHOOD_UDF)
    output_cube = cube.apply_neighborhood(
        udf,
        size=[{"dimension": "x", "value": 16, "unit": "px"},
              {"dimension": "y", "value": 16, "unit": "px"}],
        overlap=[{"dimension": "x", "value": 2, "unit": "px"},
                 {"dimension": "y", "value": 2, "unit": "px"}],
    )  # fmt: skip
    output_cube.download(tmp_path / "neighborhood.nc")
    result = _open(tmp_path / "neighborhood.nc")
    expected = _local_udf(NEIGHBORHOOD_UDF, tmp_path / "input.nc")
    _same(result, expected.sel(x=result["x"].values, y=result["y"].values))


def test_cdse_notebook_udf_matches_run_udf_code(server: Any, tmp_path: Path) -> None:
    import openeo
    import rasterio

    connection = _connect(server)
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        bands=["B04", "B03", "B02"],
        temporal_extent=tuple(DATES),
        spatial_extent={**BBOX, "crs": "EPSG:4326"},
        max_cloud_cover=50,
    )
    cube = cube.reduce_dimension(dimension="t", reducer="max")
    cube.download(tmp_path / "input.nc")
    udf = openeo.UDF(CDSE_UDF)
    rescaled_cube = cube.apply(process=udf)
    rescaled_cube.download(tmp_path / "rescale_s2.tiff")
    with rasterio.open(tmp_path / "rescale_s2.tiff") as src:
        img = src.read()
    expected = _local_udf(CDSE_UDF, tmp_path / "input.nc").transpose("bands", "y", "x")
    np.testing.assert_allclose(img, expected.values, rtol=1e-6, equal_nan=True)
