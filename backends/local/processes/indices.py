"""ndvi and divide as Copernicus computes them.

Copernicus runs ``ndvi`` as a band reduction subtract / add / divide
(openeo-geopyspark-driver geopysparkdatacube.py ``_ndvi_collection`` L3048-3091,
``reduce_bands`` L392-401), and a band reduction first converts the cube to float32
(``_apply_bands_dimension`` L407-408, "All processing is done with float32 as cell
type"): the int16 bands are subtracted and added as float32, nothing wraps around
(FIELD_NOTES "Band maths" says int16; the driver's code wins). Divide is float32 and
geotrellis ``Divide`` gives NaN for x / 0 (local/Divide.scala ``combine(Double,
Double)``), not +-inf. So NDVI is NaN where B08 + B04 == 0. openeo-processes-dask
subtracts in the input dtype (raw uint16 wraps) and divides to +-inf.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.backends.local.processes.cube_dimensions import band_origins
from hybrid.errors import BandNotFound, DivisionByZero, ProcessParameterInvalid


class RedBandAmbiguous(BandNotFound):
    """ndvi finds no red band (geopysparkdatacube.py ``_ndvi_v10`` L3026-3031)."""

    code = "RedBandAmbiguous"


class NirBandAmbiguous(BandNotFound):
    """ndvi finds no near-infrared band (``_ndvi_v10`` L3032-3037)."""

    code = "NirBandAmbiguous"


def _quotient(x: Any, y: Any) -> Any:
    """x / y with NaN (not +-inf) where y == 0 (never divides by zero, so lazy arrays
    raise no warning when computed)."""
    return x / y.where(y != 0)


def ndvi(
    data: Any,
    nir: str = "nir",
    red: str = "red",
    target_band: str | None = None,
) -> Any:
    """openEO ndvi, in float32 as Copernicus computes it."""
    import xarray as xr

    if "bands" not in data.dims:
        raise ProcessParameterInvalid("ndvi: the data cube has no 'bands' dimension")
    labels = [str(b) for b in data["bands"].values]
    origins = band_origins(data)
    nir = _band_label(nir, labels, origins, NirBandAmbiguous)
    red = _band_label(red, labels, origins, RedBandAmbiguous)
    n = data.sel(bands=nir, drop=True).astype(np.float32)
    r = data.sel(bands=red, drop=True).astype(np.float32)
    result = _quotient(n - r, n + r).astype(np.float32)
    result.attrs = dict(data.attrs)
    if target_band is None:
        return result
    if target_band in labels:
        raise ProcessParameterInvalid(f"ndvi: target band {target_band} already exists")
    extra = result.expand_dims(bands=[target_band]).transpose(*data.dims)
    return xr.concat([data.astype(np.float32), extra], dim="bands")


def divide(x: Any, y: Any) -> Any:
    """openEO divide; on rasters x / 0 is NaN and the result float32 unless an input is
    float64 (Copernicus forces float and uses geotrellis Divide). Two plain numbers
    divide as on Copernicus, in Python (openeo-python-driver processgraph/registry.py
    L76-95 sends them to openeo_processes 0.0.4, math.py ``Divide.exec_num`` L4055
    ``x / y``): x / 0 is the spec's ``DivisionByZero``, not +-infinity."""
    if np.ndim(x) == 0 and np.ndim(y) == 0:
        if x is None or y is None:
            return None
        if y == 0 and not isinstance(y, np.generic | np.ndarray):
            raise DivisionByZero(
                f"divide: {x} / 0 of two numbers (Copernicus divides them in Python)"
            )
        return x / y
    import xarray as xr

    wide = any(np.dtype(getattr(v, "dtype", np.float32)) == np.float64 for v in (x, y))
    if np.ndim(y) == 0:
        result = x / (np.nan if y == 0 else y)
    else:
        result = x / xr.where(y == 0, np.nan, y, keep_attrs=True)
    return result if wide else result.astype(np.float32)


def normalized_difference(x: Any, y: Any) -> Any:
    """(x - y) / (x + y); null in, null out for single values (openeo-processes-dask
    subtracted from None), a zero sum gives NaN on rasters as :func:`divide` does."""
    if x is None or y is None:
        return None
    return divide(x - y, x + y)


def _band_label(
    name: str, labels: list[str], origins: dict[str, str | None], error: type[BandNotFound]
) -> str:
    """A band by its label, else its common name, as Copernicus's ndvi finds it (a
    renamed band by what it was renamed from: ``origins``): B8A renamed ``nir`` is the
    nir band though B08 keeps that common name."""
    from hybrid.collection import band_position

    position = band_position(labels, name, origins, label_first=True)
    if position is None:
        raise error(f"ndvi: band {name} is not in the cube (it has {', '.join(labels)})")
    return labels[position]
