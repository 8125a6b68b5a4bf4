"""NetCDF results: Copernicus's layout for raster cubes (:mod:`hybrid.io.netcdf_layout`),
vector cubes via :mod:`hybrid.timeseries`, and a reader for any CF-like raster NetCDF."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.errors import FormatUnsuitable, UsageError, first_line
from hybrid.io.cube import cube_crs, normalise, require_date_labels
from hybrid.io.format import (
    METADATA_PARAMETER,
    PREFIX_PARAMETER,
    SAMPLE_PARAMETERS,
    Format,
    one_file,
)
from hybrid.io.streaming import WriteBlock, is_lazy, store_bands, store_blocks

if TYPE_CHECKING:
    import xarray as xr

    from hybrid.io.netcdf_layout import RasterLayout

#: the file name Copernicus gives a NetCDF result (``filename_prefix`` + ``.nc``)
FILE_NAME = "openEO.nc"
_TIME_NAMES = ("t", "time", "date")
_X_NAMES = ("x", "lon", "longitude", "easting")
_Y_NAMES = ("y", "lat", "latitude", "northing")
CRS_VARIABLES = ("crs", "spatial_ref")


def write_netcdf(
    cube: xr.DataArray,
    path: str | Path,
    *,
    attrs: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Path:
    """Write a raster cube in Copernicus's NetCDF layout (:mod:`hybrid.io.netcdf_layout`);
    returns the path.

    ``attrs`` become global attributes after Copernicus's four (provenance, ``hybrid_*``);
    ``options["file_metadata"]`` overrides ``title``/``description``/``institution`` and
    adds globals, as ``save_result``'s option of that name does on Copernicus. A
    Dask-backed cube is computed and written block by block
    (:func:`hybrid.io.streaming.store_blocks`): memory bounded by the chunk size; with
    Copernicus's 256 x 256 chunks, the chunks are deflated where the blocks are computed
    and written as they are (:mod:`hybrid.io.netcdf_chunks`).
    """
    require_date_labels(cube, fmt="netCDF")
    crs = cube_crs(cube)
    cube = _in_copernicus_order(cube)
    layout = _layout(cube, crs)
    globals_ = _global_attributes(attrs or {}, (options or {}).get("file_metadata") or {})
    if is_lazy(cube.data) and _copernicus_chunks(layout):
        _write_chunked(cube, Path(path), layout, globals_)
    else:
        _write_through_netcdf_c(cube, Path(path), layout, globals_)
    return Path(path)


def _in_copernicus_order(cube: xr.DataArray) -> xr.DataArray:
    """The cube with only its dimension coordinates, in (t, bands, y, x) order, y
    descending (as Copernicus writes it)."""
    cube = cube.drop_vars([c for c in cube.coords if c not in cube.dims])
    cube = cube.transpose(*[d for d in ("t", "bands", "y", "x") if d in cube.dims])
    if cube.sizes["y"] > 1 and float(cube["y"][0]) < float(cube["y"][-1]):
        cube = cube.isel(y=slice(None, None, -1))
    return cube


def _write_chunked(
    cube: xr.DataArray, path: Path, layout: RasterLayout, globals_: Mapping[str, Any]
) -> None:
    """A lazy cube in Copernicus's 256 x 256 chunks: each block deflated where it is
    computed and written as it is (:mod:`hybrid.io.netcdf_chunks`)."""
    from hybrid.io.netcdf_layout import create_chunked_netcdf

    with create_chunked_netcdf(path, layout, globals_=globals_) as chunked:
        writers = [chunked.block_writer(name) for name in layout.variables]
        encoders = [chunked.encoder(name) for name in layout.variables]
        if "bands" not in cube.dims:
            store_blocks(cube.data, writers[0], encode=encoders[0])
        else:
            store_bands(cube.data, cube.dims.index("bands"), writers, encoders)


def _write_through_netcdf_c(
    cube: xr.DataArray, path: Path, layout: RasterLayout, globals_: Mapping[str, Any]
) -> None:
    """Any other cube, through netCDF-C: a lazy one block by block (all bands in one
    pass), one in memory band by band and date by date."""
    from hybrid.io.netcdf_layout import create_raster_netcdf

    with create_raster_netcdf(path, layout, globals_=globals_) as out:
        if is_lazy(cube.data) and "bands" in cube.dims:
            with_time = "t" in cube.dims
            writers = [_block_writer(out, name, with_time=with_time) for name in layout.variables]
            store_bands(cube.data, cube.dims.index("bands"), writers)
            return
        for i, name in enumerate(layout.variables):
            _write_variable(out, name, cube.isel(bands=i) if "bands" in cube.dims else cube)


def _write_variable(out: Any, name: str, part: xr.DataArray) -> None:
    """One band variable of the open file: a lazy one block by block, else per date."""
    if is_lazy(part.data):
        store_blocks(part.data, _block_writer(out, name, with_time="t" in part.dims))
    elif "t" not in part.dims:
        out.write(name, part.values)
    else:
        for t in range(part.sizes["t"]):
            out.write(name, part.isel(t=t).values, t=t)


def _layout(cube: xr.DataArray, crs: Any) -> RasterLayout:
    """The :class:`hybrid.io.netcdf_layout.RasterLayout` of a cube in (t, bands, y, x)
    order, y descending."""
    from hybrid.io.netcdf_layout import RasterLayout
    from hybrid.io.netcdf_types import storage

    if "bands" in cube.dims:
        variables = tuple(str(b).replace("/", "_") for b in cube["bands"].values)
    else:
        variables = (str(cube.name or "var").replace("/", "_"),)
    from hybrid.io.cube import CELL_TYPE

    # the cell type the cube's values have on Copernicus (int16 from the load; float64
    # from a callback with a double constant); other floats float32
    cell_type = cube.attrs.get(CELL_TYPE)
    nodata = cube.attrs.get("nodata", cube.attrs.get("_FillValue"))
    stored = cell_type or ("float32" if cube.dtype.kind == "f" else cube.dtype, nodata)
    dtype, fill = storage(*stored)
    if cell_type and dtype.startswith("float") and cell_type[1] is not None:
        fill = float(cell_type[1])  # a float type's own nodata (NetCDFRDDWriter.scala L685-686)
    return RasterLayout(
        x=cube["x"].values.astype("float64"),
        y=cube["y"].values.astype("float64"),
        times=cube["t"].values if "t" in cube.dims else None,
        variables=variables,
        crs=crs,
        dtype=dtype,
        fill_value=fill,
    )


def _copernicus_chunks(layout: RasterLayout) -> bool:
    """Whether the band variables get Copernicus's 256 x 256 chunks (a raster larger
    than 256 px both ways). A lazy cube of those is deflated where it is computed
    (:mod:`hybrid.io.netcdf_chunks`); smaller rasters go through netCDF-C."""
    from hybrid.io.netcdf_layout import band_chunks

    ny, nx = len(layout.y), len(layout.x)
    chunks = band_chunks(ny, nx, 4, with_time=layout.times is not None)
    return chunks is not None and chunks[-2:] == (256, 256)


def _block_writer(out: Any, name: str, *, with_time: bool) -> WriteBlock:
    """``write(index, block)`` for :func:`hybrid.io.streaming.store_blocks`: a (t, y, x)
    or (y, x) block of ``name`` into the open file, one 2-D slice per date."""

    def write(index: tuple[slice, ...], block: Any) -> None:
        if not with_time:
            out.write(name, block, row=index[0].start or 0, col=index[1].start or 0)
            return
        rows, cols = index[1].start or 0, index[2].start or 0
        for offset in range(block.shape[0]):
            t = (index[0].start or 0) + offset
            out.write(name, block[offset], t=t, row=rows, col=cols)

    return write


def _global_attributes(
    attrs: Mapping[str, Any], file_metadata: Mapping[str, Any]
) -> dict[str, str | int | float]:
    """Copernicus's globals in its order, then ``file_metadata``'s others, then ``attrs``."""
    from hybrid.io.provenance import attribute_value, institution

    meta = {"institution": institution(), "description": "", "title": ""}
    meta.update({str(k): v for k, v in file_metadata.items() if v is not None})
    found: dict[str, str | int | float] = {"Conventions": "CF-1.9"}
    found.update({k: attribute_value(v) for k, v in meta.items()})
    found.update({str(k): attribute_value(v) for k, v in attrs.items()})
    return found


def write_raster(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's raster writer: ``out_dir/openEO.nc`` (``{filename_prefix}.nc``)."""
    from hybrid.io.format import filename_prefix

    name = f"{filename_prefix(options)}.nc" if options.get("filename_prefix") else FILE_NAME
    return [write_netcdf(cube, Path(out_dir) / name, attrs=attrs, options=options)]


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.nc`` of an aggregate_spatial result.
    Copernicus writes another vector cube with GDAL's netCDF vector driver
    (``DriverVectorCube.write_assets``: ``gdf.to_file(..., driver="NetCDF")``), which the
    GDAL here lacks: refused."""
    from hybrid.io.netcdf_series import timeseries_netcdf
    from hybrid.io.vector import is_aggregate_result, write_file

    if not is_aggregate_result(cube):
        raise FormatUnsuitable(
            "save_result: Copernicus writes this vector cube to netCDF with GDAL's netCDF "
            "vector driver, which this installation lacks; save it as GeoJSON, CSV, Parquet "
            "or JSON"
        )
    return write_file(out_dir, ".nc", timeseries_netcdf(cube))


def annotate(file: Path, attrs: Mapping[str, Any]) -> None:
    """Add global attributes to an existing NetCDF file (in place; CHAR attributes, so a
    NETCDF4_CLASSIC file stays classic)."""
    import netCDF4

    from hybrid.io.netcdf_layout import NETCDF4_LOCK
    from hybrid.io.provenance import attribute_value

    try:
        with NETCDF4_LOCK, netCDF4.Dataset(file, "a") as ds:
            for key, value in attrs.items():
                ds.setncattr(str(key), attribute_value(value))
    except (OSError, RuntimeError) as exc:
        raise UsageError(f"cannot add attributes to {file}: {exc}") from exc


def read_series(files: list[Path], *, source: Path) -> xr.DataArray:
    """The registry's vector reader: an aggregate_spatial ``timeseries.nc`` as a series."""
    from hybrid.io.netcdf_series import read_timeseries

    return read_timeseries(one_file(files, source, "NetCDF"))


