"""The seed area and season the offline sample is built around (stdlib only)."""

from __future__ import annotations

from typing import Any

#: GeoJSON Polygon of the seed AOI, identical to the geometry in ``data/aoi.geojson``.
SEED_AOI: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [
            [6.6544450, 45.2258959],
            [6.6751340, 45.2258959],
            [6.6751340, 45.2641447],
            [6.6544450, 45.2641447],
            [6.6544450, 45.2258959],
        ]
    ],
}

#: First day of the seed period (inclusive).
SEED_START = "2023-05-01"
#: End of the seed period (exclusive, like openEO temporal extents).
SEED_END = "2023-09-30"
