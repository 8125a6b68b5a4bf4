"""save_result's ``colormap`` option as the palette Copernicus writes (GTiff and PNG).

Copernicus packs each colour into an RGBA integer (openeo-geopyspark-driver
``geopysparkdatacube.py`` ``write_assets`` ``color_to_int``, L2132-2148: an integer as
it is, ``[r, g, b, a]`` in 0..1 as the bytes ``int(x * 255)``), builds a geotrellis
colour map of the values and writes its colours as a palette in the order of the
values, the values themselves dropped (GTiff: geotrellis ``ColorMap.scala``
``IndexedColorMap.fromColorMap`` L377; PNG: openeo-geotrellis-extensions
``png/package.scala`` ``saveStitched`` L48-56): palette entry *i* is the colour of the
*i*-th smallest value, its alpha dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.errors import ProcessParameterInvalid

#: a palette entry: red, green, blue bytes
RGB = tuple[int, int, int]

#: the option in ``/file_formats`` (GTiff and PNG)
COLORMAP_PARAMETER: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "A palette for a single-band result (GTiff: uint8 or uint16): value -> "
    "colour, an integer 0xRRGGBBAA or [r, g, b, a] in 0..1; palette entry i is the colour "
    "of the i-th smallest value, as Copernicus writes it.",
    "default": None,
}


def palette(value: Any, what: str) -> tuple[RGB, ...] | None:
    """``colormap``'s colours in the order of their values (None without one); a
    :class:`ProcessParameterInvalid` starting with ``what`` for a malformed one."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise ProcessParameterInvalid(
            f"{what}: 'colormap' must map values to colours, e.g. {{\"0\": [1, 0, 0, 1]}}"
        )
    entries = []
    for key, colour in value.items():
        try:
            entries.append((float(key), _rgba(colour)))
        except (TypeError, ValueError):
            raise ProcessParameterInvalid(
                f"{what}: 'colormap' entry {key!r}: {colour!r} must be a number key with a "
                "colour that is an integer 0xRRGGBBAA or [r, g, b, a] with each in 0..1"
            ) from None
    return tuple((c >> 24 & 0xFF, c >> 16 & 0xFF, c >> 8 & 0xFF) for _, c in sorted(entries))


def _rgba(colour: Any) -> int:
    """A colour packed as Copernicus packs it; ValueError if it is none."""
    if isinstance(colour, int) and not isinstance(colour, bool) and 0 <= colour < 2**32:
        return colour
    numbers = isinstance(colour, list) and len(colour) == 4
    numbers = numbers and not any(isinstance(x, bool) for x in colour)
    numbers = numbers and all(isinstance(x, int | float) for x in colour)
    channels = [int(x * 255) for x in colour] if numbers else [-1]
    if not all(0 <= x <= 255 for x in channels):
        raise ValueError(colour)
    return int.from_bytes(bytes(channels), "big")
