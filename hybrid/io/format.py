"""The :class:`Format` record: everything hybrid knows about one result format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from hybrid.errors import FormatUnsuitable, UsageError

#: what a graph can hand ``save_result``: a raster cube (x/y dims), a vector cube
#: (a geometry dimension, e.g. from ``aggregate_spatial``) or a plain value (number,
#: string, list, dict)
CubeKind = Literal["raster", "vector", "value"]
KINDS: tuple[CubeKind, ...] = ("raster", "vector", "value")


class Writer(Protocol):
    """Writes ``data`` into the folder ``out_dir``; returns the files written.

    ``attrs`` are global attributes to store (provenance, already ``hybrid_``-prefixed);
    ``options`` are ``save_result``'s format options. Each file appears complete or not
    at all (temporary file + rename).
    """

    def __call__(
        self, data: Any, out_dir: Path, /, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
    ) -> list[Path]: ...


class Reader(Protocol):
    """Opens the files of one result (one file, or one per label) as a normalised object."""

    def __call__(self, files: list[Path], /, *, source: Path) -> Any: ...


def one_file(files: list[Path], source: Path, kind: str) -> Path:
    """The one file of a result a :class:`Reader` reads (a folder with several is the
    caller's to narrow down)."""
    if len(files) != 1:
        names = ", ".join(p.name for p in files)
        raise UsageError(f"{source} holds several {kind} files ({names}): give one of them")
    return files[0]


class Annotator(Protocol):
    """Adds global attributes (provenance) to a file already written in this format."""

    def __call__(self, file: Path, attrs: Mapping[str, Any], /) -> None: ...


@dataclass(frozen=True)
class Format:
    """One output format, as ``save_result``, ``/file_formats`` and the CLI name it."""

    #: the canonical name (``netCDF``), as openEO's ``/file_formats`` lists it
    name: str
    #: one line for ``/file_formats`` and help texts
    title: str
    #: file suffix with the dot (``.nc``); the first one is written
    suffixes: tuple[str, ...]
    media_type: str
    #: True when the result is one file per time label (``openEO_YYYY-MM-DDZ.tif``)
    per_label: bool
    #: the writer for each kind of data this format can hold
    writers: Mapping[CubeKind, Writer] = field(default_factory=dict, hash=False)
    #: other names accepted case-insensitively (``nc``, ``geotiff``)
    aliases: tuple[str, ...] = ()
    #: readers for ``hybrid compare``/``plot``/summary, per kind
    readers: Mapping[CubeKind, Reader] = field(default_factory=dict, hash=False)
    #: adds provenance attributes to a written file (None: the format has no attributes)
    annotate: Annotator | None = field(default=None, hash=False)
    #: whether its vector writer takes aggregate_spatial results (Copernicus's
    #: ``AggregatePolygonResult``); False: load_geojson's cube only, and an aggregate goes
    #: the way of a format without a vector writer (:func:`hybrid.io.registry.write_result`)
    holds_aggregates: bool = True
    #: the save_result options it honours, as JSON schemas (``/file_formats`` ``parameters``)
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)

    @property
    def suffix(self) -> str:
        return self.suffixes[0]

    @property
    def kinds(self) -> tuple[CubeKind, ...]:
        """The kinds of data this format accepts, in :data:`KINDS` order."""
        return tuple(k for k in KINDS if k in self.writers)

    def accepts(self, name: str) -> bool:
        """Is ``name`` this format's name or alias (case-insensitive)?"""
        lowered = name.strip().lower()
        return lowered == self.name.lower() or lowered in (a.lower() for a in self.aliases)

    def holds(self, path: Path) -> bool:
        """Is ``path`` (by its suffix) a file of this format?"""
        return path.suffix.lower() in self.suffixes

    def writer(self, kind: CubeKind) -> Writer:
        """The writer for ``kind``; :class:`FormatUnsuitable` when this format cannot hold it."""
        writer = self.writers.get(kind)
        if writer is None:
            can = ", ".join(self.kinds) or "nothing"
            raise FormatUnsuitable(
                f"save_result: format '{self.name}' cannot hold a {kind} result (it holds: {can})"
            )
        return writer


#: the file name stem Copernicus gives a result when save_result has no filename_prefix
DEFAULT_PREFIX = "openEO"

#: the ``/file_formats`` schemas of the options every raster writer honours (Copernicus
#: lists ``filename_prefix`` and ``file_metadata`` too: openeo-geopyspark-driver
#: backend.py ``file_formats``, about lines 487-620)
PREFIX_PARAMETER: dict[str, Any] = {
    "type": ["string", "null"],
    "description": "The stem of the result file names, in place of 'openEO'.",
    "default": None,
}
METADATA_PARAMETER: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "File-level metadata (title, description, institution, other keys) "
    "written into each result file.",
    "default": None,
}
#: a batch job's one file per geometry of its filter_spatial (hybrid.backends.local.samples)
SAMPLE_PARAMETERS: dict[str, dict[str, Any]] = {
    "sample_by_feature": {
        "type": "boolean",
        "description": "In a batch job: one file per geometry of the graph's last "
        "filter_spatial, holding that geometry's pixels.",
        "default": False,
    },
    "feature_id_property": {
        "type": ["string", "null"],
        "description": "With sample_by_feature: the GeoJSON property naming each file "
        "(default: the feature's index).",
        "default": None,
    },
}


def filename_prefix(options: Mapping[str, Any] | None) -> str:
    """save_result's ``options.filename_prefix`` (default ``openEO``), checked to be a
    plain file name: Copernicus writes ``{prefix}.nc`` and ``{prefix}_{date}.tif``
    (openeo-geopyspark-driver geopysparkdatacube.py:2629; openeo-geotrellis-extensions
    geotiff/package.scala:164, GTiffOptions.scala:11)."""
    prefix = (options or {}).get("filename_prefix")
    if prefix is None:
        return DEFAULT_PREFIX
    return plain_file_name(str(prefix), what="filename_prefix")


def plain_file_name(text: str, *, what: str) -> str:
    """``text`` if it can be (part of) a file name in the result folder, else
    ProcessParameterInvalid naming ``what`` it is."""
    from hybrid.errors import ProcessParameterInvalid

    if not text or text.startswith(".") or any(c in text for c in '/\\:*?"<>|\0'):
        raise ProcessParameterInvalid(
            f"save_result: {what} {text!r} is not a plain file name; "
            "use letters, digits, '-' or '_'"
        )
    return text


def option_flag(value: Any) -> bool:
    """A boolean save_result option as Copernicus reads it (openeo-python-driver
    utils.py ``smart_bool``): the texts "0", "no", "off", "false" are False, anything
    else by its truth."""
    if isinstance(value, str) and value.lower() in ("0", "no", "off", "false"):
        return False
    return bool(value)
