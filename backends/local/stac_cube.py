"""The cube of a load_stac: its grid, and its values read lazily from the assets.

The grid as openeo-geopyspark-driver ``openeogeotrellis/load_stac.py`` chooses it:

- extent: the requested ``spatial_extent``, else the union of the items' ``proj:bbox``
  (else their lon/lat ``bbox``; L523-559, L569-577);
- CRS: the one EPSG of the assets holding the cube's bands; when they are several UTM
  zones, or none is known, the UTM zone of the extent (L620-638);
- resolution: the finest cell size of those assets (from ``proj:bbox`` and
  ``proj:shape``), else 10 (L640-665);
- the extent in that CRS snapped outward to the resolution (openeo-geotrellis-extensions
  FileLayerProvider.scala L1363-1373, the layout ``hybrid.grid.output_grid`` makes),
  read with nearest-neighbour resampling (``resampleMethod`` default NearestNeighbor,
  L1411), grown by the pixel buffer a following kernel needs (L1010-1016).

Time labels are the items' nominal dates (the date as the item's datetime is written,
in its own offset: :func:`hybrid.backends.local.stac_items.nominal_datetime`) at midnight
UTC (FileLayerProvider.scala L1029): the items of one day are merged into one label,
the first valid value winning in the order of the first band's asset path
(:func:`merge_order`). Values are float32 (float64 for float64 and int32 files:
:mod:`hybrid.backends.local.stac_cell_types`) with NaN where the
file's nodata is (the file's own, else GeoTrellis's default nodata of the file's cell
type: 0 for unsigned integers, the minimum for signed ones, FileLayerProvider.scala
L997-1005 ``withDefaultNoData``; not the asset's ``nodata``, which geotrellis does not
read: :mod:`hybrid.backends.local.stac_cell_types`). A
netCDF asset is read as GDAL's ``NETCDF:file:band`` at band index 0, its first time step
(FileLayerProvider.scala L528-543).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybrid.backends.local.stac_items import BandAsset, StacScene
from hybrid.grid import BBox, Grid, bounds_union, output_grid, target_epsg

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr

    from hybrid.backends.local.cell_types import TileType

#: load_stac.py L663-665: the cell size when no asset tells
_FALLBACK_CELL = 10.0
_UTM = tuple(range(32601, 32661)) + tuple(range(32701, 32761))


@dataclass(frozen=True)
class Source:
    """Where one band of one item is read: the file, its band index (1-based)."""

    path: str
    index: int


def choose_grid(scenes: list[StacScene], bands: list[str], requested: BBox | None) -> Grid:
    """The cube's grid (without buffer) for ``bands`` of ``scenes``."""
    assets = [a for s in scenes for a in s.assets if set(a.names) & set(bands)]
    epsgs = {a.epsg for a in assets if a.epsg is not None and a.resolution() is not None}
    observed = {a.epsg for a in assets if a.epsg is not None}
    extent = requested or _items_extent(scenes)
    if len(epsgs) == 1:
        epsg = next(iter(epsgs))
    elif not epsgs and len(observed) == 1:
        epsg = next(iter(observed))
    else:
        epsg = target_epsg(extent)
    cells = [r for a in assets if a.epsg in epsgs and (r := a.resolution()) is not None]
    finest = min(cells) if cells and (len(epsgs) == 1 or set(epsgs) <= set(_UTM)) else None
    cell = finest[0] if finest else _FALLBACK_CELL
    return output_grid(extent, epsg=epsg, resolution=cell)


def _items_extent(scenes: list[StacScene]) -> BBox:
    """The union of the items' proj:bbox (in the first one's CRS), else of their bbox."""
    boxes: list[tuple[tuple[float, float, float, float], str]] = []
    for scene in scenes:
        asset = scene.assets[-1]  # load_stac.py L471-472: the last asset's proj fields
        if asset.bbox is not None and asset.epsg is not None:
            boxes.append((asset.bbox, f"EPSG:{asset.epsg}"))
        elif scene.bbox is not None:
            boxes.append((scene.bbox, "EPSG:4326"))
    if not boxes:
        from hybrid.errors import ProcessParameterInvalid

        raise ProcessParameterInvalid(
            "load_stac: the STAC metadata gives no extent (no proj:bbox, no bbox): give a "
            "spatial_extent"
        )
    crs = boxes[0][1]
    return BBox(*bounds_union(b for b, c in boxes if c == crs), crs=crs)


