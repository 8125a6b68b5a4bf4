"""read_vector and get_geometries: the geometries of a GeoJSON file or a shapefile, named
by a path or an http(s) URL (Copernicus's deprecated non-standard processes).

The openeo client up to 0.35 wrote a ``read_vector`` node for ``geometries`` given as a
string (``aggregate_spatial(geometries="/data/fields.geojson")``); its documentation
("Legacy read_vector usage") now has scripts write the node themselves,
``geometries=process("read_vector", filename=...)``. As Copernicus reads it
(openeo-python-driver 9e5b49b2 ``process_implementations/geometry.py`` ``read_vector``
L142-165 and ``get_geometries`` L126-139, ``delayed_vector.py`` ``DelayedVector``;
``cubes.py`` ``aggregate_spatial`` L460-461 ``to_driver_vector_cube``):

- ``filename``: an http(s) URL or a file on the machine that runs the graph (an
  absolute path, a path relative to its working folder, or a ``file://`` URL, as
  load_stac reads one); a string that looks like JSON is refused
  (``_check_geometry_path_assumption``);
- a name ending in ``.shp`` (a URL's path) is a shapefile, read with the ``.shx``,
  ``.dbf`` and ``.prj`` beside it (from a URL they are fetched too; the ``.prj`` may be
  missing); anything else is read as GeoJSON: a FeatureCollection, GeometryCollection,
  Feature or geometry, in the CRS its ``crs`` member names (``_read_geojson_crs``), else
  lon/lat. GeoPackage, Parquet or FlatGeobuf are not read (Copernicus parses them as
  JSON and fails): load_url reads them;
- geometries only: the features' properties are dropped (``as_geodataframe``), the CRS
  is kept; the vector cube has load_geojson's layout (labels 0..n-1), which
  aggregate_spatial, filter_spatial, mask_polygon and apply_polygon take; vector_buffer
  reads a filename itself (``geometry.py`` L67-69);
- a file that cannot be read is a 400 naming it (Copernicus: a 500 for a missing file);
- get_geometries without ``filename`` is its ``feature_collection`` as given;
- saved as GeoJSON, the result is ``DelayedVector.geojson`` (``save_result.py``
  L1009-1010, ``delayed_vector.py`` L127-164): a GeoJSON file's own document when it is
  lon/lat, else its features reprojected to lon/lat with their properties; a shapefile's
  geometries in lon/lat with empty properties (:data:`hybrid.io.vector.FILE_GEOJSON`);
- read_vector warns that it is deprecated, as Copernicus logs.

Their geometries bound a load without extent, as Copernicus's dry run reads them
(``extent_literals.py``): read before the run, and once per run (``url_load.read_once``);
not while a batch job is created (``url_load.unread``).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any, NamedTuple

from hybrid.errors import ProcessParameterInvalid
from hybrid.geometries import Features, read_features, unwrapped
from hybrid.io.vector import FILE_GEOJSON, FILE_GEOMETRIES

#: what a shapefile is read with, beside the ``.shp``; the ``.prj`` may be missing
_SIDECARS = (".shx", ".dbf")


def read_vector(filename: Any) -> Any:
    from hybrid.run_warnings import warn

    cube = file_cube(filename, "read_vector")
    warn("read_vector is deprecated (on Copernicus too): use load_url or load_geojson")
    return cube


def get_geometries(filename: Any = None, feature_collection: Any = None) -> Any:
    if filename is None:
        if feature_collection is None:
            raise ProcessParameterInvalid(
                "get_geometries: give a filename (path or URL) or a feature_collection"
            )
        return unwrapped(feature_collection)
    return file_cube(filename, "get_geometries")


def file_cube(filename: Any, process: str) -> Any:
    """The vector cube of the geometries in the file ``filename`` names."""
    from hybrid.backends.local.processes.geojson_load import features_cube

    file = _file(filename, process)
    cube = features_cube(file.features, [], None)
    cube.attrs[FILE_GEOMETRIES] = True
    cube.attrs[FILE_GEOJSON] = file.geojson
    return cube


def file_features(filename: Any, process: str) -> Features:
    """The geometries (without properties) of the GeoJSON file or shapefile at
    ``filename``, read once per run."""
    return _file(filename, process).features


class _VectorFile(NamedTuple):
    """A vector file's geometries, and the GeoJSON Copernicus saves of it."""

    features: Features
    geojson: dict[str, Any]

    @classmethod
    def of(cls, features: Features, document: dict[str, Any] | None = None) -> _VectorFile:
        return cls(features, _lonlat_document(document, features))


