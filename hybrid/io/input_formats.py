"""The input formats of ``GET /file_formats``: what ``load_url`` reads (vector data) and
``load_stac`` reads (GeoTIFF), under the names Copernicus lists them
(openeo-geopyspark-driver 9baf2e10 backend.py ``file_formats`` L455-487: GeoJSON,
Parquet, FlatGeobuf, GPKG, GTiff; no parameters). A name is matched without regard to
case, as openEO's ``input-format`` arguments are."""

from __future__ import annotations

from typing import Any

#: name -> (title, description, GIS data type)
_INPUTS: dict[str, tuple[str, str, str]] = {
    "GeoJSON": ("GeoJSON", "Vector data as GeoJSON.", "vector"),
    "Parquet": ("(Geo)Parquet", "Vector data as GeoParquet, in the CRS it declares.", "vector"),
    "FlatGeobuf": ("FlatGeobuf", "Vector data as FlatGeobuf.", "vector"),
    "GPKG": ("GeoPackage", "Vector data as a GeoPackage (its first layer).", "vector"),
    "GTiff": ("GeoTiff", "Raster data as GeoTIFF, read through load_stac.", "raster"),
}


def input_formats_document() -> dict[str, Any]:
    """The ``input`` member of ``GET /file_formats``."""
    return {
        name: {"title": title, "description": text, "gis_data_types": [kind], "parameters": {}}
        for name, (title, text, kind) in _INPUTS.items()
    }


def input_format(name: str) -> str | None:
    """The listed name of the input format ``name`` (any case); None if not listed."""
    return next((listed for listed in _INPUTS if listed.lower() == str(name).lower()), None)


def vector_input(name: str) -> bool:
    """Whether ``name`` is a listed input format of vector data."""
    return _INPUTS[name][2] == "vector"