def sources(scene: StacScene, band: str) -> Source | None:
    """The file and band index of ``band`` in ``scene`` (the first asset holding it)."""
    for asset in scene.assets:
        if band in asset.names:
            return _source(asset, band)
    return None


def _source(asset: BandAsset, band: str) -> Source:
    if asset.netcdf:
        return Source(f"NETCDF:{asset.href}:{band}", 1)
    return Source(asset.href, asset.names.index(band) + 1)


def scene_cell_type(scene: StacScene, bands: list[str]) -> TileType | None:
    """The cell type of ``bands`` of one item, from its files' headers
    (:func:`hybrid.backends.local.stac_cell_types.files_cell_type`; a band the item
    lacks, a NoDataRasterSource there, is left out); None: it has none of them."""
    from hybrid.backends.local.stac_cell_types import files_cell_type

    found = [source for band in bands if (source := sources(scene, band)) is not None]
    return files_cell_type(_header(source) for source in found)


def _header(source: Source) -> tuple[str, float | None]:
    """The dtype and GDAL nodata tag of ``source``'s band."""
    import rasterio

    from hybrid.stac.access import pixel_read_options

    try:
        with rasterio.Env(**pixel_read_options()), rasterio.open(source.path) as src:
            return src.dtypes[source.index - 1], src.nodata
    except (rasterio.errors.RasterioError, IndexError) as exc:
        raise _unreadable(source, exc) from exc


def _unreadable(source: Source, exc: Exception) -> Exception:
    from hybrid.errors import DataSourceError
    from hybrid.stac.access import gdal_detail

    return DataSourceError(
        f"load_stac: cannot read {source.path}: {gdal_detail(exc)} (a remote read is "
        "retried a few times)"
    )


def lazy_cube(
    scenes: list[StacScene], bands: list[str], grid: Grid, dtype: str = "float32"
) -> xr.DataArray:
    """(t, bands, y, x) in ``dtype`` (a float type), one dask chunk per date and band."""
    import dask
    import dask.array as da
    import numpy as np
    import xarray as xr

    from hybrid.backends.local.label_pushdown import SCENE_TIMES, scene_times

    days = sorted({_midnight(s.nominal) for s in scenes})
    layers = []
    for day in days:
        same_day = merge_order([s for s in scenes if _midnight(s.nominal) == day], bands[0])
        row = []
        for band in bands:
            found = [src for s in same_day if (src := sources(s, band)) is not None]
            task = dask.delayed(_mosaic, pure=True)(tuple(found), grid, dtype)
            row.append(da.from_delayed(task, (grid.height, grid.width), dtype=dtype))
        layers.append(da.stack(row))
    values = da.stack(layers)
    coords = {
        "t": np.array([np.datetime64(d.replace(tzinfo=None), "ns") for d in days]),
        "bands": list(bands),
        "y": np.array(grid.y_centres()),
        "x": np.array(grid.x_centres()),
    }
    cube = xr.DataArray(values, dims=("t", "bands", "y", "x"), coords=coords)
    times = scene_times(
        (day.date(), [s.nominal for s in scenes if _midnight(s.nominal) == day]) for day in days
    )
    cube.attrs = {"crs": grid.crs, "epsg": grid.epsg, SCENE_TIMES: times}
    return cube