def read_raster(files: list[Path], *, source: Path) -> xr.DataArray:
    """The registry's raster reader: one NetCDF file as a normalised cube."""
    return read_netcdf(one_file(files, source, "NetCDF"))


def read_netcdf(file: Path) -> xr.DataArray:
    """Any CF-like NetCDF raster (Copernicus's, hybrid's old and new layouts, xarray's)."""
    import xarray as xr

    try:
        with xr.open_dataset(file, engine="h5netcdf") as ds:
            ds = _with_inflated_values(ds, file).load()
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"cannot read {file} as NetCDF: {first_line(exc)}") from None
    renames = _dim_renames(ds.dims, file)
    ds = ds.rename(renames) if renames else ds
    variables = [
        str(name)
        for name, var in ds.data_vars.items()
        if {"x", "y"} <= set(var.dims) and name not in CRS_VARIABLES
    ]
    if not variables:
        raise UsageError(f"{file} holds no variable with x and y dimensions: not a raster result")
    crs_wkt = netcdf_crs(ds, variables[0])
    arrays = [ds[name] for name in variables]
    for arr in arrays:
        extra = set(arr.dims) - {"t", "y", "x"}
        if extra:
            dims = ", ".join(sorted(map(str, extra)))
            raise UsageError(f"{file}: variable {arr.name!r} has unexpected dims {dims}")
    if len(arrays) == 1:
        cube = arrays[0]
    else:
        cube = xr.concat(arrays, dim="bands").assign_coords(bands=[str(v) for v in variables])
    cube = cube.copy(deep=False)  # the values are this cube's alone once ds is gone
    cube.attrs = dict(ds.attrs)
    cube.name = variables[0] if len(variables) == 1 else None
    return normalise(cube, crs_wkt=crs_wkt, source=file)


