"""load_url: vector data from an http(s) URL as a vector cube.

The openeo client writes a ``load_url`` node for geometries given as a URL
(``aggregate_spatial(geometries="https://.../fields.parquet")``, the format guessed from
the suffix). As Copernicus reads it (openeo-python-driver 9e5b49b2
``processgraph/process_implementations/io.py`` ``load_url`` L248-262, ``datacube.py``
``DriverVectorCube.from_fiona`` L431-463, ``from_parquet`` L467-485,
``from_geodataframe`` L329-389):

- ``url`` must be ``http(s)://`` (Copernicus also reads ``s3://`` from its own object
  storage, which does not exist here: refused); the whole file is fetched (at most
  :data:`MAX_URL_BYTES`) and read with geopandas;
- ``format`` is one of the input formats (:mod:`hybrid.io.input_formats`), in any case:
  GeoJSON, Parquet (GeoParquet), FlatGeobuf or GPKG; GTiff is an input format for
  load_stac, which load_url does not read (Copernicus: FeatureUnsupported; here
  FormatUnsuitable, as openEO's description of load_url says);
- the geometries keep the file's CRS (GeoJSON's is lon/lat; none declared: lon/lat);
  invalid ones are made valid (Copernicus reads with ``on_invalid="fix"``);
- ``options.columns_for_cube`` picks the values: ``"numerical"`` (the default: the
  numeric columns), ``"all"`` (every column) or a list of names (one missing from the
  file is NaN); they lie along the dimension ``properties``, as pandas holds them
  (:func:`~hybrid.backends.local.processes.geojson_load.property_values`: texts kept).
  Without any,
  the cube holds the geometries only. Every column stays a property of its feature.
- a URL that cannot be fetched or read is a 400 ``load_url_reading_error`` naming it.

The load extents read it before the run (its fields can bound a load, as in Copernicus's
dry run); inside one :func:`read_once` block (the engine's run) each URL is fetched once.
Creating a batch job does not read it (:func:`unread`): Copernicus stores the job's graph
and reads the URL in the dry run that starts the job, so a URL that cannot be read fails
the job, not its creation.

The cube has load_geojson's layout (:func:`hybrid.backends.local.processes.geojson_load.
features_cube`): aggregate_spatial, filter_spatial and mask_polygon take it as
``geometries``.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from hybrid.errors import FormatUnsuitable, HybridError, ProcessParameterInvalid, UrlUnreadable
from hybrid.io.vector_frame import FRAME_COLUMNS
from hybrid.limits import MAX_URL_BYTES

#: seconds to connect, and to wait for each part of the answer
_TIMEOUT = (10, 120)
_SUFFIXES = {"GeoJSON": ".geojson", "FlatGeobuf": ".fgb", "GPKG": ".gpkg", "Parquet": ".parquet"}
_COLUMN_CHOICES = ("numerical", "all")
#: what was read inside the current :func:`read_once` block, by :func:`remembered`'s key
_READ: ContextVar[dict[tuple[str, ...], Any] | None] = ContextVar("hybrid_load_url", default=None)
#: set inside an :func:`unread` block
_UNREAD: ContextVar[bool] = ContextVar("hybrid_load_url_unread", default=False)


def load_url(url: Any, format: Any, options: Any = None) -> Any:
    from hybrid.backends.local.processes.geojson_load import features_cube, property_values

    address = _checked_url(url)
    name = _vector_format(format)
    choice = dict(getattr(options, "root", options) or {}).get("columns_for_cube", "numerical")
    frame = _frame(address, name)
    columns = _cube_columns(frame, choice)
    features = _features(frame)
    values = property_values(frame, columns) if columns else None
    cube = features_cube(features, columns, values)
    # written back in the file's column order (``read_file`` puts the geometry last)
    cube.attrs[FRAME_COLUMNS] = [str(c) for c in frame.columns]
    return cube


@contextlib.contextmanager
def read_once() -> Iterator[None]:
    """Inside the block, a URL read in one format (or a vector file read_vector reads:
    :mod:`~hybrid.backends.local.processes.vector_files`) is fetched and parsed once."""
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


@contextlib.contextmanager
def unread() -> Iterator[None]:
    """Inside the block the checks before a run leave load_url's URLs unread
    (:func:`left_unread`): a batch job being created reads them when it runs."""
    token = _UNREAD.set(True)
    try:
        yield
    finally:
        _UNREAD.reset(token)


def left_unread() -> bool:
    """Whether a check inside an :func:`unread` block is running."""
    return _UNREAD.get()


def remembered(key: tuple[str, ...], read: Callable[[], Any]) -> Any:
    """``read()``, called once per ``key`` inside a :func:`read_once` block."""
    memo = _READ.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def _frame(address: str, name: str) -> Any:
    """The GeoDataFrame at ``address``, read once per :func:`read_once` block."""
    return remembered(("load_url", address, name), lambda: _read(fetched(address), name, address))


def _checked_url(url: Any) -> str:
    text = str(getattr(url, "root", url))
    if text.lower().startswith("s3://"):
        raise ProcessParameterInvalid(
            f"load_url: {text!r} is in Copernicus's object storage, which this backend "
            "cannot reach; serve the file over http(s)"
        )
    if not re.match(r"^https?://", text, flags=re.IGNORECASE):
        raise ProcessParameterInvalid(
            f"load_url: url must start with http:// or https://: {text!r}"
        )
    return text


def _vector_format(format: Any) -> str:
    from hybrid.io.input_formats import input_format, vector_input

    name = input_format(str(format))
    if name is None:
        raise ProcessParameterInvalid(
            f"load_url: format {format!r} is not an input format; use GeoJSON, Parquet, "
            "FlatGeobuf or GPKG"
        )
    if not vector_input(name):
        raise FormatUnsuitable(
            f"load_url reads vector data, not {name} (as on Copernicus); load raster data "
            "with load_stac"
        )
    return name


def fetched(url: str, process: str = "load_url", error: type[HybridError] = UrlUnreadable) -> bytes:
    """The file at ``url``, whole (at most :data:`MAX_URL_BYTES`); ``error`` names ``process``
    if it cannot be fetched."""
    import requests

    try:
        with requests.get(url, stream=True, timeout=_TIMEOUT) as answer:
            if answer.status_code >= 400:
                raise error(f"{process} could not read {url}: HTTP {answer.status_code}")
            parts, size = [], 0
            for part in answer.iter_content(chunk_size=1 << 20):
                size += len(part)
                if size > MAX_URL_BYTES:
                    raise error(
                        f"{process}: {url} is larger than {MAX_URL_BYTES >> 20} MiB; split it"
                    )
                parts.append(part)
    except requests.RequestException as exc:
        raise error(f"{process} could not read {url}: {exc}") from None
    return b"".join(parts)


def _read(content: bytes, name: str, url: str) -> Any:
    """The file as a GeoDataFrame, read from a local copy named as its format is."""
    import geopandas as gpd

    with tempfile.TemporaryDirectory(prefix="hybrid-load-url-") as folder:
        path = Path(folder) / f"data{_SUFFIXES[name]}"
        path.write_bytes(content)
        try:
            return gpd.read_parquet(path) if name == "Parquet" else gpd.read_file(path)
        except Exception as exc:  # any reader's failure is the file's: one line naming it
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            first = first.replace(str(path), "the file")  # not the server's folders
            raise UrlUnreadable(f"load_url could not read {url} as {name}: {first}") from None


def _cube_columns(frame: Any, choice: Any) -> list[str]:
    import numpy as np

    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    if choice == "numerical":
        return [c for c in columns if np.issubdtype(frame[c].dtype, np.number)]
    if choice == "all":
        return columns
    if isinstance(choice, list) and all(isinstance(c, str) for c in choice):
        return list(choice)
    raise ProcessParameterInvalid(
        f"load_url: options.columns_for_cube must be {' or '.join(_COLUMN_CHOICES)} or a "
        f"list of column names, not {choice!r}"
    )


def _features(frame: Any) -> Any:
    from hybrid.geometries import Features

    table = frame.drop(columns=frame.geometry.name)
    properties = tuple(json.loads(table.to_json(orient="records", date_format="iso")))
    geometries, crs = frame_geometries(frame)
    return Features(geometries, properties, crs)


def frame_geometries(frame: Any) -> tuple[tuple[Any, ...], str]:
    """A GeoDataFrame's geometries, invalid ones made valid (as Copernicus reads with
    ``on_invalid="fix"``), and its CRS as text (none declared: lon/lat)."""
    import shapely

    from hybrid.geometries import DEFAULT_CRS

    geometries = tuple(shapely.make_valid(g) for g in frame.geometry.values)
    return geometries, frame.crs.to_string() if frame.crs is not None else DEFAULT_CRS
