"""The layout of a result file, apart from its values: format, dims, variables, dtypes,
attribute names, compression, chunking. ``hybrid compare`` reports differences in layout
separately from differences in values, and the tests hold hybrid's files against a real
Copernicus result with it.

Attribute VALUES are not part of the layout (they are job-specific: WKT text, titles,
timestamps); attribute NAMES are. hybrid's own provenance attributes (``hybrid_*``, and
the older ``provenance_*``) are left out, so a hybrid file and a Copernicus file of the
same job have the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid.errors import UsageError
from hybrid.io.provenance import LEGACY_PREFIXES, PREFIX


@dataclass(frozen=True)
class VariableLayout:
    """One NetCDF variable (or one GeoTIFF band set)."""

    dtype: str
    dims: tuple[str, ...]
    attributes: tuple[str, ...]
    #: chunk shape, or None when stored contiguously
    chunks: tuple[int, ...] | None
    #: "zlib/6", "deflate/6", or "none"
    compression: str


@dataclass(frozen=True)
class FileLayout:
    """Everything about a result file but its values."""

    #: "NETCDF4_CLASSIC", "NETCDF4", ..., or "GTiff"
    format: str
    #: (name, size, unlimited) in file order
    dims: tuple[tuple[str, int, bool], ...]
    globals: tuple[str, ...]
    variables: dict[str, VariableLayout] = field(default_factory=dict)


def _own(name: str) -> bool:
    return name.startswith((PREFIX, *LEGACY_PREFIXES))


def describe(path: str | Path) -> FileLayout:
    """The layout of a NetCDF or GeoTIFF file (a folder: its first result file)."""
    path = Path(path)
    if path.is_dir():
        from hybrid.io.registry import format_of_file

        files = sorted(p for p in path.iterdir() if _raster_file(format_of_file(p)))
        if not files:
            raise UsageError(f"{path} holds no result file")
        path = files[0]
    if path.suffix.lower() in (".tif", ".tiff"):
        return _describe_gtiff(path)
    return _describe_netcdf(path)


def _raster_file(fmt: Any) -> bool:
    """A NetCDF or GeoTIFF result file (a results folder also holds the job's
    ``job-results.json``, which is none)."""
    return fmt is not None and "raster" in fmt.readers


def _describe_netcdf(path: Path) -> FileLayout:
    import netCDF4

    from hybrid.io.netcdf_layout import NETCDF4_LOCK

    with NETCDF4_LOCK:
        return _describe_open_netcdf(netCDF4, path)


def _describe_open_netcdf(netCDF4: Any, path: Path) -> FileLayout:
    try:
        ds = netCDF4.Dataset(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path} as NetCDF: {exc}") from None
    try:
        dims = tuple((n, len(d), d.isunlimited()) for n, d in ds.dimensions.items())
        variables = {}
        for name, var in ds.variables.items():
            chunking = var.chunking()
            filters = var.filters() or {}
            compression = f"zlib/{filters['complevel']}" if filters.get("zlib") else "none"
            if filters.get("shuffle"):
                compression += "+shuffle"
            variables[name] = VariableLayout(
                dtype=str(var.dtype),
                dims=tuple(var.dimensions),
                attributes=tuple(var.ncattrs()),
                chunks=None if chunking == "contiguous" else tuple(chunking),
                compression=compression,
            )
        names = tuple(a for a in ds.ncattrs() if not _own(a))
        return FileLayout(str(ds.data_model), dims, names, variables)
    finally:
        ds.close()


def _describe_gtiff(path: Path) -> FileLayout:
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(path) as src:
            tags = tuple(t for t in src.tags() if not _own(t) and t != "AREA_OR_POINT")
            blocks = src.block_shapes[0]
            compression = str(src.compression.value).lower() if src.compression else "none"
            band_tags = ("DESCRIPTION",) if any(src.descriptions) else ()
            overviews = tuple(src.overviews(1))
            bands = VariableLayout(
                dtype=str(src.dtypes[0]),
                dims=("band", "y", "x"),
                attributes=band_tags + tuple(f"overview_{f}" for f in overviews),
                chunks=(1, *blocks) if src.profile.get("tiled") else None,
                compression=compression,
            )
            dims = (("band", src.count, False), ("y", src.height, False), ("x", src.width, False))
            return FileLayout("GTiff", dims, tags, {"bands": bands})
    except RasterioIOError as exc:
        raise UsageError(f"cannot read {path} as GeoTIFF: {exc}") from None


def differences(a: FileLayout, b: FileLayout, *, sizes: bool = False) -> list[str]:
    """What differs between two layouts, one line each (empty: the same layout).

    Dimension sizes are compared only with ``sizes`` (two jobs over different extents
    share a layout; the grid itself is compared with the values).
    """
    found: list[str] = []
    if a.format != b.format:
        found.append(f"format: {a.format} vs {b.format}")
    dims_a = [(n, s if sizes else None, u) for n, s, u in a.dims]
    dims_b = [(n, s if sizes else None, u) for n, s, u in b.dims]
    if dims_a != dims_b:
        found.append(f"dims: {_dims_text(a.dims)} vs {_dims_text(b.dims)}")
    found += _name_differences("global attributes", a.globals, b.globals)
    found += _name_differences("variables", tuple(a.variables), tuple(b.variables))
    for name in (n for n in a.variables if n in b.variables):
        found += _variable_differences(name, a.variables[name], b.variables[name])
    return found


def _variable_differences(name: str, a: VariableLayout, b: VariableLayout) -> list[str]:
    found = []
    for label in ("dtype", "dims", "chunks", "compression"):
        va, vb = getattr(a, label), getattr(b, label)
        if va != vb:
            found.append(f"{name}: {label} {_text(va)} vs {_text(vb)}")
    found += _name_differences(f"{name}: attributes", a.attributes, b.attributes)
    return found


def _name_differences(what: str, a: tuple[str, ...], b: tuple[str, ...]) -> list[str]:
    only_a = [n for n in a if n not in b]
    only_b = [n for n in b if n not in a]
    found = []
    if only_a:
        found.append(f"{what} only in A: {', '.join(only_a)}")
    if only_b:
        found.append(f"{what} only in B: {', '.join(only_b)}")
    return found


def _dims_text(dims: tuple[tuple[str, int, bool], ...]) -> str:
    return "(" + ", ".join(f"{n}{'*' if u else ''}" for n, _s, u in dims) + ")"


def _text(value: Any) -> str:
    if value is None:
        return "contiguous"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return str(value)