#: CF attributes with which xarray's decoding changes a variable's stored values
_DECODED_ATTRS = ("scale_factor", "add_offset", "missing_value")


def _with_inflated_values(ds: xr.Dataset, file: Path) -> xr.Dataset:
    """``ds`` (lazy) with the values of its floating-point raster variables read by
    :func:`hybrid.io.netcdf_chunks.read_deflated` (chunks inflated on several threads)
    where the file stores them chunked and deflated and xarray's decoding would leave
    them as stored (no scale, offset or missing value; NaN or no fill value). The rest
    is read by xarray as before."""
    import h5py

    from hybrid.io.netcdf_chunks import read_deflated

    names = [str(name) for name, var in ds.data_vars.items() if _stored_as_decoded(var)]
    if not names:
        return ds
    values = {}
    with h5py.File(file, "r") as h5:
        for name in names:
            dataset = h5.get(name)
            if isinstance(dataset, h5py.Dataset) and dataset.shape == ds[name].shape:
                read = read_deflated(dataset)
                if read is not None and read.dtype == ds[name].dtype:
                    values[name] = read
    if not values:
        return ds
    return ds.assign({name: ds[name].copy(data=read) for name, read in values.items()})


def _stored_as_decoded(var: xr.DataArray) -> bool:
    """Whether xarray reads ``var`` with its stored values unchanged."""
    import numpy as np

    if var.dtype.kind != "f" or var.ndim < 2:
        return False
    if any(key in var.encoding or key in var.attrs for key in _DECODED_ATTRS):
        return False
    fill = var.encoding.get("_FillValue")
    return fill is None or bool(np.isnan(fill))


