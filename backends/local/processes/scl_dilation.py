"""to_scl_dilation_mask and mask_scl_dilation: the cloud mask Copernicus recommends.

Both build one mask from the Sen2Cor scene classification (SCL) as
openeo-geotrellis-extensions does (``geotrellis-common/.../CloudFilterStrategy.scala``,
class ``SCLConvolutionFilter`` L217-299, kernels L174-194; read at commit 2a25a26e):

1. ``mask1``: 1 where the SCL class is NOT in ``mask1_values`` (default 2, 4, 5, 6, 7:
   dark area, vegetation, bare soil, water, unclassified), 0 where it is; optionally
   eroded (below); convolved with a Gaussian of ``kernel1_size`` (default 17) and
   thresholded ``> 0.057``. With ``kernel1_size`` 0 the binary mask is used as it is;
   when every pixel is in ``mask1_values`` this step masks nothing (L231-262).
2. ``mask2``: 1 where the SCL class IS in ``mask2_values`` (default 3, 8, 9, 10, 11:
   cloud shadow, cloud medium/high probability, cirrus, snow), optionally eroded,
   convolved with a Gaussian of ``kernel2_size`` (default 201) and thresholded
   ``> 0.025``; when every pixel is in ``mask2_values`` it is all ones (L268-283).
3. The mask is ``mask1 OR mask2`` as a bit tile: 1 = cloud (L287). Nodata SCL pixels
   are in no list, so they count as "not in mask1" (1) and "not in mask2" (0).

Kernels: ``Kernel.gaussian(n, n / 6.0, 10000)`` from geotrellis (integer weights,
truncated) divided by their sum; the erosion kernel is geotrellis
``Kernel.circle(n, 0, n / 2)``, which sets 1 where ``r * r + c * c < rad * rad`` with
r, c counted from the kernel's top-left corner (a quarter disc, not centred: a
geotrellis quirk reproduced here). Erosion: ``(m - 1) ** 2`` convolved with it,
``> 0.5`` -> 0 else 1 (L290-298). Convolution is openeo's ``FFTConvolve``: full linear
convolution with zeros outside, cropped to the centre (FFTConvolve.scala L73-85).

Copernicus computes the mask per 256-px tile buffered by ``kernel2_size / 2`` real
neighbour pixels (OpenEOProcesses.scala ``toSclDilationMask`` L1200-1212) and its dry
run loads ``kernel2_size / 2`` extra pixels around the extent (dry_run.py:959-971);
here each date is computed whole, on the load grown by that buffer
(hybrid.backends.local.extents), which gives the same values.

Parameters and defaults: ``to_scl_dilation_mask.json`` in openeo-python-driver
``openeo_driver/specs/openeo-processes/experimental``; the driver passes every
optional with its default (process_implementations/sar.py:125-141).

``mask_scl_dilation`` (deprecated) applies the same mask to every band of the cube,
replacing masked pixels by nodata (``SCLConvolutionFilterStrategy.loadMasked``
L60-159). Copernicus does that while loading, as a load-time "custom cloud mask"
(dry_run.py:956-957, FileLayerProvider.scala L1044-1049), one layout key at a time with
only ``floor(kernel2_size / 2)`` pixels around it, and the process returns its cube
unchanged where it stands; so here (:func:`masked_while_loading`,
:mod:`hybrid.backends.local.scl_mask_loads`, :mod:`.scl_keys`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hybrid.backends.local.processes.scl_keys import (
    KeyGrid,
    by_key,
    key_grid,
    key_layout,
    window_buffer,
)
from hybrid.errors import ProcessParameterInvalid

#: defaults of to_scl_dilation_mask.json (and SCLConvolutionFilterStrategy L31-36)
DEFAULTS: dict[str, Any] = {
    "erosion_kernel_size": 0,
    "mask1_values": (2, 4, 5, 6, 7),
    "mask2_values": (3, 8, 9, 10, 11),
    "kernel1_size": 17,
    "kernel2_size": 201,
}
#: SCLConvolutionFilter.amplitude
_AMPLITUDE = 10000.0
#: thresholds of the two dilations (CloudFilterStrategy.scala L248, L280)
THRESHOLD1 = 0.057
THRESHOLD2 = 0.025


def gaussian_kernel(size: int) -> np.ndarray | None:
    """geotrellis ``Kernel.gaussian(size, size / 6.0, 10000)`` / its sum; None if size <= 0."""
    if size <= 0:
        return None
    centre = size // 2
    offsets = np.arange(size) - centre
    rsqr = offsets[:, None] ** 2 + offsets[None, :] ** 2
    sigma = size / 6.0
    weights = np.trunc(_AMPLITUDE * np.exp(-rsqr / (2.0 * sigma * sigma)))
    return weights / weights.sum()


def erosion_kernel(size: int) -> np.ndarray | None:
    """geotrellis ``Kernel.circle(size, 0, size / 2)``; None if size <= 0."""
    if size <= 0:
        return None
    rad = size // 2
    index = np.arange(size)
    return (index[:, None] ** 2 + index[None, :] ** 2 < rad * rad).astype(np.float64)


def fft_convolve(tile: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """openeo's FFTConvolve: full convolution (zeros outside) cropped to the centre."""
    from scipy.signal import fftconvolve

    return np.asarray(fftconvolve(tile, kernel, mode="same"))


