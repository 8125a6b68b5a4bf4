"""openeo-geopyspark-driver's own result tests (tests/test_api_result.py at 9baf2e10,
L1990-L2936 and L4943-L5288) replayed on ``hybrid serve`` with the real openeo client.

The driver sends each graph to itself on the synthetic ``TestCollection-LonLat4x4`` /
``-LonLat16x16``; here the same data are COGs of a static STAC collection
(:mod:`tests.workflows.lonlat_collection`), read with ``load_stac`` where the driver
says ``load_collection``, and the driver's expectations are asserted as written. Its
geometry files (tests/data/geometries/FeatureCollection*.json) are inlined below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.workflows.lonlat_collection import write_lonlat_collection
from tests.workflows.lonlat_graphs import FEATURES_FILE, box, features, point

#: TestAggregateSpatial._load_cube (L2199-L2211)
TIMES = ["2021-01-01", "2021-02-01"]
BANDS = ["Day", "Longitude", "Latitude"]
DEFAULT_EXTENT = {"west": 0, "south": 0, "east": 8, "north": 5}


def drop_empty(result: dict[str, Any]) -> dict[str, Any]:
    """The driver's ``drop_empty_from_aggregate_polygon_result`` (openeogeotrellis/utils.py
    L569-L576): dates where every geometry is empty are left out."""
    return {k: v for k, v in result.items() if not all(x == [] for x in v)}


def per_date(rows: list[list[float]]) -> dict[str, list[list[float]]]:
    """The driver's expectation for the three January dates: ``Day`` first, then ``rows``."""
    return {
        f"2021-01-{day:02d}T00:00:00Z": [[float(day), *row] for row in rows] for day in (5, 15, 25)
    }


#: the heterogeneous geometries of L2272-L2278 and their [lon, lat] means (L2283-L2305)
MIXED = [
    point(1.2, 2.3),
    point(3.7, 4.2),
    box(3.1, 1.2, 4.9, 2.8),
    point(4.5, 3.8),
    box(5.6, 0.2, 7.4, 3.8),
]
MIXED_MEANS = [[1.0, 2.25], [3.5, 4.0], [3.875, 1.875], [4.5, 3.75], [6.375, 1.875]]


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("driver-lonlat4x4")
    return str(write_lonlat_collection(root, ("2021-01-01", "2021-03-01"), box=(0, 0, 8, 8)))


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.server_helpers import local_connection

    with local_connection(tmp_path_factory.mktemp("driver-results-data")) as con:
        yield con


def load(connection: Any, collection: str, extent: Any = "default", **kwargs: Any) -> Any:
    """The driver's ``load_collection`` of TestCollection-LonLat4x4 as ``load_stac``; the
    extent ``None`` of the tests' ``load_collection_spatial_extent`` parameter loads all."""
    extent = DEFAULT_EXTENT if extent == "default" else extent
    kwargs.setdefault("temporal_extent", TIMES)
    kwargs.setdefault("bands", BANDS)
    return connection.load_stac(collection, spatial_extent=extent, **kwargs)