def empty_cube(bands: list[str], grid: Grid) -> xr.DataArray:
    """(t, bands, y, x) float32 without any date: Copernicus's ``empty_pyramid_seq`` of a
    load_stac allowed to find nothing (geopyspark-driver load_stac.py L842-846)."""
    import dask.array as da
    import numpy as np
    import xarray as xr

    shape = (0, len(bands), grid.height, grid.width)
    values = da.from_array(np.zeros(shape, np.float32), chunks=(1, 1, grid.height, grid.width))
    coords = {
        "t": np.array([], dtype="datetime64[ns]"),
        "bands": list(bands),
        "y": np.array(grid.y_centres()),
        "x": np.array(grid.x_centres()),
    }
    cube = xr.DataArray(values, dims=("t", "bands", "y", "x"), coords=coords)
    cube.attrs = {"crs": grid.crs, "epsg": grid.epsg}
    return cube


def stac_without_empty_dates(
    cube: xr.DataArray, scenes: list[StacScene], bands: list[str], grid: Grid
) -> tuple[xr.DataArray, list[StacScene]]:
    """``cube`` (:func:`lazy_cube` of ``scenes`` on ``grid``) and ``scenes`` without the
    dates holding no value in any band, as Copernicus drops them
    (:mod:`hybrid.backends.local.empty_dates`); the first band's window at the grid's
    centre is read first, as a date holding a value there keeps."""
    import numpy as np

    from hybrid.backends.local.empty_dates import centre_grid, kept_dates, probed

    probe = lazy_cube(scenes, bands[:1], centre_grid(grid)).isel(bands=0)
    keep = kept_dates(cube, probed(probe))
    if len(keep) == cube.sizes["t"]:
        return cube, scenes
    labels = [np.datetime64(_midnight(s.nominal).replace(tzinfo=None), "ns") for s in scenes]
    kept = np.isin(np.array(labels), cube["t"].values[keep])
    return cube.isel(t=keep), [s for s, k in zip(scenes, kept, strict=True) if k]


def _midnight(when: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(when.date(), dt.time(), dt.UTC)


def merge_order(scenes: list[StacScene], first_band: str) -> list[StacScene]:
    """``scenes`` of one day in the order their values are merged: by the path of the
    asset holding the load's first band (FileLayerProvider.scala ``rasterRegionsToTiles``
    L859-867 sorts a key's products by ``sortableSourceName``, a product's name being its
    first band's source, L127); a scene without that band last, then in item order."""

    def path(scene: StacScene) -> tuple[bool, str]:
        source = sources(scene, first_band)
        return source is None, source.path if source is not None else ""

    return sorted(scenes, key=path)


def _mosaic(found: tuple[Source, ...], grid: Grid, dtype: str = "float32") -> np.ndarray:
    """The first valid value of the sources, per pixel; NaN where none has one."""
    import numpy as np

    out = np.full((grid.height, grid.width), np.nan, dtype=dtype)
    for source in found:
        values = read_onto(source, grid, dtype)
        gaps = np.isnan(out)
        out[gaps] = values[gaps]
    return out


def read_onto(source: Source, grid: Grid, dtype: str = "float32") -> np.ndarray:
    """One band of a file on ``grid`` (nearest neighbour), in ``dtype`` (a float type)
    with NaN for nodata."""
    import numpy as np
    import rasterio
    from affine import Affine
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    from hybrid.backends.local.stac_cell_types import masked_value
    from hybrid.stac.access import pixel_read_options

    transform = Affine(grid.resolution, 0, grid.xmin, 0, -grid.resolution, grid.ymax)
    try:
        with rasterio.Env(**pixel_read_options()), rasterio.open(source.path) as src:
            nodata = masked_value(src.dtypes[source.index - 1], src.nodata)
            with WarpedVRT(
                src,
                crs=grid.crs,
                transform=transform,
                width=grid.width,
                height=grid.height,
                resampling=Resampling.nearest,
                src_nodata=nodata,
                nodata=nodata,
            ) as vrt:
                raw = vrt.read(source.index)
    except (rasterio.errors.RasterioError, IndexError) as exc:
        raise _unreadable(source, exc) from exc
    values = raw.astype(dtype)
    if nodata is not None and not np.isnan(nodata):
        values[raw == nodata] = np.nan
    return values
