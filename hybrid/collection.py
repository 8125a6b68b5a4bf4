"""The SENTINEL2_L2A collection as the Copernicus openEO backend describes it.

:func:`sentinel2_l2a` builds, in code, the collection metadata that the Copernicus
backend's public layer catalog defines for ``SENTINEL2_L2A`` (FIELD_NOTES section 1):
bands with common names, wavelengths and resolutions, ``cube:dimensions`` in
"AUTO:42001" (UTM of the area), the global extent from 4 July 2015 and the summaries.
``hybrid serve`` answers ``GET /collections/SENTINEL2_L2A`` with it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from hybrid.errors import BandNotFound
from hybrid.params import COLLECTION_ID

_DESCRIPTION = (
    "SENTINEL-2 is a wide-swath, high-resolution, multi-spectral imaging mission, supporting "
    "Copernicus Land Monitoring studies, including the monitoring of vegetation, soil and water "
    "cover, as well as observation of inland waterways and coastal areas. The SENTINEL-2 "
    "Multispectral Instrument (MSI) samples 13 spectral bands: four bands at 10 metres, six "
    "bands at 20 metres and three bands at 60 metres spatial resolution.\n"
    " The level 2A data is atmospherically corrected using Sen2Cor."
)

#: spectral bands: name, common name, centre wavelength (um), FWHM (um), resolution (m)
_SPECTRAL: tuple[tuple[str, str | None, float, float, int], ...] = (
    ("B01", "coastal", 0.4427, 0.021, 60),
    ("B02", "blue", 0.4924, 0.066, 10),
    ("B03", "green", 0.5598, 0.036, 10),
    ("B04", "red", 0.6646, 0.031, 10),
    ("B05", None, 0.7041, 0.015, 20),
    ("B06", None, 0.7405, 0.015, 20),
    ("B07", None, 0.7828, 0.02, 20),
    ("B08", "nir", 0.8328, 0.106, 10),
    ("B8A", "nir08", 0.8647, 0.021, 20),
    ("B09", "nir09", 0.9451, 0.02, 60),
    ("B11", "swir16", 1.6137, 0.091, 20),
    ("B12", "swir22", 2.2024, 0.175, 20),
)

#: the angle bands: name and aliases
_ANGLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sunAzimuthAngles", ("S2_Level-2A_Tile1_Metadata##0", "SAA")),
    ("sunZenithAngles", ("S2_Level-2A_Tile1_Metadata##1", "SZA")),
    ("viewAzimuthMean", ("S2_Level-2A_Tile1_Metadata##2", "VAA", "approximateViewAzimuth")),
    ("viewZenithMean", ("S2_Level-2A_Tile1_Metadata##3", "VZA", "approximateViewZenith")),
)

_BROWSER_URL = (
    "https://dataspace.copernicus.eu/browser/?zoom=11&lat=45.36638&lng=12.49832"
    "&themeId=DEFAULT-THEME&visualizationUrl=https%3A%2F%2Fsh.dataspace.copernicus.eu%2Fogc"
    "%2Fwms%2F28b654e7-8912-4e59-9e58-85b58d768b3a&datasetId=S2_L2A_CDAS"
    "&fromTime=2023-02-07T00%3A00%3A00.000Z&toTime=2023-02-07T23%3A59%3A59.999Z"
    "&layerId=1_TRUE_COLOR&demSource3D=%22MAPZEN%22&cloudCoverage=10"
)
_OPENSEARCH_URL = (
    "https://catalogue.dataspace.copernicus.eu/resto/api/collections/Sentinel2/search.json"
    "?cloudCover=[0,10]&productType=S2MSI2A&startDate=2022-06-11&completionDate=2022-06-22"
    "&maxRecords=10"
)


def file_resolutions() -> dict[str, int]:
    """Band -> the pixel size (m) of its file in every provider's layout: the spectral
    bands' ``gsd``, SCL 20 m, AOT and WVP 10 m (the catalog's aliases name their 20 m
    and 10 m copies). A CDSE product also holds B01 resampled to 20 m, which is read
    where present (:class:`hybrid.stac.providers.Layout` ``resolution_copies``)."""
    spectral = {name: resolution for name, _, _, _, resolution in _SPECTRAL}
    return {**spectral, "SCL": 20, "AOT": 10, "WVP": 10}


def _image_alias(band: str, resolution: int) -> str:
    return f"IMG_DATA_Band_{band}_{resolution}m_Tile1_Data"


def eo_bands() -> list[dict[str, Any]]:
    """The ``eo:bands`` summary: spectral bands, WVP, AOT, SCL, then the angle bands."""
    bands: list[dict[str, Any]] = []
    for name, common_name, wavelength, fwhm, resolution in _SPECTRAL:
        band: dict[str, Any] = {"name": name, "aliases": [_image_alias(name, resolution)]}
        if common_name is not None:
            band["common_name"] = common_name
        band.update(
            center_wavelength=wavelength,
            full_width_half_max=fwhm,
            gsd=resolution,
            scale=0.0001,
            offset=0,
            type="int16",
            unit="1",
        )
        bands.append(band)
    bands.append({"name": "WVP", "aliases": [_image_alias("WVP", 10)]})
    bands.append({"name": "AOT", "aliases": [_image_alias("AOT", 20)]})
    bands.append({"name": "SCL", "aliases": [_image_alias("SCL", 20)], "gsd": 20})
    bands.extend(
        {"name": name, "aliases": list(aliases), "unit": "deg"} for name, aliases in _ANGLES
    )
    return bands


def angle_band_names() -> frozenset[str]:
    """The angle bands' names and aliases (float32 values, not int16 digital numbers)."""
    return frozenset(name for band, aliases in _ANGLES for name in (band, *aliases))


