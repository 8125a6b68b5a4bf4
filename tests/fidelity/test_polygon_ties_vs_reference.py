"""Polygons whose edges cross a row of pixel centres at (nearly) the same x, rasterized
as geotrellis 3.7.1 does (Copernicus: openeo-geotrellis-extensions 2a25a26e pom.xml
L16): the row's crossings computed again exactly when two coincide as doubles, and a
row left with an odd number of crossings fails (locationtech/geotrellis v3.7.1 b16d847d
PolygonRasterizer.scala L238-254, L450-459). The engine
(:mod:`hybrid.backends.local.processes.scanline`) against the independent reference
(:mod:`tests.reference.scanline`)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from affine import Affine
from shapely.geometry import MultiPolygon, Polygon

from tests.fidelity.test_edges_vs_reference import (
    END,
    START,
    _aoi,
    _extent,
    write_edges_catalog,
)
from tests.reference.scanline import OddCrossings, polygon_cells, spire_to_double

SHAPE = (12, 12)
TRANSFORM = Affine(1.0, 0.0, 0.0, 0.0, -1.0, 12.0)  # grid column = x, row = 12 - y


def _engine(polygon: Any) -> np.ndarray:
    from hybrid.backends.local.processes.scanline import polygon_mask

    return polygon_mask(polygon, TRANSFORM, SHAPE)


def _reference(polygon: Any) -> np.ndarray:
    return polygon_cells(polygon, xmin=0.0, ymax=12.0, size=1.0, shape=SHAPE)


def _float_crossing(top: tuple[float, float], bottom: tuple[float, float], row: float) -> float:
    (c1, r1), (c2, r2) = top, bottom
    return ((c1 - c2) * row - (c1 * r2 - r1 * c2)) / (r1 - r2)


def _near_tie_apexes(count: int) -> list[Polygon]:
    """Triangles whose apex lies a few ulps above the centre row 5.5, next to the centre
    of column 6, where the two edges' crossings of that row coincide as doubles."""
    rng, found = np.random.default_rng(1), []
    while len(found) < count:
        ax = 6.5 + int(rng.integers(-3, 4)) * math.ulp(6.5)
        ay = 5.5 - int(rng.integers(1, 4)) * math.ulp(5.5)
        left = (ax - rng.uniform(0.5, 6), ay + rng.uniform(1, 6))
        right = (ax + rng.uniform(0.5, 5), ay + rng.uniform(1, 6))
        if _float_crossing((ax, ay), left, 5.5) != _float_crossing((ax, ay), right, 5.5):
            continue
        found.append(Polygon([(x, 12.0 - row) for x, row in ((ax, ay), right, left)]))
    return found


def test_crossings_that_coincide_as_doubles_are_computed_again_exactly():
    """Where two edges cross row 5 at the same double, geotrellis 3.7.1 recomputes them
    exactly: apart, they pair up and cover the centre between them (or the one their
    rounding reaches); still equal, the row holds an odd number of crossings and
    geotrellis fails. The engine merged them into one and left the row empty."""
    from hybrid.errors import PolygonUnrasterizable

    covered = failed = 0
    for polygon in _near_tie_apexes(40):
        try:
            want = _reference(polygon)
        except OddCrossings as odd:
            assert odd.valid and odd.row == 5
            with pytest.raises(PolygonUnrasterizable, match="odd number of edge crossings"):
                _engine(polygon)
            failed += 1
            continue
        np.testing.assert_array_equal(_engine(polygon), want, err_msg=polygon.wkt)
        covered += int(want[5].any())  # merged as doubles, row 5 would be empty
    assert covered >= 3 and failed >= 1, (covered, failed)


def test_a_hole_touching_the_shell_on_a_centre_row_fails_as_on_copernicus():
    """A valid polygon whose hole touches its shell at a vertex on a row of centres:
    the hole's two edges there sum to 0 with the shell's crossing, three crossings stay
    on the row, and geotrellis throws IllegalStateException (Copernicus: the job fails).
    The engine drew the row from the shell's left edge to the hole's."""
    from hybrid.errors import PolygonUnrasterizable

    shell = [(1.0, 11.0), (11.0, 11.0), (11.0, 1.0), (1.0, 1.0)]
    hole = [(11.0, 12.0 - 5.5), (5.0, 12.0 - 3.2), (5.0, 12.0 - 8.3)]
    polygon = Polygon(shell, [hole])
    assert polygon.is_valid
    with pytest.raises(OddCrossings) as odd:
        _reference(polygon)
    assert odd.value.row == 5 and odd.value.valid
    with pytest.raises(PolygonUnrasterizable, match=r"y = 6\.5"):
        _engine(polygon)


def _jittered(rng: np.random.Generator) -> Polygon:
    """A polygon (maybe with a hole) with vertices on pixel centres and corners, each
    moved by up to 2 ulps: crossings on rows of centres tie or nearly tie."""

    def jitter(v: float) -> float:
        for _ in range(int(rng.integers(0, 3))):
            v = math.nextafter(v, math.inf if rng.random() < 0.5 else -math.inf)
        return v

    m = int(rng.integers(3, 7))
    steps = rng.integers(2, 22, size=(m, 2)) / 2.0
    shell = [(jitter(float(x)), jitter(float(y))) for x, y in steps]
    holes = []
    if rng.random() < 0.3:
        cx, cy = rng.integers(3, 9, size=2) + 0.5
        holes.append([(jitter(cx - 1.0), jitter(cy)), (jitter(cx), jitter(cy + 1.0)),
                      (jitter(cx + 1.0), jitter(cy)), (jitter(cx), jitter(cy - 1.0))])  # fmt: skip
    return Polygon(shell, holes)


