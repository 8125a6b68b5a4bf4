"""apply, apply_dimension and reduce_dimension with a ``run_udf`` callback, as Copernicus
runs them; any other callback goes to the ordinary implementation (openeo-processes-dask,
or :mod:`hybrid.backends.local.processes.dimensions` for apply_dimension), on a float64
cube converted to float32 for apply and callbacks over bands (:func:`as_float32`), their
result converted to the type Copernicus declares for it (:func:`declared`).

Copernicus (openeo-geopyspark-driver ``geopysparkdatacube.py``): ``apply`` runs the UDF
per date and tile (``apply_tiles``); ``apply_dimension``/``reduce_dimension`` over the
temporal dimension per tile with the whole series (``apply_tiles_spatiotemporal``),
over ``bands`` like ``apply`` (``_run_udf_dimension``); other dimensions are refused.
Chunks: :mod:`hybrid.backends.local.udf.tiling`; isolation:
:mod:`hybrid.backends.local.udf.isolated`.
The input is computed before the UDF runs (the UDF path is not lazy).
"""

from __future__ import annotations

from typing import Any

from hybrid.backends.local.udf.callbacks import UdfCallback, resolve_context, udf_callback
from hybrid.backends.local.udf.isolated import UdfSettings
from hybrid.errors import ProcessParameterInvalid, UdfError


def run_tiled(
    data: Any,
    udf: UdfCallback,
    parent_context: Any,
    *,
    process: str,
    settings: UdfSettings | None,
    tiling: Any = None,
    series: bool,
    band_names: bool = True,
) -> Any:
    """The UDF over ``data`` cut as ``tiling`` says; ``series``: with the whole ``t``
    dimension in each chunk, else one date per chunk; ``band_names``: the result's bands
    named as Copernicus names them (:func:`_labelled`; not for a reduction of the
    bands, which drops them)."""
    import xarray as xr

    from hybrid.backends.local.udf.isolated import run_udf_chunks
    from hybrid.backends.local.udf.tiling import Tiling, canonical, cut, per_date, stitch

    tiling = tiling or Tiling()
    cube, added_bands = canonical(data)
    context = resolve_context(udf.context, parent_context)
    epsg = data.attrs.get("epsg") if isinstance(data.attrs.get("epsg"), int) else None

    def run(slices: list[xr.DataArray]) -> list[xr.DataArray]:
        chunks: list[xr.DataArray] = []
        layout = []
        for piece in slices:
            tiles, tiles_y, tiles_x = cut(piece, tiling)
            layout.append((len(chunks), len(tiles), tiles_y, tiles_x))
            chunks.extend(tiles)
        results = run_udf_chunks(
            udf.code, chunks, context=context, settings=settings or UdfSettings(),
            process=process, epsg=epsg,
        )  # fmt: skip
        if series:
            _require_bands(results, process)
        stitched = []
        for piece, (start, count, tiles_y, tiles_x) in zip(slices, layout, strict=True):
            part = slice(start, start + count)
            stitched.append(
                stitch(results[part], chunks[part], tiling=tiling, tiles=(tiles_y, tiles_x),
                       like=piece, process=process)
            )  # fmt: skip
        return stitched

    result = run([cube])[0] if series else per_date(cube, run)
    return _labelled(result, cube, data, udf.code if band_names else None), added_bands


def _require_bands(results: list[Any], process: str) -> None:
    """A UDF given whole time series must keep the ``bands`` dimension: Copernicus
    transposes its result to ``(t, bands, y, x)`` or ``(bands, y, x)``
    (geopysparkdatacube.py ``apply_tiles_spatiotemporal`` L678, L684), which fails
    without it."""
    for result in results:
        if "bands" not in result.dims:
            raise UdfError(
                f"The UDF of '{process}' over the time series returned dims "
                f"{tuple(str(d) for d in result.dims)} without 'bands': Copernicus needs "
                "it in the result (it fails there too); keep it, e.g. "
                "array.expand_dims(bands=['name'])"
            )