def _file(filename: Any, process: str) -> _VectorFile:
    from hybrid.backends.local.processes.url_load import remembered

    text = _filename(filename, process)
    return remembered(("vector_file", text), lambda: _read(text, process))


def _filename(filename: Any, process: str) -> str:
    text = unwrapped(filename)
    if not isinstance(text, str) or not text.strip():
        raise ProcessParameterInvalid(
            f"{process}: filename must be a file path or an http(s) URL, got {text!r}"
        )
    if text.lstrip().startswith("{"):
        raise ProcessParameterInvalid(
            f"{process}: filename looks like GeoJSON ({text.strip()[:32]!r}...), not a path "
            "or URL; give GeoJSON with load_geojson"
        )
    return text


def _read(text: str, process: str) -> _VectorFile:
    from hybrid.stac.access import local_path

    if re.match(r"^https?://", text, flags=re.IGNORECASE):
        return _from_url(text, process)
    path = local_path(text)
    if path is None:
        raise ProcessParameterInvalid(
            f"{process}: {text!r} is neither an http(s) URL nor a file path on this "
            "machine; serve the file over http(s)"
        )
    if not path.is_file():
        raise ProcessParameterInvalid(f"{process}: there is no file {text}")
    if _is_shapefile(path.name):
        return _VectorFile.of(_shapefile(path, text, process))
    return _geojson(path.read_bytes(), text, process)


def _from_url(url: str, process: str) -> _VectorFile:
    import tempfile
    from urllib.parse import urlparse

    from hybrid.backends.local.processes.url_load import fetched

    parts = urlparse(url)
    if not _is_shapefile(parts.path):
        return _geojson(fetched(url, process, ProcessParameterInvalid), url, process)

    def beside(suffix: str) -> str:  # the file of the same name with another suffix
        return parts._replace(path=parts.path[: -len(".shp")] + suffix).geturl()

    with tempfile.TemporaryDirectory(prefix="hybrid-read-vector-") as folder:
        target = Path(folder) / "data.shp"
        target.write_bytes(fetched(url, process, ProcessParameterInvalid))
        for suffix in _SIDECARS:
            part = fetched(beside(suffix), process, ProcessParameterInvalid)
            target.with_suffix(suffix).write_bytes(part)
        with contextlib.suppress(ProcessParameterInvalid):  # no .prj: lon/lat
            prj = fetched(beside(".prj"), process, ProcessParameterInvalid)
            target.with_suffix(".prj").write_bytes(prj)
        return _VectorFile.of(_shapefile(target, url, process))


def _is_shapefile(name: str) -> bool:
    return name.lower().endswith(".shp")


def _geojson(content: bytes, source: str, process: str) -> _VectorFile:
    import json

    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProcessParameterInvalid(
            f"{process}: cannot read {source} as GeoJSON ({exc}); {process} reads GeoJSON "
            "or a shapefile (.shp), as on Copernicus: read GPKG, Parquet or FlatGeobuf "
            "with load_url"
        ) from None
    features = read_features(document, process=f"{process} ({source})", crs_member=True)
    geometries = _geometries_only(features.geometries, features.crs)
    return _VectorFile.of(geometries, document)


