"""openeo-geopyspark-driver's TestVectorCubeRunUdf (tests/test_api_result.py at 9baf2e10,
L2479-L2935): ``run_udf`` on the vector cube of ``aggregate_spatial``, replayed on
``hybrid serve`` with the real openeo client over the static STAC copy of
TestCollection-LonLat4x4 (:mod:`tests.workflows.lonlat_collection`).

The driver answers a vector cube transformed by ``udf_apply_udf_data`` /
``udf_apply_feature_dataframe`` as pandas' ``split`` JSON (columns, index, data); its
tests compare ``columns`` exactly and ``data`` in any order (``DictSubSet``,
``IgnoreOrder``), and so do these. Left out: ``test_legacy_run_in_executor`` (L2522-L2554:
which process runs the UDF, a Spark internal).
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from tests.workflows.lonlat_graphs import box, features
from tests.workflows.test_geopyspark_driver_results_more import collection, connection, load

__all__ = ["collection", "connection"]


def polygon_of(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


#: tests/data/geometries/FeatureCollection02.json: two triangles
TRIANGLES = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": props, "geometry": polygon}
        for props, polygon in (
            ({"id": "first", "pop": 1234}, polygon_of([[1, 1], [3, 1], [2, 3], [1, 1]])),
            ({"id": "second", "pop": 5678}, polygon_of([[4, 2], [5, 4], [3, 4], [4, 2]])),
        )
    ],
}  # fmt: skip

#: tests/data/geometries/FeatureCollection03.json: four rectangles (properties left out:
#: no value of these tests depends on them)
RECTANGLES = features(box(1, 1, 3, 3), box(4, 2, 7, 4), box(2, 4, 3, 8), box(5, 0, 6, 1))

JANUARY = ("2021-01-01", "2021-02-01")


def run_udf(connection: Any, collection: str, udf: str, **kwargs: Any) -> Any:
    """TestVectorCubeRunUdf._load_cube (L2487-L2501, extent 0..8 x 0..8) aggregated over
    ``geometries`` with ``reducer``, then ``run_udf``; the synchronous JSON answer."""
    import openeo

    geometries = kwargs.pop("geometries", RECTANGLES)
    reducer = kwargs.pop("reducer", "min")
    extent = {"west": 0, "south": 0, "east": 8, "north": 8}
    cube = load(connection, collection, extent, temporal_extent=kwargs.pop("times", JANUARY))
    aggregates = cube.aggregate_spatial(geometries, reducer)
    processed = openeo.processes.run_udf(aggregates, udf=textwrap.dedent(udf), runtime="Python")
    return connection.execute(processed.flat_graph())


def assert_split(result: Any, columns: list[Any], rows: list[list[Any]]) -> None:
    """``DictSubSet(columns=..., data=IgnoreOrder(...))``."""
    assert result["columns"] == columns
    assert sorted(result["data"], key=repr) == sorted(rows, key=repr)


def test_legacy_simple(connection: Any, collection: str) -> None:
    """test_legacy_simple (L2503-L2520): ``apply_udf_data`` setting structured data: the
    answer is that data."""
    udf = """
        from openeo.udf import UdfData, StructuredData
        def apply_udf_data(data: UdfData):
            data.set_feature_collection_list(None)
            data.set_structured_data_list([
                StructuredData([1, 1, 2, 3, 5, 8]),
            ])
    """
    assert run_udf(connection, collection, udf) == [1, 1, 2, 3, 5, 8]


def test_udf_apply_udf_data_scalar(connection: Any, collection: str) -> None:
    """test_udf_apply_udf_data_scalar (L2556-L2588): one float per geometry, column 0."""
    udf = """
        from openeo.udf import UdfData

        def udf_apply_udf_data(udf_data: UdfData) -> float:
            data = udf_data.get_structured_data_list()[0].data
            assert isinstance(data, dict)
            ((_, lon, lat),) = data["2021-01-05T00:00:00.000Z"]
            return 1000 * lon + lat
    """
    rows = [[0, 1001.0], [1, 4002.0], [2, 2004.0], [3, 5000.0]]
    assert_split(run_udf(connection, collection, udf), ["feature_index", 0], rows)


def test_udf_apply_udf_data_reduce_bands(connection: Any, collection: str) -> None:
    """test_udf_apply_udf_data_reduce_bands (L2590-L2624): a dict of dates per geometry
    becomes rows (feature_index, index = the date, 0)."""
    udf = """
        from openeo.udf import UdfData, StructuredData

        def udf_apply_udf_data(udf_data: UdfData) -> UdfData:
            data = udf_data.get_structured_data_list()[0].data
            data = {date: [sum(bands) for bands in rows] for date, rows in data.items()}
            return UdfData(structured_data_list=[StructuredData(data)])
    """
    result = run_udf(connection, collection, udf, times=("2021-01-01", "2021-01-20"))
    sums = {0: 1 + 1, 1: 4 + 2, 2: 2 + 4, 3: 5 + 0}
    rows = [
        [f, f"2021-01-{day:02d}T00:00:00.000Z", day + s] for f, s in sums.items() for day in (5, 15)
    ]
    assert_split(result, ["feature_index", "index", 0], rows)


def test_udf_apply_udf_data_reduce_time(connection: Any, collection: str) -> None:
    """test_udf_apply_udf_data_reduce_time (L2626-L2660): a list of band lists per
    geometry becomes rows (feature_index, index, 0, 1, 2)."""
    udf = """
        from openeo.udf import UdfData, StructuredData
        import functools

        def udf_apply_udf_data(udf_data: UdfData) -> UdfData:
            data = udf_data.get_structured_data_list()[0].data
            data = functools.reduce(
                lambda d1, d2: [[b1 + b2 for (b1, b2) in zip(d1[0], d2[0])]],
                data.values()
            )
            return UdfData(structured_data_list=[StructuredData(data)])
    """
    corners = {0: (1.0, 1.0), 1: (4.0, 2.0), 2: (2.0, 4.0), 3: (5.0, 0.0)}
    rows = [[f, 0, 5 + 15 + 25.0, 3 * lon, 3 * lat] for f, (lon, lat) in corners.items()]
    result = run_udf(connection, collection, udf)
    assert_split(result, ["feature_index", "index", 0, 1, 2], rows)


def test_udf_apply_udf_data_return_series(connection: Any, collection: str) -> None:
    """test_udf_apply_udf_data_return_series (L2662-L2696): a Series' labels are columns."""
    udf = """
        import pandas
        from openeo.udf import UdfData, StructuredData

        def udf_apply_udf_data(udf_data: UdfData) -> UdfData:
            data = udf_data.get_structured_data_list()[0].data
            series = pandas.Series({
                "start": sum(min(data.items())[1][0]),
                "end": sum(max(data.items())[1][0]),
            })
            return series
    """
    sums = {0: 1 + 1, 1: 4 + 2, 2: 2 + 4, 3: 5 + 0}
    rows = [[f, 5.0 + s, 25.0 + s] for f, s in sums.items()]
    assert_split(run_udf(connection, collection, udf), ["feature_index", "start", "end"], rows)