def dated_2020(result: Any, process: str) -> Any:
    """A time-series UDF's result without ``t``, as Copernicus stores it: one date,
    2020-01-01 (geopysparkdatacube.py ``apply_tiles_spatiotemporal`` L683-694), with a
    warning saying so."""
    import numpy as np

    from hybrid.run_warnings import warn

    warn(
        f"the UDF of {process} over t returned no 't' dimension; Copernicus labels its "
        "result 2020-01-01, as here (use reduce_dimension to drop t)"
    )
    dated = result.expand_dims(t=[np.datetime64("2020-01-01T00:00:00", "ns")])
    return dated.transpose("t", ...)


def _labelled(result: Any, cube: Any, data: Any, code: str | None) -> Any:
    """The stitched ``result`` labelled as ``cube`` (the UDF's input) where it lost the
    labels, its bands named as Copernicus names them when ``code`` is given
    (:func:`~hybrid.backends.local.udf.tiling.band_metadata_kept`), in the cube's
    dimension order with ``data``'s attributes."""
    from hybrid.backends.local.udf.tiling import band_metadata_kept, label_like

    result = label_like(label_like(result, cube, "bands"), cube, "t")
    order = [d for d in ("t", "bands") if d in result.dims]
    result = result.transpose(*order, ..., "y", "x")
    if result.dtype != "float32":  # Copernicus puts every UDF result into FLOAT32 tiles
        result = result.astype("float32")  # (geopysparkdatacube.py L681, L692, L914-916)
    result.attrs = dict(data.attrs)
    if code is not None:  # after the attributes: it records the bands it names not
        result = band_metadata_kept(result, cube, code)
    result.name = None
    return result


def _restored(result: Any, added_bands: bool) -> Any:
    from hybrid.backends.local.udf.tiling import restore

    return restore(result, added_bands)


def apply(
    data: Any,
    process: Any,
    context: Any = None,
    *,
    udf_settings: UdfSettings | None = None,
    output_cell_type: str | None = None,
) -> Any:
    """openEO apply; a UDF runs per date and tile of (bands, y, x)."""
    udf = udf_callback(process)
    if udf is None:
        from hybrid.backends.local.processes.callbacks import apply_values

        result = apply_values(as_float32(data), _constant_filled(process), context=context)
        return declared(result, output_cell_type)
    result, added = run_tiled(
        data, udf, context, process="apply", settings=udf_settings, series=False
    )
    return _restored(result, added)


def declared(result: Any, output_cell_type: str | None) -> Any:
    """An apply's or band callback's ``result`` in the type Copernicus converts it to
    (geopysparkdatacube.py ``_apply_bands_dimension`` L431-433): int16/int32 as such
    tiles store the values, float64 where the graph says so
    (:mod:`hybrid.backends.local.double_constants`), any other float64 as float32."""
    if output_cell_type == "float64":
        return result
    if output_cell_type is not None:
        from hybrid.backends.local.stored_integers import stored_as

        return stored_as(result, output_cell_type)
    return as_float32(result)


def as_float32(data: Any) -> Any:
    """A float64 cube as float32: Copernicus converts the cube to float32 before an
    ``apply`` or a callback over ``bands`` (geopysparkdatacube.py
    ``_apply_bands_dimension`` L407-408), so ``gt(x, 0.1)`` after ``apply_kernel``
    (float64) compares float32 values."""
    import numpy as np

    return data.astype(np.float32) if getattr(data, "dtype", None) == np.float64 else data


def _on_bands(data: Any, dimension: str) -> bool:
    from hybrid.backends.local.processes.cube_dimensions import band_dimension

    return band_dimension(data) == dimension


def _constant_filled(process: Any) -> Any:
    """The callback, with a single value it returns (a constant, or a comparison with a
    non-number) spread over the whole cube: Copernicus makes a constant tile of it
    (``createConstantTileFunction``, OpenEOProcessScriptBuilder.scala L492-505)."""
    import numpy as np

    def call(x: Any, *args: Any, **kwargs: Any) -> Any:
        result = process(x, *args, **kwargs)
        if np.ndim(x) > 0 and np.ndim(result) == 0:
            value = np.nan if result is None else result
            return np.full_like(x, value, dtype=np.asarray(value).dtype)
        return result

    return call


