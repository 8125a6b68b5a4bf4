"""ndvi on harmonised digital numbers, in float32.

openeo-processes-dask subtracts in the input dtype, so raw uint16 wraps around.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.errors import BandNotFound, ProcessParameterInvalid


def ndvi(data: Any, nir: str = "nir", red: str = "red", target_band: str | None = None) -> Any:
    import xarray as xr

    if "bands" not in data.dims:
        raise ProcessParameterInvalid("ndvi: the data cube has no 'bands' dimension")
    labels = [str(b) for b in data["bands"].values]
    nir, red = (_band_label(name, labels) for name in (nir, red))
    n = data.sel(bands=nir, drop=True).astype(np.float32)
    r = data.sel(bands=red, drop=True).astype(np.float32)
    result = (n - r) / (n + r)
    result.attrs = dict(data.attrs)
    if target_band is None:
        return result
    if target_band in labels:
        raise ProcessParameterInvalid(f"ndvi: target band {target_band} already exists")
    extra = result.expand_dims(bands=[target_band]).transpose(*data.dims)
    return xr.concat([data.astype(np.float32), extra], dim="bands")


def _band_label(name: str, labels: list[str]) -> str:
    """A band by its label or, as the spec and Copernicus allow, its common name."""
    if name in labels:
        return name
    from hybrid.collection import eo_bands

    by_common = {b.get("common_name"): b["name"] for b in eo_bands() if b.get("common_name")}
    if by_common.get(name) in labels:
        return str(by_common[name])
    raise BandNotFound(f"ndvi: band {name} is not in the cube (it has {', '.join(labels)})")