def band_names() -> list[str]:
    """All band names in the collection's order."""
    return [band["name"] for band in eo_bands()]


def collection_band(name: str) -> dict[str, Any] | None:
    """The band ``name`` selects, as Copernicus resolves load_collection's ``bands``
    (geopyspark-driver ``layercatalog.py`` L188-196: the openeo client's
    ``BandDimension.filter_bands``/``band_index``): by common name first, then by name,
    then by alias (``red`` is B04, ``SAA`` sunAzimuthAngles); None if none."""
    bands = eo_bands()
    found = [b for b in bands if b.get("common_name") == name]
    found = found or [b for b in bands if b["name"] == name]
    found = found or [b for b in bands if name in b.get("aliases", ())]
    return found[0] if found else None


def check_bands(bands: Any, *, node: str | None = None) -> None:
    """Refuse the names in a load_collection's ``bands`` that select no band (as
    :func:`collection_band` resolves them) with the load's words (``BandNotFound``).
    Copernicus's POST /validation reports them too: its extra validation resolves the
    bands with the collection's ``filter_bands`` (geopyspark-driver ``layercatalog.py``
    L1293) and lists the client library's ``ValueError`` with code ``Internal``
    ("Invalid band name/index 'B99'. Valid names: [...]", ``backend.py``
    ``extra_validation`` L1461-1476); here the code and words are the run's own."""
    names = bands if isinstance(bands, list) else []
    unknown = [b for b in names if isinstance(b, str) and collection_band(b) is None]
    if unknown:
        known = ", ".join(band_names())
        raise BandNotFound(
            f"{COLLECTION_ID} has no band {', '.join(unknown)}; available: {known}", node=node
        )


def band_position(
    labels: Sequence[str],
    name: str,
    origins: Mapping[str, str | None] | None = None,
    *,
    label_first: bool = False,
) -> int | None:
    """The position of the band ``name`` selects among a cube's band ``labels``, as
    Copernicus's filter_bands finds it (``metadata.get_band_index``: common names, then
    labels, then aliases) or, ``label_first``, as its ndvi does (labels, then common
    names, no aliases: geopysparkdatacube.py ``_ndvi_v10`` L3019-3024). A label naming a
    collection band (its name, common name or alias: load_collection keeps the names
    asked for) has that band's common name and aliases; any other label only its own
    name. A renamed label (``origins``: label -> the collection band it was renamed
    from, None for none) has its origin's."""
    described = [_described(label, origins or {}) for label in labels]
    commons = [band.get("common_name") for band in described]
    if label_first and name in labels:
        return list(labels).index(name)
    if name in commons:
        return commons.index(name)
    if label_first:
        return None
    if name in labels:
        return list(labels).index(name)
    aliased = [i for i, band in enumerate(described) if name in band.get("aliases", ())]
    return aliased[0] if aliased else None


def _described(label: str, origins: Mapping[str, str | None]) -> dict[str, Any]:
    if label in origins:
        origin = origins[label]
        return (collection_band(origin) or {}) if origin else {}
    return collection_band(label) or {}


def band_positions(
    labels: Sequence[str], names: Sequence[Any], origins: Mapping[str, str | None] | None = None
) -> tuple[list[int], list[str]]:
    """The positions of the bands ``names`` select among ``labels``
    (:func:`band_position`), and the names that select none."""
    found = [(str(name), band_position(labels, str(name), origins)) for name in names]
    return [at for _, at in found if at is not None], [n for n, at in found if at is None]


