"""Vector cubes (aggregate_spatial results) written in Copernicus's layouts.

A vector cube here is an xarray DataArray with the dimension ``geometries`` (labels
0..n-1, the feature index), optionally ``t`` and ``bands``, and the coordinate
``geometry`` (shapely) along ``geometries`` (see backends.local.processes.vector).

The layouts are those of openeo-python-driver, openeo_driver/save_result.py, which the
Copernicus backend (openeo-geopyspark-driver) uses for aggregate_spatial results:

- JSON ``timeseries.json``: ``{"2020-06-26T00:00:00Z": [[band values] per feature]}``
  (``AggregatePolygonResultCSV.get_data``: dates ``%Y-%m-%dT%XZ``, features in index
  order, NaN as null via ``replace_nan_values``); without ``t``, ``[[band values] per
  feature]`` (``AggregatePolygonSpatialResult.prepare_for_json``);
- CSV ``timeseries.csv``: ``date,feature_index,<band columns>``, as Spark writes it in
  openeo-geotrellis-extensions AggregatePolygonProcess.scala
  (``aggregateByDateAndPolygon``), dates ``2020-06-26T00:00:00.000Z``, missing values
  empty; the band column of a cube without bands is ``band_unnamed`` (the name
  geopysparkdatacube.py ``zonal_statistics`` gives it); without ``t``: no date column;
- netCDF ``timeseries.nc``: ``AggregatePolygonResult.to_netcdf`` /
  ``_create_point_timeseries_xarray``: dims (feature, t), one variable per band
  (``band_0``... when the cube has no bands), coordinates ``lat``/``lon`` (a
  representative point of each geometry, EPSG:4326) and ``feature_names``
  (``feature_0``...), dates where every value is missing dropped, CF-1.8;
- GeoParquet ``timeseries.parquet``: ``to_geoparquet``: one row per date and feature,
  ``date, feature_index, <bands>``, the feature's properties and its geometry.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from hybrid.atomic import atomic_path
from hybrid.errors import FormatUnsuitable

#: save_result format (lower case) -> (file name, writer name)
VECTOR_FORMATS = {
    "json": "timeseries.json",
    "csv": "timeseries.csv",
    "netcdf": "timeseries.nc",
    "nc": "timeseries.nc",
    "parquet": "timeseries.parquet",
    "geoparquet": "timeseries.parquet",
}
UNNAMED_BAND = "band_unnamed"


def is_vector_cube(value: Any) -> bool:
    return hasattr(value, "dims") and "geometries" in value.dims


def write_vector_cube(cube: Any, format: str, folder: str | Path) -> Path:
    """Write a vector cube as ``format`` (JSON, CSV, netCDF, Parquet) into ``folder``."""
    name = VECTOR_FORMATS.get(str(format).lower())
    if name is None:
        raise FormatUnsuitable(
            f"save_result: format '{format}' cannot hold a vector cube (aggregate_spatial "
            "result); use JSON, CSV, netCDF or Parquet"
        )
    extra = set(map(str, cube.dims)) - {"geometries", "t", "bands"}
    if extra:
        raise FormatUnsuitable(
            f"save_result: the vector cube has dimensions {sorted(extra)} besides geometries, "
            "t and bands; reduce them before saving"
        )
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix
    with atomic_path(path) as tmp:
        if suffix == ".json":
            tmp.write_text(json.dumps(timeseries_json(cube)))
        elif suffix == ".csv":
            tmp.write_text(timeseries_csv(cube))
        elif suffix == ".nc":
            tmp.write_bytes(timeseries_netcdf(cube))
        else:
            tmp.write_bytes(timeseries_parquet(cube))
    return path


def _ordered(cube: Any) -> Any:
    """(geometries, [t], bands) with a bands dimension always present."""
    if "bands" not in cube.dims:
        cube = cube.expand_dims(bands=[UNNAMED_BAND], axis=-1)
    order = [d for d in ("geometries", "t", "bands") if d in cube.dims]
    return cube.transpose(*order)


def _value(v: Any) -> Any:
    import math

    f = float(v)
    return None if math.isnan(f) else f


def _date_json(label: Any) -> str:
    import numpy as np

    return str(np.datetime_as_string(np.datetime64(label, "s"), unit="s")) + "Z"


def timeseries_json(cube: Any) -> Any:
    cube = _ordered(cube)
    values = cube.values
    if "t" not in cube.dims:
        return [[_value(v) for v in feature] for feature in values]
    out: dict[str, Any] = {}
    for ti, label in enumerate(cube["t"].values):
        out[_date_json(label)] = [[_value(v) for v in feature[ti]] for feature in values]
    return out


def _band_columns(cube: Any) -> list[str]:
    return [str(b) for b in cube["bands"].values]


def timeseries_csv(cube: Any) -> str:
    import numpy as np

    cube = _ordered(cube)
    values = cube.values
    columns = _band_columns(cube)

    def cells(row: Any) -> list[str]:
        return ["" if np.isnan(v) else repr(float(v)) for v in row]

    lines = []
    if "t" not in cube.dims:
        lines.append(",".join(["feature_index", *columns]))
        for fi, feature in enumerate(values):
            lines.append(",".join([str(fi), *cells(feature)]))
    else:
        lines.append(",".join(["date", "feature_index", *columns]))
        for ti, label in enumerate(cube["t"].values):
            date = str(np.datetime_as_string(np.datetime64(label, "ms"), unit="ms")) + "Z"
            for fi, feature in enumerate(values):
                lines.append(",".join([date, str(fi), *cells(feature[ti])]))
    return "\n".join(lines) + "\n"


def _lonlat_points(cube: Any) -> tuple[list[float], list[float]]:
    from hybrid.geometries import vector_cube_features

    features = vector_cube_features(cube)
    points = [g.representative_point() for g in features.to_crs("EPSG:4326")]
    return [p.y for p in points], [p.x for p in points]


def timeseries_netcdf(cube: Any) -> bytes:
    import numpy as np
    import xarray as xr

    if "t" not in cube.dims:
        raise FormatUnsuitable(
            "save_result: netCDF holds aggregate_spatial results with a time dimension only "
            "(as on Copernicus); use JSON, CSV or Parquet"
        )
    raw_bands = "bands" in cube.dims
    cube = _ordered(cube)
    names = _band_columns(cube) if raw_bands else ["band_0"]
    lats, lons = _lonlat_points(cube)
    times = np.asarray(cube["t"].values).astype("datetime64[ns]")
    variables = {name: (("feature", "t"), cube.values[:, :, i]) for i, name in enumerate(names)}
    ds = xr.Dataset(variables, coords={"t": times})
    ds = ds.dropna(dim="t", how="all").sortby("t")
    ds.coords["lat"] = ("feature", lats)
    ds.coords["lon"] = ("feature", lons)
    ds.coords["feature_names"] = ("feature", [f"feature_{i}" for i in range(len(lats))])
    ds["lat"].attrs = {"units": "degrees_north", "standard_name": "latitude"}
    ds["lon"].attrs = {"units": "degrees_east", "standard_name": "longitude"}
    ds["t"].attrs = {"standard_name": "time"}
    ds.attrs = {
        "Conventions": "CF-1.8",
        "source": "Aggregated timeseries generated by hybrid "
        "(layout of the openEO GeoPySpark backend).",
    }
    encoding = {name: {"zlib": True, "complevel": 5} for name in names}
    return bytes(ds.to_netcdf(None, engine="h5netcdf", encoding=encoding))


def timeseries_parquet(cube: Any) -> bytes:
    import geopandas as gpd
    import pandas as pd

    from hybrid.geometries import vector_cube_features

    features = vector_cube_features(cube)
    cube = _ordered(cube)
    columns = _band_columns(cube)
    values = cube.values
    rows = []
    dates = [_date_json(t) for t in cube["t"].values] if "t" in cube.dims else [None]
    for ti, date in enumerate(dates):
        for fi in range(values.shape[0]):
            band_values = values[fi, ti] if "t" in cube.dims else values[fi]
            row = {"date": date, "feature_index": fi}
            row.update({c: _value(v) for c, v in zip(columns, band_values, strict=True)})
            row.update({f"{k}": v for k, v in features.properties[fi].items() if k not in row})
            row["geometry"] = features.geometries[fi]
            rows.append(row)
    frame = pd.DataFrame(rows)
    if "t" not in cube.dims:
        frame = frame.drop(columns="date")
    gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=features.crs)
    buffer = io.BytesIO()
    gdf.to_parquet(buffer)
    return buffer.getvalue()
