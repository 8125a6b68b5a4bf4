"""The NetCDF layout Copernicus writes for raster cubes, block by block.

What Copernicus's writer does (Open-EO/openeo-geotrellis-extensions,
openeo-geotrellis/src/main/scala/org/openeo/geotrellis/netcdf/NetCDFRDDWriter.scala at
commit 2a25a26e, ``setupNetCDF`` L591-729 and ``addTimeVariable``/``addNetcdfVariable``
L731-760; the same code in the newer version that adds ``bandsMetadata``), checked
against a real CDSE batch result (``openEO.nc`` of job j-251103085827407dbfb2c8698f756a4b):

- ``NetcdfFileWriter.Version.netcdf4_classic``: HDF5 storage, classic data model
  (string attributes are CHAR, no unsigned types);
- globals ``Conventions = "CF-1.9"``, ``institution``, then the job's ``file_metadata``:
  ``title``, ``description``, ``institution`` (openeo-geopyspark-driver
  deploy/batch_job.py ``global_metadata_attributes``, L381-385);
- dims ``t`` (unlimited, only when the cube has time), ``y``, ``x``;
- ``t`` INT with ``standard_name``/``long_name`` "t", ``units`` "days since 1990-01-01"
  (``seconds since 1990-01-01T00:00:00Z`` when a label is not at 00:00), ``axis`` "T",
  no ``calendar``;
- ``x``/``y`` DOUBLE pixel centres (y descending) with ``standard_name``
  ``projection_x_coordinate``, ``long_name`` "x coordinate of projection", ``units`` "m"
  (``longitude``/``latitude``, ``degrees_east``/``degrees_north`` for a degree CRS);
- ``crs``: a scalar CHAR variable holding only ``crs_wkt`` and ``spatial_ref`` (WKT1);
- one variable per band (``/`` replaced by ``_``; ``var`` without a band dimension)
  over (t, y, x) with ``long_name`` = its name, ``units`` "", ``_FillValue`` and
  ``grid_mapping`` "crs";
- chunking (``OpenEOChunking`` over netcdf-java's ``Nc4ChunkingDefault``): band
  variables (1, 256, 256) when the raster is larger than 256 px both ways, otherwise
  netcdf-java's default (see :func:`default_chunks`); every chunked variable deflated at
  level 6 without shuffle, the others contiguous.

Where hybrid differs on purpose: floating-point cubes are stored as float32 with NaN
fill (what Copernicus writes for the seed workflow's float32 mean), float64 only where
Copernicus's cell type is float64 (a callback with a constant of more than 7 digits,
NetCDFRDDWriter.scala L679; a load_stac of float64 files; hybrid.backends.local.cell_types),
a cell type's own float nodata as the fill (-9999 of a file's tag, L685-686:
:func:`hybrid.io.netcdf._layout`); integer cubes keep
int8/int16/int32 with their nodata (Copernicus's defaults: -128, -32768, -2**31; int32
without the ``_FillValue`` attribute); unsigned cubes (uint8, uint16: SCL alone, a
load_stac of such files, linear_scale_range or convert_data_type to them) and
geotrellis's bit cells (a comparison's result, UBYTE 0/1 there, L297, L665) are stored
as netcdf-java stores UBYTE/USHORT in the classic model: BYTE/SHORT with ``_Unsigned =
"true"``, the cells bit for bit, ``_FillValue`` 0 only for the constant nodata 0 (none
for bits, a user-defined nodata such as linear_scale_range's 255, or a raw type), so CF
readers decode uint8/uint16 from both files (:mod:`hybrid.io.netcdf_types`). Other
types (int64) are stored as float32.
"""

from __future__ import annotations

import contextlib
import errno
import math
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.atomic import atomic_path
from hybrid.io.netcdf_types import file_dtype, file_values, fill_attribute, is_unsigned

if TYPE_CHECKING:
    import numpy as np
    import pyproj

    from hybrid.io.netcdf_chunks import DirectChunkWriter

#: ``NetCDFRDDWriter.fixedTimeOffset``
EPOCH = "1990-01-01"
DAYS_UNITS = f"days since {EPOCH}"
SECONDS_UNITS = f"seconds since {EPOCH}T00:00:00Z"
DEFLATE_LEVEL = 6
#: netCDF-C's chunk cache per band variable. Small on purpose: a chunk is compressed
#: when it leaves the cache, so with the default (64 MiB, as large as a whole result)
#: every chunk was deflated at close, one after the other, after the computation; with
#: a cache of a few blocks' chunks, chunks are deflated while the next blocks compute.
_CHUNK_CACHE_BYTES = 4 * 1024 * 1024
#: netcdf-java Nc4ChunkingDefault: DEFAULT_CHUNKSIZE_BYTES, MIN_VARIABLE_BYTES, MIN_CHUNKSIZE_BYTES
_CHUNK_BYTES = 2**18
_MIN_VARIABLE_BYTES = 2**16
_MIN_CHUNK = 2**13
#: free bytes below which a failed write is taken for a full disk
_FULL_BELOW = 2**20


