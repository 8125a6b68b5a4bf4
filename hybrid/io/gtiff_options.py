"""The GTiff save_result options Copernicus honours, checked once (openeo-geopyspark-driver
``geopysparkdatacube.py`` ``write_assets`` L2116-2130, L2166-2171, L2283-2312; the format's
``parameters`` in ``openeogeotrellis/backend.py`` L488-578):

- written as Copernicus writes them: ``compression`` (``deflate``, ``zstd``), ``ZLEVEL``
  (deflate 1..9, zstd 1..22), ``predictor`` (1 none, 2 horizontal differencing, 3
  floating point), ``tile_size`` (a multiple of 16, GDAL's rule), ``bands_metadata``
  (band name -> tag -> value, tags upper-cased: L2310-2312; SCALE and OFFSET as the
  band's scale and offset: :func:`describe_bands`) and ``overviews`` ``ALL``
  (overviews whatever the size: openeo-geotrellis-extensions geotiff/package.scala
  ``saveRDDGeneric`` L357-386, a halving per level while the 256 px tiles can be merged);
- ``colormap`` as the palette Copernicus writes (:mod:`hybrid.io.palette`), with 2**bits
  entries, those past the colours black (geotrellis ``TiffTagFieldValue.scala``
  L110-131). Geotrellis writes a palette for 8- and 16-bit integer cells only (a float
  result fails there); GDAL for one band of uint8 or uint16: anything else is refused.
- refused with one 400 instead of being ignored: ``tile_grid`` (files cut along a UTM
  or lon/lat grid, batch jobs only), ``filepath_per_band``,
  ``attach_gdalinfo_assets``, ``bigtiff``, ``overview_method``, and zstd levels below 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hybrid.errors import ProcessParameterInvalid
from hybrid.io.palette import COLORMAP_PARAMETER, palette

#: Copernicus's defaults (geopysparkdatacube.py L2167-2169)
DEFAULT_COMPRESSION = "deflate"
DEFAULT_ZLEVEL = 6
DEFAULT_TILE_SIZE = 256
_LEVELS = {"deflate": range(1, 10), "zstd": range(1, 23)}

#: honoured by Copernicus, not here: what each would need
_NOT_HERE = {
    "tile_grid": "cutting the files along a tile grid (batch jobs on Copernicus)",
    "filepath_per_band": "a path per band",
    "attach_gdalinfo_assets": "gdalinfo JSON assets",
    "bigtiff": "forcing BigTIFF",
    "overview_method": "overview resampling other than nearest",
}


@dataclass(frozen=True)
class GTiffOptions:
    compression: str = DEFAULT_COMPRESSION
    level: int = DEFAULT_ZLEVEL
    predictor: int = 1
    tile_size: int = DEFAULT_TILE_SIZE
    #: AUTO (default), ALL, or anything else: none
    overviews: str = "AUTO"
    #: band name -> {TAG: value}
    bands_metadata: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: the palette's (r, g, b) entries from ``colormap`` (module docstring), or None
    palette: tuple[tuple[int, int, int], ...] | None = None

    def require_palette_fits(self, dtype: str, bands: int) -> None:
        """A palette needs one band of uint8 or uint16 (geotrellis: 8/16-bit integers;
        GDAL's GeoTIFF colour tables: Byte and UInt16)."""
        if self.palette is None or (bands == 1 and dtype in ("uint8", "uint16")):
            return
        what = f"{bands} bands" if bands != 1 else f"{dtype} values"
        raise _refuse(
            f"'colormap' needs one band of 8- or 16-bit unsigned integers, and this result "
            f"has {what}: select one band and make it uint8, e.g. with "
            "linear_scale_range(0, 255) or convert_data_type('uint8')"
        )

    def colormap(self, dtype: str) -> dict[int, tuple[int, int, int, int]]:
        """The palette as rasterio's ``write_colormap`` takes it (empty without one),
        at most the 2**bits entries of ``dtype`` (geotrellis writes no more)."""
        import numpy as np

        entries = (self.palette or ())[: 2 ** (8 * np.dtype(dtype).itemsize)]
        return {i: (*rgb, 255) for i, rgb in enumerate(entries)}

    def require_predictor_fits(self, dtype: str) -> None:
        """The floating-point predictor (3) takes float samples only (TIFF, GDAL)."""
        import numpy as np

        if self.predictor == 3 and np.dtype(dtype).kind != "f":
            raise ProcessParameterInvalid(
                f"save_result: GTiff 'predictor' 3 (floating point) needs float values, "
                f"and this result is {dtype}: use 'predictor' 2 (or make the values float "
                "first, e.g. with a division)"
            )

    def profile(self) -> dict[str, Any]:
        """The rasterio creation options."""
        level = {"zlevel": self.level} if self.compression == "deflate" else {}
        if self.compression == "zstd":
            level = {"zstd_level": self.level}
        return {
            "compress": self.compression,
            **level,
            "predictor": self.predictor,
            "blockxsize": self.tile_size,
            "blockysize": self.tile_size,
        }

    def band_tags(self, band: str) -> dict[str, str]:
        return dict(self.bands_metadata.get(band, {}))


#: band tags GDAL holds as the band's scale and offset, not as metadata items
_SCALING = ("SCALE", "OFFSET")


def describe_bands(
    dst: Any, bands: Sequence[str | None], band_tags: Mapping[str, Mapping[str, str]]
) -> None:
    """Name each band of the open rasterio dataset ``dst`` (no DESCRIPTION for a band
    without a name in Copernicus's band metadata) and write its ``bands_metadata`` tags,
    SCALE and OFFSET as the band's scale and offset. Copernicus adds every tag with
    ``addBandTag`` (geopysparkdatacube.py L2308-2312) and geotrellis writes SCALE and
    OFFSET as the GDAL metadata items GDAL reads back as ``GetScale``/``GetOffset``
    (test_api_result.py ``test_custom_geotiff_tags`` L5104-5174: 1.23 and 4.56, 1.0 and
    0.0 where not given; other tags in the band's metadata). A value that is no number
    stays a plain tag."""
    scales, offsets = [1.0] * dst.count, [0.0] * dst.count
    for index, band in enumerate(bands):
        if band is None:
            continue
        dst.set_band_description(index + 1, band)
        tags = dict(band_tags.get(band, {}))
        for name, values in zip(_SCALING, (scales, offsets), strict=True):
            number = _number(tags.get(name))
            if number is not None:
                values[index] = number
                del tags[name]
        if tags:
            dst.update_tags(index + 1, **tags)
    if scales != [1.0] * dst.count or offsets != [0.0] * dst.count:
        dst.scales, dst.offsets = scales, offsets


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _refuse(message: str) -> ProcessParameterInvalid:
    return ProcessParameterInvalid(f"save_result (GTiff): {message}")


def _integer(options: Mapping[str, Any], name: str, default: int) -> int:
    value = options.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _refuse(f"'{name}' must be an integer, got {value!r}")
    return int(value)


def _bands_metadata(value: Any) -> dict[str, dict[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise _refuse("'bands_metadata' must map band names to objects of tags")
    return {
        str(band): {str(tag).upper(): str(text) for tag, text in tags.items()}
        for band, tags in value.items()
    }


def parse(options: Mapping[str, Any] | None) -> GTiffOptions:
    """The options, or one :class:`ProcessParameterInvalid` (400) for any that is
    honoured by Copernicus but not here, or out of range."""
    options = options or {}
    for name, what in _NOT_HERE.items():
        if options.get(name) not in (None, False):
            raise _refuse(f"'{name}' ({what}) is not supported by this backend; drop it")
    compression = str(options.get("compression") or DEFAULT_COMPRESSION).lower()
    if compression not in _LEVELS:
        raise _refuse(f"'compression' must be one of {sorted(_LEVELS)}, got {compression!r}")
    level = _integer(options, "ZLEVEL", DEFAULT_ZLEVEL)
    allowed = _LEVELS[compression]
    if level not in allowed:
        raise _refuse(
            f"'ZLEVEL' {level} is outside {allowed.start}..{allowed.stop - 1} for "
            f"{compression} here"
        )
    predictor = _integer(options, "predictor", 1)
    if predictor not in (1, 2, 3):
        raise _refuse(f"'predictor' must be 1, 2 or 3, got {predictor}")
    tile_size = _integer(options, "tile_size", DEFAULT_TILE_SIZE)
    if tile_size <= 0 or tile_size % 16:
        raise _refuse(f"'tile_size' must be a positive multiple of 16, got {tile_size}")
    return GTiffOptions(
        compression=compression,
        level=level,
        predictor=predictor,
        tile_size=tile_size,
        overviews=str(options.get("overviews", "AUTO")).upper(),
        bands_metadata=_bands_metadata(options.get("bands_metadata")),
        palette=palette(options.get("colormap"), "save_result (GTiff)"),
    )


def all_overview_factors(width: int, height: int, tile: int = DEFAULT_TILE_SIZE) -> list[int]:
    """``overviews="ALL"``: one halving per level the layout of ``tile`` px tiles can be
    reduced before it is one tile (``LocalLayoutScheme.inferLayoutLevel``), when that is
    more than one level (package.scala ``saveRDDGeneric`` L370-386)."""
    tiles = max(math.ceil(width / tile), math.ceil(height / tile))
    levels = math.ceil(math.log2(tiles)) if tiles > 1 else 0
    return [2**level for level in range(1, levels + 1)] if levels > 1 else []


#: the format's ``parameters`` in ``/file_formats`` for these options
PARAMETERS: dict[str, dict[str, Any]] = {
    "compression": {
        "type": "string",
        "description": "The compression algorithm.",
        "default": DEFAULT_COMPRESSION,
        "enum": sorted(_LEVELS),
    },
    "ZLEVEL": {
        "type": "integer",
        "description": "Compression level: deflate 1 (fastest) to 9, zstd 1 to 22.",
        "default": DEFAULT_ZLEVEL,
    },
    "predictor": {
        "type": "integer",
        "description": "1 (none), 2 (horizontal differencing) or 3 (floating point).",
        "default": 1,
        "enum": [1, 2, 3],
    },
    "tile_size": {
        "type": ["integer", "null"],
        "description": "The GeoTIFF's internal tile size, a multiple of 16 (default 256).",
        "default": None,
    },
    "colormap": COLORMAP_PARAMETER,
    "bands_metadata": {
        "type": ["object", "null"],
        "description": "Band-level metadata tags per band name (band -> (tag -> value)).",
        "default": None,
    },
}