def _auto_utm_crs() -> dict[str, Any]:
    """PROJJSON of "AUTO 42001": the UTM zone of the area, chosen per request."""
    return {
        "$schema": "https://proj.org/schemas/v0.2/projjson.schema.json",
        "type": "GeodeticCRS",
        "name": "AUTO 42001 (Universal Transverse Mercator)",
        "datum": {
            "type": "GeodeticReferenceFrame",
            "name": "World Geodetic System 1984",
            "ellipsoid": {
                "name": "WGS 84",
                "semi_major_axis": 6378137,
                "inverse_flattening": 298.257223563,
            },
        },
        "coordinate_system": {
            "subtype": "ellipsoidal",
            "axis": [
                {
                    "name": "Geodetic latitude",
                    "abbreviation": "Lat",
                    "direction": "north",
                    "unit": "degree",
                },
                {
                    "name": "Geodetic longitude",
                    "abbreviation": "Lon",
                    "direction": "east",
                    "unit": "degree",
                },
            ],
        },
        "area": "World",
        "bbox": {
            "south_latitude": -90,
            "west_longitude": -180,
            "north_latitude": 90,
            "east_longitude": 180,
        },
        "id": {"authority": "OGC", "version": "1.3", "code": "Auto42001"},
    }


def cube_dimensions() -> dict[str, Any]:
    """``cube:dimensions``: x/y in AUTO:42001 at 10 m, t, and the bands."""
    return {
        "x": {"type": "spatial", "axis": "x", "reference_system": _auto_utm_crs(), "step": 10},
        "y": {"type": "spatial", "axis": "y", "reference_system": _auto_utm_crs(), "step": 10},
        "t": {"type": "temporal"},
        "bands": {"type": "bands", "values": band_names()},
    }


def pixel_step() -> float:
    """load_collection's pixel size in metres: the x step of :func:`cube_dimensions`."""
    return float(cube_dimensions()["x"]["step"])


def _links() -> list[dict[str, Any]]:
    return [
        {
            "rel": "license",
            "href": "https://sentinels.copernicus.eu/documents/247904/690755/"
            "Sentinel_Data_Legal_Notice",
            "type": "application/pdf",
        },
        {
            "rel": "alternate",
            "href": "https://documentation.dataspace.copernicus.eu/Data/SentinelMissions/"
            "Sentinel2.html#sentinel-2-level-2a-top-of-canopy-toc",
            "type": "application/html",
        },
        {"href": _BROWSER_URL, "title": "CDSE Data-Browser", "rel": "browser"},
        {"href": _OPENSEARCH_URL, "rel": "opensearch", "title": "Opensearch product query"},
        {
            "href": "https://sentinels.copernicus.eu/web/sentinel/user-guides/sentinel-2-msi/"
            "product-types/level-2a",
            "title": "User guide",
            "rel": "about",
        },
        {
            "href": "https://services.sentinel-hub.com/ogc/wmts/7d34803f-511c-4caf-9438-6d72f32c8174",
            "rel": "wmts",
            "title": "Web Map Tile Service",
            "wmts:dimensions": {"warnings": True},
            "wmts:layer": "TRUE-COLOR",
        },
    ]


_METADATA: dict[str, Any] | None = None


def _build() -> dict[str, Any]:
    return {
        "id": COLLECTION_ID,
        "name": COLLECTION_ID,
        "title": "Sentinel-2 L2A",
        "description": _DESCRIPTION,
        "mission": "Sentinel-2",
        "license": "proprietary",
        "keywords": [
            "COPERNICUS",
            "ESA",
            "Orthoimagery",
            "Sentinel-2",
            "MSI",
            "Level-2A",
            "Radiometry",
            "Plant Resource",
            "TOC",
        ],
        "providers": [
            {"name": "ESA", "roles": ["producer"], "url": "https://esa.int/"},
            {
                "name": "CDSE",
                "roles": ["processor", "host"],
                "url": "https://dataspace.copernicus.eu/",
            },
        ],
        "links": _links(),
        "extent": {
            "spatial": {"bbox": [[-180, -56, 180, 83]]},
            "temporal": {"interval": [["2015-07-04", None]]},
        },
        "cube:dimensions": cube_dimensions(),
        "summaries": {
            "platform": ["sentinel-2a", "sentinel-2b"],
            "instrument": ["msi"],
            "constellation": ["sentinel-2"],
            "gsd": [10],
            "eo:cloud_cover": {"minimum": 0, "maximum": 100},
            "productIdentifier": {},
            "eo:bands": eo_bands(),
        },
        "assets": {
            "thumbnail": {
                "href": "https://www.esa.int/var/esa/storage/images/esa_multimedia/images/2022/07/"
                "tallinn_estonia/24383281-1-eng-GB/Tallinn_Estonia_pillars.jpg",
                "type": "image/png",
                "roles": ["thumbnail"],
                "title": "Sentinel 2 L2A",
            }
        },
    }


def sentinel2_l2a() -> dict[str, Any]:
    """The SENTINEL2_L2A collection metadata (a fresh copy the caller may change)."""
    global _METADATA
    if _METADATA is None:
        _METADATA = _build()
    return copy.deepcopy(_METADATA)
