"""The openeo Python client's docs/udf.rst "UDF's that transform cube metadata": the
``udf_modify_spatial.py`` example (docs/examples/udf/udf_modify_spatial.py, verbatim)
through ``apply_neighborhood`` with 128 px chunks, runtime Python, against
``hybrid serve``, changed only in URL, AOI and dates.

The UDF doubles the pixels of every chunk; Copernicus keeps each chunk's extent, so the
cube gets 5 m pixels over the same extent (openeo-geopyspark-driver
``geopysparkdatacube.py`` ``apply_neighborhood`` L1382-1395). The example labels its
``(bands, y, x)`` array ``(bands, x, y)``, and Copernicus orders the result by those
names (``apply_tiles_spatiotemporal``: ``transpose("bands", "y", "x")``), so each chunk
comes back transposed: the check below says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.workflows.raw import raw_bands

#: docs/examples/udf/udf_modify_spatial.py
UDF_MODIFY_SPATIAL = """
import numpy as np
import xarray

from openeo.metadata import CollectionMetadata
from openeo.udf.debug import inspect


def apply_metadata(input_metadata: CollectionMetadata, context: dict) -> CollectionMetadata:
    res= [ d.step / 2.0 for d in input_metadata.spatial_dimensions]
    return input_metadata.resample_spatial(resolution=res)


def fancy_upsample_function(array: np.array, factor: int = 2) -> np.array:
    assert array.ndim == 3
    return array.repeat(factor, axis=-1).repeat(factor, axis=-2)


def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    cubearray: xarray.DataArray = cube.copy() + 60

    # We make prediction and transform numpy array back to datacube

    # Pixel size of the original image
    init_pixel_size_x = cubearray.coords["x"][-1].item() - cubearray.coords["x"][-2].item()
    init_pixel_size_y = cubearray.coords["y"][-1].item() - cubearray.coords["y"][-2].item()

    if cubearray.data.ndim == 4 and cubearray.data.shape[0] == 1:
        cubearray = cubearray[0]
    predicted_array = fancy_upsample_function(cubearray.data, 2)
    inspect(data=predicted_array, message=f"predicted array")
    coord_x = np.linspace(
        start=cube.coords["x"][0].item(),
        stop=cube.coords["x"][-1].item() + init_pixel_size_x,
        num=predicted_array.shape[-2],
        endpoint=False,
    )
    coord_y = np.linspace(
        start=cube.coords["y"].min().item(),
        stop=cube.coords["y"].max().item() + init_pixel_size_y,
        num=predicted_array.shape[-1],
        endpoint=False,
    )
    predicted_cube = xarray.DataArray(
        predicted_array,
        dims=["bands", "x", "y"],
        coords=dict(x=coord_x, y=coord_y),
    )

    return predicted_cube
"""

#: a few pixels of the seed field, one date (the example's UDF takes one date only)
BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6660, "north": 45.2410}
DATE = ["2023-06-12", "2023-06-13"]
CHUNK = 128


def test_udf_modify_spatial_doubles_the_resolution(connection: Any, tmp_path: Path) -> None:
    import openeo
    import rasterio

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATE, bands=["B04", "B08"]
    )
    udf = openeo.UDF(UDF_MODIFY_SPATIAL, runtime="Python")
    cube_updated = cube.apply_neighborhood(
        udf,
        size=[
            {"dimension": "x", "value": CHUNK, "unit": "px"},
            {"dimension": "y", "value": CHUNK, "unit": "px"},
        ],
        overlap=[],
    )
    cube_updated.download(tmp_path / "upsampled.tif", format="GTiff")

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=BBOX, dates=DATE)
    assert raw.sizes["t"] == 1
    ny, nx = raw.sizes["y"], raw.sizes["x"]
    assert 4 <= ny < CHUNK and 4 <= nx < CHUNK
    # the chunk the UDF got: the bands, no-data beyond the cube up to 128 x 128
    chunk = np.full((2, CHUNK, CHUNK), np.nan)
    chunk[:, :ny, :nx] = [raw[b].values[0] for b in ("B04", "B08")]
    upsampled = (chunk + 60).repeat(2, axis=-1).repeat(2, axis=-2)
    want = upsampled.transpose(0, 2, 1)[:, : 2 * ny, : 2 * nx]

    with rasterio.open(tmp_path / "upsampled.tif") as ds:
        got = ds.read().astype(np.float64)
        if ds.nodata is not None and not np.isnan(ds.nodata):
            got[got == ds.nodata] = np.nan
        transform, shape = ds.transform, (ds.height, ds.width)
    xs, ys = raw["x"].values, raw["y"].values
    assert (transform.a, transform.e) == (5.0, -5.0)
    assert (transform.c, transform.f) == (xs[0] - 5.0, ys[0] + 5.0)  # the extent kept
    assert shape == (2 * ny, 2 * nx)
    np.testing.assert_allclose(got, want, equal_nan=True)
    assert np.isfinite(got).mean() > 0.3