def test_udf_apply_udf_data_return_dataframe(connection: Any, collection: str) -> None:
    """test_udf_apply_udf_data_return_dataframe (L2698-L2741): a DataFrame's named index
    is a column after feature_index."""
    udf = """
        import pandas
        from openeo.udf import UdfData, StructuredData

        def udf_apply_udf_data(udf_data: UdfData) -> UdfData:
            data = udf_data.get_structured_data_list()[0].data
            start_values = min(data.items())[1][0]
            end_values = max(data.items())[1][0]
            df = pandas.DataFrame(
                {
                    "start": [min(start_values), max(start_values)],
                    "end": [min(end_values), max(end_values)],
                },
                index = pandas.Index(["min", "max"], name="band_range")
            )
            return df
    """
    lowest = {0: 1, 1: 2, 2: 2, 3: 0}
    rows = [r for f, m in lowest.items() for r in ([f, "max", 5, 25], [f, "min", m, m])]
    result = run_udf(connection, collection, udf)
    assert_split(result, ["feature_index", "band_range", "start", "end"], rows)


def test_udf_apply_feature_dataframe_basic(connection: Any, collection: str) -> None:
    """test_udf_apply_feature_dataframe_basic (L2743-L2776): the frame of one geometry
    (dates x bands) in, a frame out: rows (feature_index, date, bands...)."""
    udf = """
        import pandas as pd
        def udf_apply_feature_dataframe(df: pd.DataFrame) -> pd.DataFrame:
            return df + 1000
    """
    result = run_udf(connection, collection, udf, geometries=TRIANGLES, reducer="max")
    maxima = {0: (1002.75, 1002.5), 1: (1004.75, 1003.75)}
    rows = [
        [f, f"2021-01-{day:02d}T00:00:00.000Z", 1000.0 + day, lon, lat]
        for f, (lon, lat) in maxima.items()
        for day in (5, 15, 25)
    ]
    assert_split(result, ["feature_index", "date", "Day", "Longitude", "Latitude"], rows)


#: the maxima of Longitude and Latitude over each rectangle (L2798-L2806)
RECTANGLE_MAXIMA = {0: (2.75, 2.75), 1: (6.75, 3.75), 2: (2.75, 7.75), 3: (5.75, 0.75)}


@pytest.mark.parametrize(
    ("body", "columns", "row"),
    [
        # test_udf_apply_feature_dataframe_reduce_time (L2778-L2808); the driver ignores
        # the columns' order there (IgnoreOrder)
        (
            "return df.sum(axis=0)",
            ["feature_index", "Day", "Longitude", "Latitude"],
            lambda lon, lat: [45.0, 3 * lon, 3 * lat],
        ),
        # test_udf_apply_feature_dataframe_reduce_bands (L2810-L2837)
        (
            'series = df.sum(axis=1)\n    series.index = series.index.strftime("%Y-%m-%d")\n'
            "    return series",
            ["feature_index", "2021-01-05", "2021-01-15", "2021-01-25"],
            lambda lon, lat: [d + lon + lat for d in (5, 15, 25)],
        ),
        # test_udf_apply_feature_dataframe_reduce_both_to_float (L2839-L2862)
        ("return df.sum().sum()", ["feature_index", 0], lambda lon, lat: [45 + 3 * (lon + lat)]),
    ],
    ids=["reduce_time", "reduce_bands", "reduce_both_to_float"],
)
def test_udf_apply_feature_dataframe_reduces(
    connection: Any, collection: str, body: str, columns: list[Any], row: Any
) -> None:
    udf = f"import pandas as pd\ndef udf_apply_feature_dataframe(df: pd.DataFrame):\n    {body}\n"
    result = run_udf(connection, collection, udf, reducer="max")
    rows = [[f, *row(lon, lat)] for f, (lon, lat) in RECTANGLE_MAXIMA.items()]
    assert_split(result, columns, rows)