def _check_dimension(data: Any, dimension: str, process: str) -> None:
    from hybrid.backends.local.processes.cube_dimensions import require_dimension

    if "geometries" in getattr(data, "dims", ()):
        raise ProcessParameterInvalid(
            f"{process} with a UDF on a vector cube is not supported here (Copernicus runs "
            "it along 'geometry' or 'properties' as an experimental feature: "
            "apply_vectorcube or a FeatureCollection UDF); run_udf on the vector cube runs"
        )
    require_dimension(data, dimension, process)
    if dimension not in ("t", "bands"):
        raise ProcessParameterInvalid(
            f"{process} with UDF along dimension {dimension} is not supported (as on "
            "Copernicus): use t or bands"
        )


def apply_dimension(
    data: Any,
    process: Any,
    dimension: str,
    target_dimension: str | None = None,
    context: Any = None,
    *,
    udf_settings: UdfSettings | None = None,
    output_cell_type: str | None = None,
) -> Any:
    """openEO apply_dimension; a UDF gets whole time series (t) or one date (bands)."""
    udf = udf_callback(process)
    if udf is None:
        from hybrid.backends.local.processes.dimensions import apply_dimension as plain

        if "geometries" in getattr(data, "dims", ()):
            # python-driver datacube.py DriverVectorCube.apply_dimension L822-898
            raise ProcessParameterInvalid(
                "apply_dimension on a vector cube takes a single run_udf callback only, as on "
                "Copernicus (FeatureUnsupported there); give the vector cube to run_udf instead"
            )

        bands = _on_bands(data, dimension)
        result = plain(
            as_float32(data) if bands else data, process, dimension,
            target_dimension=target_dimension, context=context,
        )  # fmt: skip
        return declared(result, output_cell_type) if bands else result
    if "geometries" in getattr(data, "dims", ()):
        from hybrid.backends.local.processes.vector_udf import apply_dimension_on_vector_cube
        from hybrid.io.vector import is_aggregate_result

        if is_aggregate_result(data):
            # python-driver cubes.py apply_dimension L112: data is a DriverDataCube or a
            # DriverVectorCube; Copernicus's aggregate_spatial result is neither
            raise ProcessParameterInvalid(
                "apply_dimension takes no aggregate_spatial result on Copernicus (it is no "
                "data cube or vector cube there); give the result to run_udf instead"
            )
        return apply_dimension_on_vector_cube(
            data, udf.code, dimension, target_dimension, context, udf_settings or UdfSettings()
        )
    _check_dimension(data, dimension, "apply_dimension")
    result, added = run_tiled(
        data, udf, context, process="apply_dimension", settings=udf_settings,
        series=dimension == "t",
    )  # fmt: skip
    if dimension == "t" and "t" not in result.dims:
        result = dated_2020(result, "apply_dimension")
    if dimension not in result.dims:
        raise UdfError(
            f"The UDF of apply_dimension over '{dimension}' removed that dimension; "
            "use reduce_dimension to remove it"
        )
    return _restored(result, added)


def reduce_dimension(
    data: Any,
    reducer: Any,
    dimension: str,
    context: Any = None,
    *,
    udf_settings: UdfSettings | None = None,
    output_cell_type: str | None = None,
) -> Any:
    """openEO reduce_dimension; the UDF must return its chunk without ``dimension``. A
    band reduction's result is converted as Copernicus converts it (:func:`declared`;
    ``output_cell_type`` set from the graph by :mod:`hybrid.backends.local.cell_types`)."""
    udf = udf_callback(reducer)
    if udf is None:
        from hybrid.backends.local.processes.callbacks import reduce_along

        if _on_bands(data, dimension):
            reduced = reduce_along(as_float32(data), reducer, dimension, context=context)
            return declared(reduced, output_cell_type)
        return reduce_along(data, reducer, dimension, context=context)
    _check_dimension(data, dimension, "reduce_dimension")
    result, added = run_tiled(
        data, udf, context, process="reduce_dimension", settings=udf_settings,
        series=dimension == "t", band_names=dimension != "bands",
    )  # fmt: skip
    if dimension in result.dims:
        if result.sizes[dimension] != 1:
            raise UdfError(
                f"The UDF of reduce_dimension over '{dimension}' returned "
                f"{result.sizes[dimension]} labels along it: it must remove the dimension"
            )
        result = result.isel({dimension: 0}, drop=True)
    return _restored(result, added)
