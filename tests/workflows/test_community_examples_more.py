"""More workflows of the openEO community examples (github.com/Open-EO/openeo-community-examples,
``python/`` and the UDPs of ``processes/``) through the openeo client against
``hybrid serve``, changed only in URL, AOI and dates (other collections left out).

Each test holds the notebook's client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.raw import BBOX, finite_share, raw_bands, read_tiff


def _quiet(func: Any, values: np.ndarray, **kwargs: Any) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = func(values, **kwargs)
    return out


def _inside(raw: Any, polygon: Any) -> np.ndarray:
    """(y, x) booleans: the pixel centres of ``raw`` (UTM) inside a lon/lat polygon."""
    import shapely
    from pyproj import Transformer
    from shapely.ops import transform

    to = Transformer.from_crs(4326, int(raw.attrs["hybrid_epsg"]), always_xy=True).transform
    utm = transform(to, polygon)
    xx, yy = np.meshgrid(raw["x"].values, raw["y"].values)
    out: np.ndarray = shapely.contains_xy(utm, xx, yy)
    return out


#: a pentagon: the sample's BBOX with its north-west corner cut off
_W, _S, _E, _N = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
PENTAGON = [[_W, _S], [_E, _S], [_E, _N], [(_W + _E) / 2, _N], [_W, (_S + _N) / 2], [_W, _S]]

NBR_UDF = """
from openeo.udf import XarrayDataCube


def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    # access the underlying xarray
    inarr = cube.get_array()

    # nbr
    nir = inarr.loc[:,'B08']
    swir = inarr.loc[:,'B12']
    nbr = (nir-swir)/(nir+swir)
    
    # extend bands dim
    nbr=nbr.expand_dims(dim='bands', axis=-3).assign_coords(bands=['nbr'])
    
    # wrap back to datacube and return
    return XarrayDataCube(nbr)
"""  # noqa: W293  (the notebook's UDF as written)


@pytest.mark.slow
def test_burnt_mapping_nbr_udf_per_polygon(connection: Any, tmp_path: Path) -> None:
    """python/BurntMapping/burntmapping.ipynb: two loads without spatial extent, NBR by a
    UDF through ``apply_polygon`` on a FeatureCollection of one MultiPolygon (the load's
    extent comes from it), ``reduce_dimension(t, mean)``, after minus before, GeoTIFF.
    Pixels whose centre is outside the polygon are no data."""
    from shapely.geometry import Polygon

    before_date = ["2023-06-10", "2023-06-20"]
    after_date = ["2023-06-20", "2023-07-05"]
    before_cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=before_date, bands=["B08", "B12"]
    )
    after_cube = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=after_date,
        bands=["B08", "B12"],
    )
    udf_process = lambda data: data.run_udf(udf=NBR_UDF, runtime="python")  # noqa: E731
    spatial_param = {
        "type": "FeatureCollection",
        "name": "cal_aoi_v2",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"id": 1},
                "geometry": {"type": "MultiPolygon", "coordinates": [[PENTAGON]]},
            }
        ],
    }
    pre_nbr = before_cube.apply_polygon(geometries=spatial_param, process=udf_process)
    post_nbr = after_cube.apply_polygon(geometries=spatial_param, process=udf_process)
    pre_n = pre_nbr.reduce_dimension(dimension="t", reducer="mean")
    post_n = post_nbr.reduce_dimension(dimension="t", reducer="mean")
    sub = post_n - pre_n
    sub.download(tmp_path / "sub_nbr_udf.tiff")
    img = read_tiff(tmp_path / "sub_nbr_udf.tiff")

    def mean_nbr(dates: list[str], name: str) -> Any:
        raw = raw_bands(connection, ["B08", "B12"], tmp_path / name, dates=dates)
        n, s = raw["B08"].values.astype(np.float32), raw["B12"].values.astype(np.float32)
        with np.errstate(all="ignore"):
            return raw, _quiet(np.nanmean, (n - s) / (n + s), axis=0)

    raw, before = mean_nbr(before_date, "pre.nc")
    _, after = mean_nbr(after_date, "post.nc")
    inside = _inside(raw, Polygon(PENTAGON))
    want = np.where(inside, after - before, np.nan)
    assert img.shape == (1, *want.shape)
    assert 0.6 < inside.mean() < 0.95
    np.testing.assert_allclose(img[0], want, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert finite_share(img) > 0.5