def _lonlat_document(document: dict[str, Any] | None, features: Features) -> dict[str, Any]:
    """``DelayedVector.geojson``: a GeoJSON ``document`` as it is in lon/lat; else its
    features in lon/lat with their properties (a single geometry or Feature, which
    Copernicus fails on, as a FeatureCollection of it); a shapefile's geometries in
    lon/lat with empty properties."""
    import pyproj
    from shapely.geometry import mapping

    from hybrid.geometries import DEFAULT_CRS

    lonlat = pyproj.CRS.from_user_input(features.crs) == pyproj.CRS.from_user_input(DEFAULT_CRS)
    if document is not None and lonlat:
        return document
    given = None
    if document is not None and document.get("type") == "FeatureCollection":
        given = document.get("features")
    if not isinstance(given, list) or len(given) != len(features.geometries):
        given = None
    out = []
    for index, geometry in enumerate(features.to_crs(DEFAULT_CRS)):
        feature: dict[str, Any] = {"type": "Feature", "geometry": dict(mapping(geometry))}
        if given is None:
            feature["properties"] = {}
        elif "properties" in given[index]:
            feature["properties"] = given[index]["properties"]
        out.append(feature)
    return {"type": "FeatureCollection", "features": out}


def _shapefile(path: Path, source: str, process: str) -> Features:
    import geopandas as gpd

    from hybrid.backends.local.processes.url_load import frame_geometries

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # any reader's failure is the file's: one line naming it
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        first = first.replace(str(path), source).split("; ")[0]  # not the server's folders
        raise ProcessParameterInvalid(
            f"{process}: cannot read {source} as a shapefile: {first}"
        ) from None
    missing = [i for i, g in enumerate(frame.geometry.values) if g is None or g.is_empty]
    if missing or frame.empty:
        raise ProcessParameterInvalid(
            f"{process}: {source} has features without a geometry ({missing[:5] or 'all'})"
        )
    return _geometries_only(*frame_geometries(frame))


def _geometries_only(geometries: tuple[Any, ...], crs: str) -> Features:
    return Features(geometries, tuple({} for _ in geometries), crs)


READ_VECTOR_SPEC: dict[str, Any] = {
    "id": "read_vector",
    "summary": "Geometries from a vector file (deprecated)",
    "description": "Deprecated (use `load_url` or `load_geojson`): reads the geometries of "
    "a GeoJSON file or a shapefile (`.shp`, with its `.shx`, `.dbf` and `.prj`) given by "
    "an http(s) URL or a path on the back-end, as a vector cube without properties.",
    "categories": ["vector", "import"],
    "experimental": True,
    "deprecated": True,
    "parameters": [
        {"name": "filename",
         "description": "An http(s) URL or a back-end-side path of a GeoJSON file or a "
         "shapefile.",
         "schema": [{"type": "string", "subtype": "uri", "pattern": "^https?://"},
                    {"type": "string", "subtype": "file-path"}]},
    ],
    "returns": {"description": "A vector cube of the file's geometries.",
                "schema": {"type": "object", "subtype": "datacube",
                           "dimensions": [{"type": "geometry"}]}},
}  # fmt: skip

GET_GEOMETRIES_SPEC: dict[str, Any] = {
    "id": "get_geometries",
    "summary": "Geometries from a vector file or a feature collection",
    "description": "Reads the geometries of a vector file as `read_vector` does, or, "
    "without `filename`, returns the `feature_collection` given.",
    "categories": ["vector", "import"],
    "experimental": True,
    "parameters": [
        {"name": "filename", "optional": True, "default": None,
         "description": "An http(s) URL or a back-end-side path of a GeoJSON file or a "
         "shapefile.",
         "schema": [{"type": "string"}, {"type": "null"}]},
        {"name": "feature_collection", "optional": True, "default": None,
         "description": "A GeoJSON FeatureCollection.",
         "schema": [{"type": "object", "subtype": "geojson"}, {"type": "null"}]},
    ],
    "returns": {"description": "A vector cube, or the feature collection given.",
                "schema": [{"type": "object", "subtype": "datacube",
                            "dimensions": [{"type": "geometry"}]},
                           {"type": "object", "subtype": "geojson"}]},
}  # fmt: skip
