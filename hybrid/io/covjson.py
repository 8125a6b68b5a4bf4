"""CoverageJSON results: an aggregate_spatial time series as Copernicus writes it.

Copernicus offers ``CovJSON`` for the results of aggregate_spatial over a cube with a
time dimension only (openeo-python-driver 9e5b49b2 ``openeo_driver/save_result.py``
``AggregatePolygonResult.to_covjson`` L515-597, reached from ``get_data`` L327-330 and
L739-742): a ``Coverage`` whose domain is a ``MultiPolygonSeries`` with the axis ``t``
(the dates as in the JSON layout, ``2023-06-02T00:00:00Z``, sorted) and the axis
``composite`` holding each geometry's GeoJSON coordinates (any geometry type, points
too), referenced in CRS84; one parameter and one ``NdArray`` range per band, named
``band0``, ``band1``... whatever the bands are called, its values ``t`` by geometry,
NaN as null (``prepare_for_json`` -> ``replace_nan_values``). A batch job writes it to
``timeseries.json`` (``write_assets`` L340-364, the JSON branch, ``application/json``);
a synchronous request answers with it.

Not there: a raster cube (geopysparkdatacube.py ``write_assets`` raises
FormatUnsupported for it), an aggregate_spatial result without ``t``
(``AggregatePolygonSpatialResult.write_assets`` L854-886: JSON, CSV and Parquet only),
and a result in which no geometry covers a pixel centre (no dates, so ``to_covjson``
finds no band count and the job fails).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.errors import FormatUnsuitable, NoDataAvailable
from hybrid.io.format import Format
from hybrid.io.vector import (
    covers_nothing,
    date_text,
    is_time_series,
    number,
    ordered,
    write_file,
)

#: the CRS the domain is referenced in (the geometries are written in longitude/latitude)
_CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def coverage(cube: Any) -> dict[str, Any]:
    """The Coverage of an aggregate_spatial result (see the module docstring)."""
    from hybrid.geometries import DEFAULT_CRS, vector_cube_features

    if not is_time_series(cube):
        raise FormatUnsuitable(
            "save_result: CovJSON holds aggregate_spatial results with a time dimension "
            "only (as on Copernicus); use JSON, CSV or Parquet"
        )
    if covers_nothing(cube):
        raise NoDataAvailable(
            "save_result: no geometry covers a pixel centre, so the CovJSON result has no "
            "dates (Copernicus fails such a job too); use JSON, CSV or Parquet"
        )
    geometries = vector_cube_features(cube).to_crs(DEFAULT_CRS)
    cube = ordered(cube).sortby("t").transpose("bands", "t", "geometries")
    dates = [date_text(label) for label in cube["t"].values]
    names = [f"band{b}" for b in range(cube.sizes["bands"])]
    return {
        "type": "Coverage",
        "domain": _domain(dates, geometries),
        "parameters": {
            name: {
                "type": "Parameter",
                "observedProperty": {"label": {"en": f"Band {b}"}},
            }
            for b, name in enumerate(names)
        },
        "ranges": {
            name: {
                "type": "NdArray",
                "dataType": "float",
                "axisNames": ["t", "composite"],
                "shape": [len(dates), cube.sizes["geometries"]],
                "values": [number(v) for v in band.ravel()],
            }
            for name, band in zip(names, cube.values, strict=True)
        },
    }


def _domain(dates: list[str], geometries: Any) -> dict[str, Any]:
    """The domain; the geometries' coordinates as shapely maps them (tuples, which
    ``json`` writes as arrays)."""
    import shapely.geometry

    return {
        "type": "Domain",
        "domainType": "MultiPolygonSeries",
        "axes": {
            "t": {"values": dates},
            "composite": {
                "dataType": "polygon",
                "coordinates": ["x", "y"],
                "values": [shapely.geometry.mapping(g)["coordinates"] for g in geometries],
            },
        },
        "referencing": [
            {"coordinates": ["x", "y"], "system": {"type": "GeographicCRS", "id": _CRS84}},
            {"coordinates": ["t"], "system": {"type": "TemporalRS", "calendar": "Gregorian"}},
        ],
    }


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.json``."""
    import json

    return write_file(out_dir, ".json", json.dumps(coverage(cube)))


def read_coverage(document: Mapping[str, Any], *, source: Path) -> Any:
    """A Coverage of :func:`coverage`'s layout as a series (:mod:`hybrid.io.series`):
    each range is a band, its values ``t`` by geometry."""
    from hybrid.errors import UsageError
    from hybrid.io.series import series_array

    try:
        dates = list(document["domain"]["axes"]["t"]["values"])
        ranges = dict(document["ranges"])
        grids = [_by_date(ranges[name], len(dates)) for name in ranges]
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{source} is not a CoverageJSON time series: {exc}") from None
    count = len(grids[0][0]) if grids and grids[0] else 0
    by_feature = [[[grid[t][f] for grid in grids] for t in range(len(dates))] for f in range(count)]
    return series_array(
        by_feature, features=range(count), dates=dates, bands=list(ranges), source=source
    )


def _by_date(array: Mapping[str, Any], dates: int) -> list[list[Any]]:
    """An NdArray's values as one list per date (axes ``t``, ``composite``)."""
    if list(array["axisNames"]) != ["t", "composite"] or array["shape"][0] != dates:
        raise ValueError(f"a range has axes {array['axisNames']} and shape {array['shape']}")
    values, width = list(array["values"]), int(array["shape"][1])
    return [values[i * width : (i + 1) * width] for i in range(dates)]


FORMAT = Format(
    name="CovJSON",
    title="CoverageJSON",
    suffixes=(".json",),
    media_type="application/json",
    per_label=False,
    writers={"vector": write_vector},
    aliases=("CoverageJSON",),
)