def _dim_renames(dims: Any, file: Path) -> dict[str, str]:
    renames: dict[str, str] = {}
    for target, names in (("t", _TIME_NAMES), ("x", _X_NAMES), ("y", _Y_NAMES)):
        if target in dims:
            continue
        found = [n for n in names if n in dims]
        if found:
            renames[found[0]] = target
        elif target != "t":
            raise UsageError(
                f"{file} has no {target} dimension (dims: {', '.join(map(str, dims))})"
            )
    return renames


def netcdf_crs(ds: xr.Dataset, variable: str) -> str | None:
    """The WKT of ``variable``'s grid mapping (or of the file), None when it names none."""
    var = ds[variable]
    candidates = [var.attrs.get("grid_mapping"), var.encoding.get("grid_mapping"), *CRS_VARIABLES]
    for name in candidates:
        if name and name in ds.variables:
            attrs = ds[name].attrs
            wkt = attrs.get("crs_wkt") or attrs.get("spatial_ref")
            if wkt:
                return str(wkt)
    for key in ("crs_wkt", "spatial_ref", "crs"):
        if key in ds.attrs:
            return str(ds.attrs[key])
    return None


FORMAT = Format(
    name="netCDF",
    title="Network Common Data Form",
    suffixes=(".nc", ".nc4"),
    media_type="application/x-netcdf",
    per_label=False,
    writers={"raster": write_raster, "vector": write_vector},
    aliases=("nc",),
    readers={"raster": read_raster, "vector": read_series},
    annotate=annotate,
    parameters={
        "filename_prefix": PREFIX_PARAMETER,
        "file_metadata": METADATA_PARAMETER,
        **SAMPLE_PARAMETERS,
    },
)