def test_random_near_tie_polygons_follow_the_reference():
    """Random polygons (some with a hole, some MultiPolygons) on pixel centres and
    corners moved by a few ulps: the engine covers the reference's pixels, and fails
    where the reference fails."""
    from hybrid.errors import PolygonUnrasterizable

    rng = np.random.default_rng(7)
    checked = failed = 0
    for n in range(3000):
        polygon: Any = _jittered(rng)
        if not polygon.is_valid or polygon.area == 0:
            continue
        if n % 5 == 0:  # a MultiPolygon, drawn part by part (Rasterizer.scala L234-236)
            polygon = MultiPolygon([polygon, _jittered(rng)])
        try:
            want = _reference(polygon)
        except OddCrossings:
            with pytest.raises(PolygonUnrasterizable):
                _engine(polygon)
            failed += 1
            continue
        np.testing.assert_array_equal(_engine(polygon), want, err_msg=polygon.wkt)
        checked += 1
    assert checked > 500, checked


@pytest.mark.parametrize(
    "value",
    [Fraction(1, 3), Fraction(-7, 10), Fraction(2**53 + 1, 2**53),
     Fraction(2**54 - 1, 2**54) * 8, Fraction(13, 2)],
)  # fmt: skip
def test_exact_crossings_become_doubles_as_spire_rounds_them(value):
    """spire 0.17.0 Rational.toDouble: a half rounds up in magnitude, and a value in the
    last half-ulp below a power of two loses the carry (8 - 2**-51 comes out as 4)."""
    from hybrid.backends.local.processes.scanline import spire_double

    assert spire_double(value) == spire_to_double(value)
    assert abs(spire_double(value) - float(value)) <= math.ulp(float(value)) or (
        spire_double(value) == float(value) / 2
    )


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_edges_catalog(tmp_path_factory.mktemp("ties") / "cat")


def _touching_hole_field(grid: Any) -> dict[str, Any]:
    """A lon/lat polygon whose vertices reproject exactly onto pixel centres and corners
    of ``grid``: a shell with a vertex V on a row of centres, and a hole touching it at V
    (valid); geotrellis meets three crossings on V's row."""
    from pyproj import Transformer
    from shapely.geometry import mapping

    from tests.fidelity.test_edges_vs_reference import _exact_points

    to_lonlat = Transformer.from_crs(f"EPSG:{grid.epsg}", "EPSG:4326", always_xy=True)
    points = _exact_points(grid)
    centre_rows = sorted(y for y, xs in points.items() if (y - 5) % 10 == 0 and len(xs) > 2)
    mid = centre_rows[len(centre_rows) // 2]
    top, bottom = mid + 60, mid - 60
    above, below = mid + 20, mid - 20

    def at(y: float, x: float) -> tuple[float, float]:
        xs = points[y]
        return float(xs[np.argmin(np.abs(xs - x))]), y

    xmin, _, xmax, _ = grid.bounds
    v = at(mid, xmax - 60)
    shell = [at(top, xmin + 60), at(top, xmax - 100), v, at(bottom, xmax - 100),
             at(bottom, xmin + 60)]  # fmt: skip
    hole = [v, at(above, xmin + 150), at(below, xmin + 150)]
    polygon = Polygon(shell, [hole])
    assert polygon.is_valid and shell[1][0] < v[0] and hole[1][0] < v[0], polygon.wkt

    def lonlat(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [tuple(map(float, to_lonlat.transform(x, y))) for x, y in ring]

    return dict(mapping(Polygon(lonlat(shell), [lonlat(hole)])))


def test_aggregate_spatial_of_a_field_geotrellis_cannot_rasterize_fails_in_one_line(
    catalog: Path, tmp_path: Path
) -> None:
    """aggregate_spatial of such a field through ``hybrid serve`` and the openeo client:
    400 BadRequest in one line naming the row, as the Copernicus job fails
    (IllegalStateException, PolygonRasterizer.scala L455-457); the engine averaged a
    row drawn from the shell's left edge to the hole's, and the reference fails too."""
    from openeo.rest import OpenEoApiError

    from tests.reference.cube import load_cube
    from tests.reference.spatial import aggregate_polygons
    from tests.server_helpers import local_connection

    aoi = _aoi()
    ref = load_cube(catalog, aoi, START, END, ("B08",))
    field = _touching_hole_field(ref.grid)
    with pytest.raises(OddCrossings):
        aggregate_polygons(ref.bands["B08"], ref.grid, [field], "mean")
    with local_connection(tmp_path / "data", catalog) as connection:
        cube = connection.load_collection(
            "SENTINEL2_L2A", spatial_extent=_extent(), temporal_extent=[START, END],
            bands=["B08"],
        )  # fmt: skip
        with pytest.raises(OpenEoApiError) as info:
            cube.aggregate_spatial(field, "mean").download(tmp_path / "out.json")
    error = info.value
    assert (error.http_status_code, error.code) == (400, "BadRequest")
    assert "\n" not in error.message and "odd number of edge crossings" in error.message