def default_chunks(shape: Sequence[int], itemsize: int, *, unlimited: bool) -> tuple[int, ...]:
    """netcdf-java's ``Nc4ChunkingDefault.computeChunking`` for a variable whose first
    dimension is the unlimited one (``unlimited``) or that has none.

    ``fillRightmost`` fills the rightmost dimensions first up to 256 KiB; a chunk of an
    unlimited variable with fewer than 8192 ELEMENTS (netcdf-java compares the element
    count with a byte limit) is then stretched along the unlimited dimension to
    8192 / itemsize / (other dims' product), at least 1 (so ``t`` alone gets 2048).
    """
    max_elements = _CHUNK_BYTES // itemsize
    dims = [1 if unlimited and i == 0 else int(n) for i, n in enumerate(shape)]
    strides = [math.prod(dims[i + 1 :]) for i in range(len(dims))]
    pairs = zip(strides, dims, strict=True)
    chunks = [min(max(max_elements // stride, 1), n) for stride, n in pairs]
    if unlimited and math.prod(chunks) < _MIN_CHUNK:
        need = (_MIN_CHUNK // itemsize) // math.prod(chunks)
        chunks[0] = max(need, 1)
    return tuple(chunks)


def is_chunked(shape: Sequence[int], itemsize: int, *, unlimited: bool) -> bool:
    """``Nc4ChunkingDefault.isChunked``: unlimited variables, and those over 64 KiB."""
    return unlimited or math.prod(shape) * itemsize > _MIN_VARIABLE_BYTES


def band_chunks(ny: int, nx: int, itemsize: int, *, with_time: bool) -> tuple[int, ...] | None:
    """The chunk shape of a band variable (None: contiguous)."""
    if nx > 256 and ny > 256:  # NetCDFRDDWriter setupNetCDF L696-706: _ChunkSizes
        return (1, 256, 256) if with_time else (256, 256)
    shape = (0, ny, nx) if with_time else (ny, nx)
    if not is_chunked(shape, itemsize, unlimited=with_time):
        return None
    return default_chunks(shape, itemsize, unlimited=with_time)


@dataclass(frozen=True)
class RasterLayout:
    """Everything fixed before the first block is written."""

    x: np.ndarray
    y: np.ndarray
    #: time labels (datetime64) or None for a cube without time
    times: np.ndarray | None
    #: variable names, one per band
    variables: tuple[str, ...]
    crs: pyproj.CRS | None
    #: the values' type (:func:`hybrid.io.netcdf_types.storage`; the file variable's is
    #: :func:`hybrid.io.netcdf_types.file_dtype` of it) and the value no data is stored as
    dtype: str = "float32"
    fill_value: float | int | None = float("nan")


class NetCDFRasterWriter:
    """An open NetCDF in Copernicus's layout; :meth:`write` fills it block by block."""

    def __init__(self, dataset: Any, layout: RasterLayout) -> None:
        self._ds = dataset
        self.layout = layout

    def write(
        self, variable: str, values: Any, *, t: int | None = None, row: int = 0, col: int = 0
    ) -> None:
        """Write a 2-D block of ``variable`` at time index ``t`` (row/col offsets in pixels)."""
        block = file_values(values, self.layout.dtype, self.layout.fill_value)
        rows, cols = block.shape
        target = self._ds.variables[variable]
        if t is None:
            target[row : row + rows, col : col + cols] = block
        else:
            target[t, row : row + rows, col : col + cols] = block


#: netCDF-C (inside netCDF4-python) is not thread-safe: two threads writing files at the
#: same time corrupt its heap ("malloc(): unaligned tcache chunk detected"), as the
#: emulator's concurrent jobs did. Every netCDF4 call of the project holds this lock.
NETCDF4_LOCK = threading.RLock()


@contextlib.contextmanager
def create_raster_netcdf(
    path: Path, layout: RasterLayout, *, globals_: Mapping[str, Any]
) -> Iterator[NetCDFRasterWriter]:
    """Create ``path`` in Copernicus's layout, written block by block into a temporary
    file that replaces ``path`` once the block exits without error.

    A full disk surfaces from netCDF-C only as "NetCDF: HDF error": when the file system
    is then (nearly) full, that becomes ``OSError(ENOSPC)``. (Building the file in memory
    instead would avoid it, but netCDF-C cannot open such an image for writing later.)
    """
    import netCDF4

    with NETCDF4_LOCK, atomic_path(Path(path)) as tmp, _full_disk(path, tmp):
        ds = netCDF4.Dataset(tmp, "w", format="NETCDF4_CLASSIC")
        try:
            _define(ds, layout, globals_)
            yield NetCDFRasterWriter(ds, layout)
        finally:
            ds.close()


@contextlib.contextmanager
def create_chunked_netcdf(
    path: Path, layout: RasterLayout, *, globals_: Mapping[str, Any]
) -> Iterator[DirectChunkWriter]:
    """The file of :func:`create_raster_netcdf`, its band variables written chunk by
    chunk with bytes deflated where the blocks were computed
    (:mod:`hybrid.io.netcdf_chunks`): netCDF4 defines the file and writes the
    coordinates, h5py then writes the band variables' chunks. For chunked variables."""
    import h5py
    import netCDF4

    from hybrid.io.netcdf_chunks import DirectChunkWriter

    times = None if layout.times is None else len(layout.times)
    with atomic_path(Path(path)) as tmp, _full_disk(path, tmp):
        with NETCDF4_LOCK:
            ds = netCDF4.Dataset(tmp, "w", format="NETCDF4_CLASSIC")
            try:
                _define(ds, layout, globals_)
            finally:
                ds.close()
        with h5py.File(tmp, "r+") as h5:
            writer = DirectChunkWriter(h5, layout.variables, times, layout.dtype, layout.fill_value)
            yield writer
            writer.finish()


@contextlib.contextmanager
def _full_disk(path: Path, tmp: Path) -> Iterator[None]:
    """A failed write on a (nearly) full file system as ``OSError(ENOSPC)``: netCDF-C
    says only "NetCDF: HDF error"."""
    try:
        yield
    except (RuntimeError, OSError) as exc:
        if _disk_full(tmp.parent):
            raise OSError(errno.ENOSPC, f"No space left on device writing {path}") from exc
        raise


def _disk_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _FULL_BELOW
    except OSError:
        return False


def _define(ds: Any, layout: RasterLayout, globals_: Mapping[str, Any]) -> None:
    for key, value in globals_.items():
        ds.setncattr(key, value)
    with_time = layout.times is not None
    if with_time:
        ds.createDimension("t", None)
    ds.createDimension("y", len(layout.y))
    ds.createDimension("x", len(layout.x))
    if with_time:
        assert layout.times is not None
        _time_variable(ds, layout.times)
    degrees = layout.crs is not None and layout.crs.is_geographic
    for name, values in (("x", layout.x), ("y", layout.y)):
        var = _variable(ds, name, "f8", (name,))
        if degrees:
            standard = "longitude" if name == "x" else "latitude"
            attrs = [standard, standard, "degrees_east" if name == "x" else "degrees_north"]
        else:
            attrs = [f"projection_{name}_coordinate", f"{name} coordinate of projection", "m"]
        for key, value in zip(("standard_name", "long_name", "units"), attrs, strict=True):
            var.setncattr(key, value)
        var[:] = values
    crs = ds.createVariable("crs", "S1", ())
    if layout.crs is not None:
        wkt = layout.crs.to_wkt("WKT1_GDAL")
        crs.setncattr("crs_wkt", wkt)
        crs.setncattr("spatial_ref", wkt)
    dims = ("t", "y", "x") if with_time else ("y", "x")
    stored = file_dtype(layout.dtype)
    chunks = band_chunks(len(layout.y), len(layout.x), _itemsize(stored), with_time=with_time)
    fill = fill_attribute(layout.dtype, layout.fill_value)
    for name in layout.variables:
        # netCDF4-python sets _FillValue only at creation: it comes first, not third
        var = ds.createVariable(
            name, stored, dims, fill_value=False if fill is None else fill, **_compression(chunks)
        )
        if chunks is not None:
            var.set_var_chunk_cache(size=_CHUNK_CACHE_BYTES, nelems=1009, preemption=1.0)
        if is_unsigned(layout.dtype):  # netcdf-java's UBYTE/USHORT (hybrid.io.netcdf_types)
            var.set_auto_maskandscale(False)
            var.setncattr("_Unsigned", "true")
        var.setncattr("long_name", name)
        var.setncattr("units", "")
        var.setncattr("grid_mapping", "crs")


def _time_variable(ds: Any, times: np.ndarray) -> None:
    import numpy as np

    seconds = (times.astype("datetime64[s]") - np.datetime64(EPOCH, "s")).astype("int64")
    whole_days = bool(np.all(seconds % 86400 == 0))
    values = seconds // 86400 if whole_days else seconds
    var = _variable(ds, "t", "i4", ("t",))
    for key, value in (
        ("standard_name", "t"),
        ("long_name", "t"),
        ("units", DAYS_UNITS if whole_days else SECONDS_UNITS),
        ("axis", "T"),
    ):
        var.setncattr(key, value)
    var[:] = values.astype("int32")


def _variable(ds: Any, name: str, dtype: str, dims: tuple[str, ...]) -> Any:
    """A coordinate variable chunked (and deflated) as netcdf-java would."""
    unlimited = dims == ("t",)
    shape = tuple(0 if d == "t" else len(ds.dimensions[d]) for d in dims)
    itemsize = _itemsize(dtype)
    chunks = default_chunks(shape, itemsize, unlimited=unlimited)
    if not is_chunked(shape, itemsize, unlimited=unlimited):
        return ds.createVariable(name, dtype, dims, fill_value=False, contiguous=True)
    return ds.createVariable(name, dtype, dims, fill_value=False, **_compression(chunks))


def _compression(chunks: tuple[int, ...] | None) -> dict[str, Any]:
    if chunks is None:
        return {"contiguous": True}
    return {
        "chunksizes": chunks,
        "compression": "zlib",
        "complevel": DEFLATE_LEVEL,
        "shuffle": False,
    }


def _itemsize(dtype: str) -> int:
    import numpy as np

    return int(np.dtype(dtype).itemsize)