@pytest.mark.parametrize("extent", ["default", None])
@pytest.mark.parametrize(
    ("geometry", "means"),
    [
        (point(2.2, 2.2), [2.0, 2.0]),
        (point(5.5, 3.3), [5.5, 3.25]),
        (point(3.9, 4.6), [3.75, 4.5]),
        (box(3.1, 1.2, 4.9, 2.8), [3.875, 1.875]),
        (box(0.4, 3.2, 2.8, 4.8), [1.5, 3.875]),
        (box(5.6, 0.2, 7.4, 3.8), [6.375, 1.875]),
    ],
)
def test_aggregate_single_geometry(
    connection: Any, collection: str, extent: Any, geometry: dict, means: list[float]
) -> None:
    """TestAggregateSpatial.test_aggregate_single_geometry (L2214-L2249): a point takes
    its pixel (Longitude/Latitude: the pixel's west/south edge), a polygon the mean of
    the pixels whose centre it holds; with or without a load extent."""
    cube = load(connection, collection, extent).aggregate_spatial(geometry, "mean")
    assert drop_empty(connection.execute(cube.flat_graph())) == per_date([means])


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        (point(1.2, 2.3), (1, 1, 2.25)),
        (point(2.7, 4.9), (1, 2.5, 4.75)),
        (box(3.1, 1.2, 4.9, 2.8), (48, 3.0, 1.25)),
        (box(5.6, 0.2, 7.4, 3.8), (112, 5.5, 0.25)),
    ],
)
def test_aggregate_single_geometry_multiple_aggregations(
    connection: Any, collection: str, geometry: dict, expected: tuple[float, float, float]
) -> None:
    """test_aggregate_single_geometry_multiple_aggregations (L2251-L2266): the reducer
    ``array_create([min, count])`` gives per band min then count, bands in order."""
    from openeo.processes import array_create, count, min

    cube = load(connection, collection).aggregate_spatial(
        geometry, lambda data: array_create([min(data), count(data)])
    )
    c, o, a = expected
    assert connection.execute(cube.flat_graph()) == {
        f"2021-01-{d:02d}T00:00:00Z": [[float(d), c, o, c, a, c]] for d in (5, 15, 25)
    }


def test_aggregate_heterogeneous_geometry_collection(connection: Any, collection: str) -> None:
    """test_aggregate_heterogeneous_geometry_collection (L2268-L2311): a GeometryCollection
    of points and polygons, one row per member in order."""
    collection_of = {"type": "GeometryCollection", "geometries": MIXED}
    cube = load(connection, collection).aggregate_spatial(collection_of, "mean")
    assert connection.execute(cube.flat_graph()) == per_date(MIXED_MEANS)


@pytest.mark.parametrize("extent", ["default", None])
@pytest.mark.parametrize(
    ("geometry", "means"),
    [(point(1.2, 2.3), [1.0, 2.25]), (box(3.1, 1.2, 4.9, 2.8), [3.875, 1.875])],
)
def test_aggregate_feature_with_single_geometry(
    connection: Any, collection: str, extent: Any, geometry: dict, means: list[float]
) -> None:
    """test_aggregate_feature_with_single_geometry (L2313-L2327): one GeoJSON Feature."""
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    cube = load(connection, collection, extent).aggregate_spatial(feature, "mean")
    assert drop_empty(connection.execute(cube.flat_graph())) == per_date([means])


@pytest.mark.parametrize("extent", ["default", None])
@pytest.mark.parametrize(
    ("geometries", "means"),
    [
        # test_aggregate_feature_collection_of_points (L2329-L2356)
        (
            [point(1.2, 2.3), point(3.7, 4.2), point(4.5, 3.8)],
            [[1.0, 2.25], [3.5, 4.0], [4.5, 3.75]],
        ),
        # test_aggregate_feature_collection_of_polygons (L2358-L2384, default extent)
        (
            [box(3.1, 1.2, 4.9, 2.8), box(0.4, 3.2, 2.8, 4.8), box(5.6, 0.2, 7.4, 3.8)],
            [[3.875, 1.875], [1.5, 3.875], [6.375, 1.875]],
        ),
        # test_aggregate_feature_collection_heterogeneous (L2386-L2422)
        (MIXED, MIXED_MEANS),
        # test_aggregate_geometry_from_file (L2465-L2476): FeatureCollection.geojson
        ([f["geometry"] for f in FEATURES_FILE["features"]], [[0.375, 0.25], [1.625, 1.625]]),
    ],
    ids=["points", "polygons", "heterogeneous", "from_file"],
)
def test_aggregate_feature_collection(
    connection: Any, collection: str, extent: Any, geometries: list, means: list
) -> None:
    """The FeatureCollection cases of TestAggregateSpatial: one row per feature, in the
    collection's order, with or without a load extent."""
    cube = load(connection, collection, extent).aggregate_spatial(features(*geometries), "mean")
    assert drop_empty(connection.execute(cube.flat_graph())) == per_date(means)


