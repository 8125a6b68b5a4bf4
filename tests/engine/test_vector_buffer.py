"""vector_buffer, Copernicus's non-standard process: geometries buffered by metres in the
UTM zone of the first one, returned as GeoJSON in EPSG:4326 without properties
(openeo-python-driver geometry.py ``vector_buffer``). Distances are checked in the UTM
zone with pyproj, independently of how the buffer was made."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid.errors import ProcessParameterInvalid
from tests.process_vectors import run_through_engine

#: a 630 x 1110 m field near the embedded sample (UTM zone 32N)
_CORNERS = [[6.657, 45.23], [6.665, 45.23], [6.665, 45.24], [6.657, 45.24], [6.657, 45.23]]
FIELD = {"type": "Polygon", "coordinates": [_CORNERS]}
POINT = {"type": "Point", "coordinates": [6.66, 45.25]}


def _utm(geojson: dict[str, Any]) -> Any:
    import pyproj
    import shapely
    from shapely.geometry import shape

    project = pyproj.Transformer.from_crs(4326, 32632, always_xy=True).transform
    return shapely.transform(shape(geojson), project, interleaved=False)


def _buffer(geometries: Any, distance: Any, **more: Any) -> Any:
    return run_through_engine(
        "vector_buffer", {"geometries": geometries, "distance": distance, **more}
    )


def test_a_negative_distance_shrinks_a_field_by_that_many_metres() -> None:
    from shapely.geometry import Point

    inner, field = _utm(_buffer(FIELD, -10)), _utm(FIELD)
    assert field.contains(inner)
    # every vertex of the inner ring is 10 m inside the field's boundary
    for x, y in inner.exterior.coords:
        assert field.exterior.distance(Point(x, y)) == pytest.approx(10, abs=0.05)


def test_a_point_becomes_a_twelve_sided_disc_in_epsg_4326() -> None:
    """Three segments per quarter circle (Copernicus's ``resolution=3``)."""
    from shapely.geometry import Point

    disc = _buffer(POINT, 10)
    assert disc["type"] == "Polygon"
    ring = disc["coordinates"][0]
    assert len(ring) == 13 and all(6.65 < lon < 6.67 for lon, _ in ring)
    centre = _utm(POINT)
    for x, y in _utm(disc).exterior.coords:
        assert Point(x, y).distance(centre) == pytest.approx(10, abs=0.01)


def test_kilometres_and_a_crs_member() -> None:
    """``unit: "kilometer"`` (non-standard) scales the distance; GeoJSON in UTM (the old
    ``crs`` member) comes back in EPSG:4326."""
    assert _buffer(POINT, 0.01, unit="kilometer") == _buffer(POINT, 10)
    utm = _utm(POINT)
    in_utm = {
        "type": "Point",
        "coordinates": [utm.x, utm.y],
        "crs": {"type": "name", "properties": {"name": "EPSG:32632"}},
    }
    ring = _buffer(in_utm, 10)["coordinates"][0]
    assert all(6.65 < lon < 6.67 and 45.2 < lat < 45.3 for lon, lat in ring)


def test_a_feature_collection_gives_one_feature_per_geometry_without_properties() -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "a"}, "geometry": FIELD},
            {"type": "Feature", "properties": {"name": "b"}, "geometry": POINT},
        ],
    }
    got = _buffer(collection, 5)
    assert got["type"] == "FeatureCollection"
    assert [f["id"] for f in got["features"]] == ["0", "1"]
    assert all(f["properties"] == {} and len(f["bbox"]) == 4 for f in got["features"])
    assert _utm(got["features"][0]["geometry"]).area > _utm(FIELD).area


@pytest.mark.parametrize(
    ("geometries", "distance", "more", "message"),
    [
        (POINT, -1, {}, r"leaves nothing of the geometries at position\(s\) \[0\]"),
        (FIELD, "10", {}, "'distance' must be a number of metres"),
        (FIELD, 10, {"unit": "mile"}, "unit 'mile' is not one of"),
        ("fields.geojson", 10, {}, "there is no file fields.geojson"),
    ],
)
def test_bad_arguments_are_refused_with_one_line(
    geometries: Any, distance: Any, more: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProcessParameterInvalid, match=message):
        _buffer(geometries, distance, **more)
