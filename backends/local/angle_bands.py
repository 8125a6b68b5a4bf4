"""The SENTINEL2_L2A angle bands: one constant per scene, as Copernicus serves them.

Copernicus reads ``sunAzimuthAngles``, ``sunZenithAngles``, ``viewAzimuthMean`` and
``viewZenithMean`` (aliases ``S2_Level-2A_Tile1_Metadata##0..3``) from the granule's
``MTD_TL.xml``: ``Tile_Angles/Mean_Sun_Angle`` (azimuth, zenith) and the
``Mean_Viewing_Incidence_Angle`` of ``bandId`` 4 (azimuth, zenith), each served as a
float32 tile of that one value over the granule's extent at the requested resolution
(10 m by default): openeo-geotrellis-extensions ``openeo-geotrellis/src/main/scala/org/
openeo/geotrellis/layers/SentinelXMLMetadataRasterSource.scala`` ``forAngleBands``
(L27-69: ``FloatConstantTile(value, ...)``).

STAC items carry the same means as properties: the view extension's ``view:sun_azimuth``,
``view:sun_elevation`` (zenith = 90 - elevation), ``view:azimuth`` and
``view:incidence_angle`` (the embedded sample has all four; Earth Search v1 items the sun
angles), or Planetary Computer's ``s2:mean_solar_azimuth`` and ``s2:mean_solar_zenith``.
A day's value is that of its first item (merge order) over the whole grid, as one
granule's tile covers the area.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hybrid.errors import BandNotFound

if TYPE_CHECKING:
    import xarray as xr

    from hybrid.stac.selection import DailyScenes

#: band -> the item properties that give it, first found wins, and whether the value is
#: 90 minus the property (an elevation given for a zenith)
_SOURCES: dict[str, tuple[tuple[str, bool], ...]] = {
    "sunAzimuthAngles": (("view:sun_azimuth", False), ("s2:mean_solar_azimuth", False)),
    "sunZenithAngles": (("view:sun_elevation", True), ("s2:mean_solar_zenith", False)),
    "viewAzimuthMean": (("view:azimuth", False),),
    "viewZenithMean": (("view:incidence_angle", False),),
}
#: the angle bands in the collection's order
ANGLE_BANDS = tuple(_SOURCES)


def item_angle(item: Any, band: str) -> float:
    """The scene-mean angle ``band`` (degrees) of a STAC item."""
    properties = getattr(item, "properties", {})
    for name, complement in _SOURCES[band]:
        value = properties.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return 90.0 - float(value) if complement else float(value)
    names = " or ".join(name for name, _ in _SOURCES[band])
    raise BandNotFound(
        f"SENTINEL2_L2A band {band} needs the item property {names}, which item "
        f"{getattr(item, 'id', '?')} does not have"
    )


def angle_cube(scenes: Sequence[DailyScenes], bands: Sequence[str], like: xr.DataArray) -> Any:
    """(t, bands, y, x) float32, lazy: each day's angle constant over the grid, with the
    dates, pixel centres and chunks of ``like`` (the scenes' loaded (t, bands, y, x))."""
    import dask.array as da
    import numpy as np
    import xarray as xr

    values = np.array(
        [[item_angle(day.items[0], band) for band in bands] for day in scenes], dtype=np.float32
    )
    data = da.broadcast_to(
        da.from_array(values[:, :, None, None], chunks=1),
        (len(scenes), len(bands), like.sizes["y"], like.sizes["x"]),
        chunks=(1, 1, like.chunksizes["y"], like.chunksizes["x"]),
    )
    coords = {"t": like["t"].values, "bands": list(bands), "y": like["y"], "x": like["x"]}
    return xr.DataArray(data, dims=("t", "bands", "y", "x"), coords=coords)