def test_aggregate_feature_collection_heterogeneous_multiple_aggregations(
    connection: Any, collection: str
) -> None:
    """test_aggregate_feature_collection_heterogeneous_multiple_aggregations (L2424-L2463)."""
    from openeo.processes import array_create, count, min

    cube = load(connection, collection).aggregate_spatial(
        features(*MIXED), lambda data: array_create([min(data), count(data)])
    )
    rows = [
        [1.0, 1.0, 1.0, 2.25, 1.0],
        [1.0, 3.5, 1.0, 4.0, 1.0],
        [48.0, 3.0, 48.0, 1.25, 48.0],
        [1.0, 4.5, 1.0, 3.75, 1.0],
        [112.0, 5.5, 112.0, 0.25, 112.0],
    ]
    assert connection.execute(cube.flat_graph()) == per_date(rows)


def _two_date_pixels(root: Any, values: tuple[float, float]) -> str:
    """A static collection of one 2 x 2 px float32 band (nodata -1) on two dates whose
    pixels all hold ``values``: TestMultipleDates._single_pixel_layer (tests/
    test_multiple_date.py L286-L313, one pixel, cellType float32ud-1.0)."""
    import numpy as np
    from affine import Affine

    from hybrid.sample.cog import write_cog
    from tests.workflows.lonlat_collection import EO

    links = []
    for value, when in zip(values, ("2016-04-24", "2017-04-24"), strict=True):
        path = root / f"pixel-{when}.tif"
        data = np.full((2, 2), value, dtype="float32")
        write_cog(path, data, transform=Affine(0.5, 0, 0, 0, -0.5, 1), crs=4326, nodata=-1.0)
        item = {
            "type": "Feature", "stac_version": "1.0.0", "stac_extensions": [EO],
            "id": f"pixel-{when}", "geometry": box(0, 0, 1, 1), "bbox": [0, 0, 1, 1],
            "properties": {"datetime": f"{when}T04:00:00Z", "proj:epsg": 4326}, "links": [],
            "assets": {"data": {"href": f"./{path.name}", "roles": ["data"],
                                "type": "image/tiff; application=geotiff",
                                "eo:bands": [{"name": "band"}], "proj:epsg": 4326,
                                "proj:shape": [2, 2], "proj:transform": [0.5, 0, 0, 0, -0.5, 1]}},
        }  # fmt: skip
        (root / f"pixel-{when}.json").write_text(json.dumps(item))
        links.append({"rel": "item", "href": f"./pixel-{when}.json"})
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "stac_extensions": [EO], "id": "pixels",
        "description": "two dates", "license": "proprietary", "links": links,
        "extent": {"spatial": {"bbox": [[0, 0, 1, 1]]},
                   "temporal": {"interval": [["2016-01-01T00:00:00Z", None]]}},
    }  # fmt: skip
    (root / "collection.json").write_text(json.dumps(collection))
    return str(root / "collection.json")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # test_reduce_all_data (L214-L238): 1 and 5
        (
            (1.0, 5.0),
            {"min": 1.0, "max": 5.0, "sum": 6.0, "mean": 3.0, "variance": 8.0, "sd": 2.8284271},
        ),
        # test_reduce_some_nodata (L240-L268): nodata and 5: one value, no variance
        (
            (-1.0, 5.0),
            {"min": 5.0, "max": 5.0, "sum": 5.0, "mean": 5.0, "variance": None, "sd": None},
        ),
    ],
    ids=["all_data", "some_nodata"],
)
def test_reduce_time(
    connection: Any, tmp_path_factory: pytest.TempPathFactory, values: tuple, expected: dict
) -> None:
    """TestMultipleDates.test_reduce_all_data / test_reduce_some_nodata (tests/
    test_multiple_date.py): reduce_dimension over t skips nodata; variance and sd are the
    sample ones (n - 1), NaN for a single value."""
    import numpy as np

    url = _two_date_pixels(tmp_path_factory.mktemp("driver-pixels"), values)
    for name, want in expected.items():
        cube = connection.load_stac(
            url, spatial_extent={"west": 0, "south": 0, "east": 1, "north": 1}
        )
        cube = cube.reduce_dimension("t", reducer=name)
        got = np.array(connection.execute(cube.save_result("json").flat_graph())["data"], float)
        if want is None:
            assert np.isnan(got).all(), name
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)
