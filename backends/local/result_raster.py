"""The raster a save_result writes: the graph's cube cropped back to the loads' grid
(:mod:`hybrid.backends.local.result_crop`), refused when no pixel is left, with the
dimension names the writers know, its CRS and the band metadata it carries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybrid.backends.local.result_crop import crop_to_extents, crop_to_grid
from hybrid.errors import FormatUnsuitable, NoDataAvailable, ProcessParameterInvalid
from hybrid.grid import BBox, Grid


def result_raster(
    data: Any, grid: Grid | None, extents: Sequence[BBox], settings: Any, *, lazy: bool = False
) -> Any:
    """``data`` cropped back to the run's ``grid`` (after a reprojection: to the loads'
    ``extents`` in its CRS), with its CRS; computed unless ``lazy``."""
    from pyproj import CRS

    from hybrid.backends.local.compute import compute
    from hybrid.io.cube import band_metadata

    if grid is None:
        raise ProcessParameterInvalid("save_result: nothing was loaded")
    crs = CRS.from_epsg(grid.epsg)
    if data.attrs.get("crs") and CRS.from_user_input(data.attrs["crs"]) != crs:
        # reprojected (resample_spatial): the extents' corners in its CRS
        crs = CRS.from_user_input(data.attrs["crs"])
        cube = crop_to_extents(data, extents, crs)
    else:
        cube = crop_to_grid(data, grid)
    _require_pixels(cube)
    cube = writer_dimensions(cube.drop_vars([c for c in cube.coords if c not in cube.dims]))
    if not lazy:
        cube = compute(cube, settings)
    # a new variable: the graph's cube (which a second save_result may write) keeps
    # its attributes; the writers get its CRS and what its band metadata names
    cube = cube.copy(deep=False)
    cube.name = "var"
    cube.attrs = {"crs_wkt": crs.to_wkt(), **band_metadata(data)}
    return cube


def _require_pixels(cube: Any) -> None:
    """Refuse a raster with no pixels left (a filter_bbox or filter_spatial outside the
    loaded spatial extent) with ``NoDataAvailable``, Copernicus's code for a load that
    finds nothing (openeo-geopyspark-driver layercatalog.py L408-413)."""
    empty = [str(d) for d in ("x", "y") if d in cube.dims and cube.sizes[d] == 0]
    if empty:
        raise NoDataAvailable(
            f"save_result: the result has no pixels ({' and '.join(empty)} empty): the "
            "extent of a filter_bbox or filter_spatial does not overlap the "
            "spatial_extent of load_collection; give extents that overlap"
        )


def writer_dimensions(cube: Any) -> Any:
    """The cube with the dimension names the writers know: ``t``, ``bands``, ``y``, ``x``.

    A Copernicus cube has a temporal dimension, one band dimension and x/y, whatever
    they are called: ``rename_dimension`` changes the metadata only
    (openeo-geopyspark-driver geopysparkdatacube.py L304-305) and the writers name ``t``,
    ``x``, ``y`` and the band variables as always. So a renamed temporal dimension (the
    one with dates) is written as ``t``, and the one other dimension (a renamed band
    dimension, or apply_dimension's ``target_dimension``) as ``bands``. A dimension beyond
    those, of one label, is metadata only there (``add_dimension`` of a type other than
    ``temporal``, geopysparkdatacube.py L447-461, adds it to the metadata and leaves the
    tiles as they are): it is not written.
    """
    known = {"t", "bands", "y", "x"}
    others = [str(d) for d in cube.dims if d not in known]
    renames: dict[str, str] = {}
    for name in others:
        if "t" not in cube.dims and not renames and cube[name].dtype.kind == "M":
            renames[name] = "t"
    rest = [name for name in others if name not in renames]
    if len(rest) == 1 and "bands" not in cube.dims:
        renames[rest.pop()] = "bands"
    cube = cube.rename(renames) if renames else cube
    for name in rest:
        if cube.sizes[name] != 1:
            raise FormatUnsuitable(
                f"save_result: the cube has a dimension '{name}' of {cube.sizes[name]} "
                "labels beside its bands; a raster file holds t, bands, y and x: reduce "
                f"'{name}' (reduce_dimension) or drop it before saving"
            )
    return cube.isel({name: 0}, drop=True) if rest else cube