def _erode(binary: np.ndarray, kernel: np.ndarray | None) -> np.ndarray:
    if kernel is None:
        return binary
    eroded = fft_convolve((binary - 1.0) ** 2, kernel)
    return np.where(eroded > 0.5, 0.0, 1.0)


def dilation_mask(scl: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """The boolean cloud mask (True = masked) of one 2-D SCL slice."""
    classes = np.where(np.isfinite(scl), scl, -1.0)
    erosion = erosion_kernel(int(params["erosion_kernel_size"]))
    in1 = np.isin(classes, np.asarray(params["mask1_values"], dtype=np.float64))
    binary1 = np.where(in1, 0.0, 1.0)
    kernel1 = gaussian_kernel(int(params["kernel1_size"]))
    if in1.all():
        mask1: np.ndarray | None = None
    elif kernel1 is not None:
        mask1 = fft_convolve(_erode(binary1, erosion), kernel1) > THRESHOLD1
    else:
        mask1 = binary1 > 0
    in2 = np.isin(classes, np.asarray(params["mask2_values"], dtype=np.float64))
    if in2.all():
        mask2 = np.ones(scl.shape, dtype=bool)
    else:
        kernel2 = gaussian_kernel(int(params["kernel2_size"]))
        assert kernel2 is not None  # checked by _params
        mask2 = fft_convolve(_erode(in2.astype(np.float64), erosion), kernel2) > THRESHOLD2
    return mask2 if mask1 is None else (mask1 | mask2)


def _params(process: str, **given: Any) -> dict[str, Any]:
    params = dict(DEFAULTS)
    params.update({k: v for k, v in given.items() if v is not None})
    for name in ("erosion_kernel_size", "kernel1_size", "kernel2_size"):
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ProcessParameterInvalid(f"{process}: {name} must be an integer, got {value!r}")
        params[name] = int(value)
    if params["kernel2_size"] <= 0:
        raise ProcessParameterInvalid(
            f"{process}: kernel2_size must be positive (Copernicus fails without the "
            f"second kernel), got {params['kernel2_size']}"
        )
    for name in ("mask1_values", "mask2_values"):
        values = params[name]
        if not isinstance(values, Sequence) or isinstance(values, str):
            raise ProcessParameterInvalid(f"{process}: {name} must be a list of SCL classes")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise ProcessParameterInvalid(f"{process}: {name} must hold numbers, got {values!r}")
        params[name] = tuple(float(v) for v in values)
    return params


def _slices(block: np.ndarray, params: dict[str, Any], keys: KeyGrid | None) -> np.ndarray:
    """dilation_mask over the last two axes of ``block`` (per layout key with ``keys``)."""
    out = np.empty(block.shape, dtype=bool)
    for index in np.ndindex(*block.shape[:-2]):
        scl = np.asarray(block[index], dtype=np.float64)
        if keys is None:
            out[index] = dilation_mask(scl, params)
        else:
            out[index] = by_key(scl, keys, lambda window: dilation_mask(window, params))
    return out


def _mask_of(
    data: Any, process: str, band: Any, params: dict[str, Any], keys: KeyGrid | None = None
) -> Any:
    """The lazy boolean mask (dims of ``data`` without bands) from band ``band``, computed
    per layout key when ``keys`` says where they are (:mod:`.scl_keys`)."""
    import xarray as xr

    from hybrid.backends.local.cube_arrays import require_raster

    require_raster(data, process)
    scl = data
    if "bands" in data.dims:
        labels = [str(b) for b in data["bands"].values]
        if band is None:
            index = 0
        elif str(band) in labels:
            index = labels.index(str(band))
        else:
            raise ProcessParameterInvalid(
                f"{process}: the cube has no band '{band}'; its bands are {', '.join(labels)}"
            )
        scl = data.isel(bands=index, drop=True)
    if scl.chunks is not None:
        scl = scl.chunk({"y": -1, "x": -1})
    return xr.apply_ufunc(
        _slices,
        scl,
        input_core_dims=[["y", "x"]],
        output_core_dims=[["y", "x"]],
        dask="parallelized",
        output_dtypes=[bool],
        kwargs={"params": params, "keys": keys},
    ).transpose(*scl.dims)


def to_scl_dilation_mask(
    data: Any,
    erosion_kernel_size: Any = None,
    mask1_values: Any = None,
    mask2_values: Any = None,
    kernel1_size: Any = None,
    kernel2_size: Any = None,
    **_ignored: Any,
) -> Any:
    """The SCL dilation mask of the cube's first band (SCL): boolean, True = cloud.

    One band, labelled like the input's first band (Copernicus builds the mask from
    ``band(0)`` and keeps the cube's metadata). Other arguments (``scl_band_name``, which
    mask_scl_dilation has and published graphs also give this process) are ignored, as
    Copernicus reads only these five (openeo-python-driver ``process_implementations/
    sar.py`` ``to_scl_dilation_mask`` L127-141).
    """
    params = _params(
        "to_scl_dilation_mask",
        erosion_kernel_size=erosion_kernel_size,
        mask1_values=mask1_values,
        mask2_values=mask2_values,
        kernel1_size=kernel1_size,
        kernel2_size=kernel2_size,
    )
    result = _mask_of(data, "to_scl_dilation_mask", None, params)
    if "bands" in data.dims:
        label = data["bands"].values[0]
        result = result.expand_dims(bands=[label]).transpose(*data.dims)
    result.attrs = dict(data.attrs)
    return result


def mask_scl_dilation(
    data: Any,
    scl_band_name: Any = None,
    erosion_kernel_size: Any = None,
    mask1_values: Any = None,
    mask2_values: Any = None,
    kernel1_size: Any = None,
    kernel2_size: Any = None,
) -> Any:
    """``data`` unchanged: Copernicus masks while loading, not here.

    Its dry run hands the arguments to every load upstream as a "custom cloud mask"
    (python-driver ``dry_run.py`` L956-957, ``processgraph/load_params.py`` L233), and
    the process itself returns its cube as it is, as the cube has no such method
    (``process_implementations/sar.py`` L112-122): the loads apply it
    (:func:`masked_while_loading`), before the processes between them and this one.
    The arguments are checked here too, as the loads read them. Copernicus's masking
    reads its parameters by name (geotrellis-extensions CloudFilterStrategy.scala
    L56-69 ``getOrDefault``), so another argument is ignored there: here too, with a
    warning, as for any process (``copernicus_registry.without_unread_arguments``)."""
    given = {
        "erosion_kernel_size": erosion_kernel_size,
        "mask1_values": mask1_values,
        "mask2_values": mask2_values,
        "kernel1_size": kernel1_size,
        "kernel2_size": kernel2_size,
    }
    _params("mask_scl_dilation", **given)
    return data


def masked_while_loading(data: Any, arguments: Mapping[str, Any]) -> Any:
    """Every band of a loaded cube set to nodata where the SCL dilation mask of
    mask_scl_dilation's ``arguments`` is set, one layout key at a time
    (:mod:`.scl_keys`). The SCL band is the first whose name holds ``SCL`` or
    ``SCENECLASSIFICATION``, as FileLayerProvider.scala L1044-1049 finds it by its
    title (``scl_band_name`` is not read there); a load without one is not masked. A
    key masked all over gets no tile (``loadMasked`` returns None, L78-159), nor does
    one whose masked read holds no value (L708), so a date without such a key is not in
    the cube (:func:`_surviving_dates`; none has one: all kept here, all no-data)."""
    from hybrid.backends.local.processes.resampling import LAYOUT
    from hybrid.run_warnings import warn

    known = {k: v for k, v in arguments.items() if k in DEFAULTS}
    params = _params("mask_scl_dilation", **known)
    labels = [str(b) for b in data["bands"].values] if "bands" in data.dims else []
    found = [b for b in labels if "SCL" in b.upper() or "SCENECLASSIFICATION" in b.upper()]
    if not found:
        warn(
            "mask_scl_dilation: the load has no SCL band, so it masks nothing, as on "
            "Copernicus (it applies the mask while loading): load SCL with the bands"
        )
        return data
    keys = key_grid(data, data.attrs.get(LAYOUT), window_buffer(params["kernel2_size"]))
    mask = _mask_of(data, "mask_scl_dilation", found[0], params, keys)
    if keys is not None and "t" in mask.dims:
        kept = _surviving_dates(data, found[0], mask, key_layout(keys, data, data.attrs[LAYOUT]))
        if len(kept) < data.sizes["t"]:
            data, mask = data.isel(t=kept), mask.isel(t=kept)
    return data.where(~mask)


def _surviving_dates(data: Any, scl: str, mask: Any, layout: Any) -> list[int]:
    """The positions of the dates with a layout key whose masked read holds a value
    (:mod:`hybrid.backends.local.surviving_keys`): the SCL band's unmasked values are
    tested with the mask (computed once for both); the other bands only for the dates
    with unmasked pixels but no unmasked SCL value (a key's SCL no-data pixels are
    masked unless few among clear ones)."""
    import xarray as xr

    from hybrid.backends.local.surviving_keys import (
        kept_positions,
        per_key,
        probe_computed,
        surviving_at,
        with_data,
    )

    clear = ~mask
    both = xr.concat(
        [per_key(clear, layout), per_key(clear & data.sel(bands=scl).notnull(), layout)],
        dim="test",
    )
    opened, valued = probe_computed(both)
    survives = valued.any(dim="key").values
    unsure = np.flatnonzero(~survives & opened.any(dim="key").values)
    if unsure.size:
        flags = clear.isel(t=unsure) & with_data(data.isel(t=unsure))
        survives[unsure] = surviving_at(opened, unsure, flags, layout)
    return kept_positions(survives, keep_all_if_none=True)


def _number(name: str, default: int, text: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": text,
        "optional": True,
        "default": default,
        "schema": {"type": "number"},
    }


def _classes(name: str, default: tuple[int, ...], text: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": text,
        "optional": True,
        "default": list(default),
        "schema": {"type": "array", "items": {"type": "number"}},
    }


_CUBE = {"type": "object", "subtype": "datacube"}

#: openEO descriptions (GET /processes) with Copernicus's parameter names and defaults
SPECS: dict[str, dict[str, Any]] = {
    "to_scl_dilation_mask": {
        "id": "to_scl_dilation_mask",
        "summary": "Cloud mask from the Sentinel-2 scene classification, dilated",
        "description": (
            "Builds a cloud mask (true = cloud) from a cube whose first band is the "
            "Sen2Cor scene classification (SCL) of Sentinel-2 L2A, by two Gaussian "
            "dilations, as the Copernicus openEO backend does."
        ),
        "categories": ["cubes", "ard"],
        "experimental": True,
        "parameters": [
            {"name": "data", "description": "A cube with the SCL band.", "schema": _CUBE},
            _number("erosion_kernel_size", 0, "Size of the erosion kernel; 0: no erosion."),
            _classes("mask1_values", (2, 4, 5, 6, 7), "SCL classes that are clear."),
            _classes("mask2_values", (3, 8, 9, 10, 11), "SCL classes that are cloud."),
            _number("kernel1_size", 17, "Size of the first Gaussian kernel; 0: none."),
            _number("kernel2_size", 201, "Size of the second Gaussian kernel."),
        ],
        "returns": {"description": "The mask: one band, true = cloud.", "schema": _CUBE},
    },
    "mask_scl_dilation": {
        "id": "mask_scl_dilation",
        "summary": "Mask clouds with the dilated scene classification",
        "description": (
            "Deprecated in favour of to_scl_dilation_mask: sets every band to nodata "
            "where the dilated SCL cloud mask is set."
        ),
        "categories": ["cubes", "ard"],
        "experimental": True,
        "deprecated": True,
        "parameters": [
            {"name": "data", "description": "A Sentinel-2 L2A cube.", "schema": _CUBE},
            {
                "name": "scl_band_name",
                "description": "The band holding the scene classification; null: SCL.",
                "optional": True,
                "default": None,
                "schema": [{"type": "string"}, {"type": "null"}],
            },
        ],
        "returns": {"description": "The masked cube.", "schema": _CUBE},
    },
}
