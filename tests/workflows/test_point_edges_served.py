"""Points on and next to pixel edges, aggregated through the emulator's HTTP API with the
real openeo client, on the driver's synthetic lon/lat collection
(:mod:`tests.workflows.lonlat_collection`: 0.25-degree pixels whose ``Longitude`` and
``Latitude`` bands hold the pixel's west and south edge, so the values name the pixel).

Copernicus reads a point's pixel with geotrellis's ``floorWithTolerance`` (a grid
coordinate within 1e-7 pixel of a whole number is that number); the pixel each point
should read is computed by the independent reference (tests/reference/points.py). The
points stay off the 1-degree tile borders (the driver's keys of 4 x 4 pixels).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.reference.points import point_cell
from tests.workflows.lonlat_collection import write_lonlat_collection
from tests.workflows.lonlat_graphs import features, point

EXTENT = {"west": 0.0, "south": 0.0, "east": 8.0, "north": 5.0}
SIZE = 0.25
#: a hair (4e-9 pixel) off an edge: inside geotrellis's tolerance
HAIR = 1e-9
POINTS = [
    (2.2, 2.2),  # inside a pixel
    (2.25, 2.6),  # on a vertical edge
    (3.3, 2.75),  # on a horizontal edge
    (5.5, 3.25),  # on a corner
    (2.25 - HAIR, 2.6),  # a hair west of a vertical edge
    (3.3, 2.75 + HAIR),  # a hair north of a horizontal edge
    (5.5 - HAIR, 3.25 + HAIR),  # a hair north-west of a corner
    (2.25 + HAIR, 1.75 - HAIR),  # a hair east and south: its own pixel either way
]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.server_helpers import local_connection

    with local_connection(tmp_path_factory.mktemp("point-edges-data")) as con:
        yield con


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("point-edges-lonlat")
    return str(write_lonlat_collection(root, ("2021-01-01", "2021-01-10"), box=(0, 0, 8, 8)))


def _edges(x: float, y: float) -> list[float]:
    """[Longitude, Latitude] of the pixel the reference says the point reads."""
    shape = (round(EXTENT["north"] / SIZE), round(EXTENT["east"] / SIZE))
    cell = point_cell(x, y, xmin=0.0, ymax=EXTENT["north"], size=SIZE, shape=shape)
    assert cell is not None
    row, col = cell
    return [col * SIZE, EXTENT["north"] - (row + 1) * SIZE]


def test_points_on_and_next_to_pixel_edges_read_geotrellis_pixels(
    connection: Any, collection: str
) -> None:
    cube = connection.load_stac(
        collection,
        spatial_extent=EXTENT,
        temporal_extent=["2021-01-01", "2021-01-10"],
        bands=["Longitude", "Latitude"],
    )
    geometries = features(*(point(x, y) for x, y in POINTS))
    result = connection.execute(cube.aggregate_spatial(geometries, "mean").flat_graph())
    assert list(result) == ["2021-01-05T00:00:00Z"]
    want = [_edges(x, y) for x, y in POINTS]
    assert result["2021-01-05T00:00:00Z"] == want
    # the hair west of the edge and the hair east of it read the same column
    assert want[4][0] == want[1][0] == 2.25 and want[6] == want[3]
