"""The STAC fields of an aggregate_spatial result's asset that its file does not say, as
Copernicus puts them on the asset when it saves the result (openeo-python-driver 9e5b49b2,
openeo_driver/save_result.py):

- ``bands``: the cube's bands, when it has a band dimension (``AggregatePolygonResult.
  write_assets`` L366-369; without time ``AggregatePolygonSpatialResult.write_assets``
  L885-888); the results document shows them as ``eo:bands`` (views.py ``_asset_object``
  L1838-1860: ``name`` and the ``common_name`` its collection gives, the wavelength
  lost on the way, as ``wavelength_um`` is not the ``center_wavelength`` it reads), here
  as ``eo:bands`` so, and as ``bands`` with the names, like a raster asset's
  (:mod:`hybrid.server.asset_fields`). A band keeps its collection's ``common_name``
  there through filter_bands, apply and the like, not through a rename or band maths;
  here a band named as one of SENTINEL2_L2A's has that band's ``common_name``.
- ``raster:bands``: with a time dimension, one ``{"statistics": {"mean", "minimum",
  "maximum", "stddev", "valid_percent"}}`` per band column of the rows Spark's
  intermediate CSV holds, one per date and geometry covering a pixel centre, the rows
  ``timeseries.csv`` has (``AggregatePolygonResultCSV.get_data`` L725-739: pandas, missing
  values skipped, the standard deviation with ddof 1, ``valid_percent`` the share of rows
  with a value). ``get_data`` computes them when it reads that CSV, for every format but
  CSV, which is copied as it is (``to_csv`` L745); for netCDF, Copernicus then puts GDAL's
  statistics of the file in their place (geopyspark-driver integrations/gdal.py
  ``_get_metadata_callback`` L207 skips only JSON, CSV and Parquet), as the results
  document here does (:mod:`hybrid.io.raster_statistics`). A statistic that is not a
  number (a band without any value) is null here, the nearest JSON has to pandas's NaN.

Copernicus also records the cube's ``start_datetime`` and ``end_datetime`` on the asset
(L370-373), which ``_asset_object`` does not pass on to the results document.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hybrid.io.vector import band_columns, is_aggregate_result, ordered, present

#: the statistics of one band column, in Copernicus's order (save_result.py L728-737)
STATISTICS = ("mean", "minimum", "maximum", "stddev", "valid_percent")


def written_asset_fields(
    data: Any, kind: str, format_name: str, written: Sequence[Path], options: Any
) -> dict[Path, dict[str, Any]]:
    """The asset fields of each file ``save_result`` wrote of ``data`` (of ``kind``, see
    :func:`hybrid.io.registry.kind_of`) with ``options``; for a raster only the band names
    of a GTiff that its header cannot hold (:func:`hybrid.io.gtiff.asset_band_names`),
    none for a plain value, whose files say what they hold."""
    fields = vector_asset_fields(data, format_name) if kind == "vector" else {}
    if kind == "raster" and format_name == "GTiff" and len(written) == 1:  # not per feature
        from hybrid.io.gtiff import asset_band_names

        names = asset_band_names(data, options)
        if names is not None:
            fields = {
                "bands": [{"name": n} for n in names],
                "eo:bands": [{"name": n} for n in names],
            }
    return {path: fields for path in written} if fields else {}


def vector_asset_fields(cube: Any, format_name: str) -> dict[str, Any]:
    """The fields of the asset that saving the vector cube ``cube`` as ``format_name``
    writes; empty for a vector cube that is not an aggregate_spatial result."""
    if not is_aggregate_result(cube):
        return {}
    fields: dict[str, Any] = {}
    if "bands" in cube.dims:
        from hybrid.collection import eo_bands

        common = {b["name"]: b["common_name"] for b in eo_bands() if "common_name" in b}
        names = band_columns(cube)
        fields["bands"] = [{"name": name} for name in names]
        fields["eo:bands"] = [
            {"name": name, **({"common_name": common[name]} if name in common else {})}
            for name in names
        ]
    if "t" in cube.dims and format_name != "CSV":
        fields["raster:bands"] = [{"statistics": s} for s in column_statistics(cube)]
    return fields


def column_statistics(cube: Any) -> list[dict[str, float | None]]:
    """Each band column's statistics over the rows of ``timeseries.csv`` (every date of
    each geometry covering a pixel centre, but where it has no tile)."""
    import pandas as pd

    cube = ordered(cube)
    rows = cube.values[present(cube)]
    table = pd.DataFrame(rows, dtype=float)
    return [_statistics(table[column]) for column in table.columns]


def _statistics(column: Any) -> dict[str, float | None]:
    count = len(column)
    found = {
        "mean": column.mean(),
        "minimum": column.min(),
        "maximum": column.max(),
        "stddev": column.std(),
        "valid_percent": 100.0 * column.count() / count if count else None,
    }
    return {name: _number(found[name]) for name in STATISTICS}


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
