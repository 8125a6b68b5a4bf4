"""The pixels a load reads around its extent for a kernel, as Copernicus's dry run sets
them: in pixels of the resolution a ``resample_spatial`` hands to the load
(openeo-python-driver ``processgraph/load_params.py`` L152-168: ``target_resolution *
ceil(buffer)``; the "resample" rule, ``dry_run.py`` L155-171), and for a kernel given by
an ``array_create`` node (APEx dlr/scmap ``apply_kernel(kernel=array_create(...))``),
which the dry run sees evaluated. Found by ``tests/workflows/test_apex_scmap.py``: the
SCL cloud dilation at 20 m was zero-padded at the edges of the extent."""

from __future__ import annotations

from typing import Any

from hybrid.backends.local.extents import infer_loads

BOX = {"west": 6.655, "south": 45.23, "east": 6.665, "north": 45.24}
BOXCAR = [[1] * 11 for _ in range(11)]


def _graph(*steps: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    load = {"id": "SENTINEL2_L2A", "spatial_extent": BOX, "temporal_extent": None}
    graph: dict[str, Any] = {"load": {"process_id": "load_collection", "arguments": load}}
    previous = "load"
    for index, (pid, args) in enumerate(steps):
        graph[f"n{index}"] = {
            "process_id": pid,
            "arguments": {"data": {"from_node": previous}, **args},
        }
        previous = f"n{index}"
    saved = {"data": {"from_node": previous}, "format": "netCDF"}
    graph["save"] = {"process_id": "save_result", "result": True, "arguments": saved}
    return graph


def _buffer(graph: dict[str, Any]) -> int:
    return infer_loads(graph)["load"].wide


def test_a_kernel_after_a_resample_buffers_in_the_resampled_pixels():
    """11 x 11 after ``resample_spatial(20)``: 6 pixels of 20 m = 12 of the 10 m load;
    ``[60, 60]`` with ``average``: 36; ``to_scl_dilation_mask`` the same way."""
    kernel = ("apply_kernel", {"kernel": BOXCAR})
    assert _buffer(_graph(("resample_spatial", {"resolution": 20}), kernel)) == 12
    resample = ("resample_spatial", {"resolution": [60, 60], "method": "average"})
    assert _buffer(_graph(resample, kernel)) == 36
    dilation = ("to_scl_dilation_mask", {"kernel2_size": 77})
    assert _buffer(_graph(("resample_spatial", {"resolution": 20}), dilation)) == 78


def test_a_resample_past_a_blocker_or_keeping_the_pixels_does_not_scale_it():
    """The resample is handed to the load only before any blocker (apply, mask,
    reduce_dimension, a kernel...); resolution 0, or one in a named CRS, leaves 10 m."""
    kernel = ("apply_kernel", {"kernel": BOXCAR})
    apply = ("apply", {"process": {"process_graph": {}}})
    assert _buffer(_graph(apply, ("resample_spatial", {"resolution": 20}), kernel)) == 6
    assert _buffer(_graph(("resample_spatial", {"resolution": 0}), kernel)) == 6
    named = ("resample_spatial", {"resolution": 20, "projection": 4326})
    assert _buffer(_graph(named, kernel)) == 6
    assert _buffer(_graph(kernel)) == 6


def test_a_kernel_from_an_array_create_node_buffers_the_load():
    graph = _graph(("apply_kernel", {"kernel": {"from_node": "kernel"}}))
    graph["kernel"] = {"process_id": "array_create", "arguments": {"data": BOXCAR}}
    assert _buffer(graph) == 6
    graph["n0"]["arguments"]["kernel"] = {"from_parameter": "kernel"}
    assert _buffer(graph) == 0  # a parameter's value is not known before the run


def test_only_the_first_kernel_on_a_path_buffers_the_load():
    """Copernicus's dry run keeps the first ``pixel_buffer`` of a path (dry_run.py
    L531-545, ``args_list[:1]``) and the largest over the load's paths (load_params.py
    L202-214): a 3 x 3 kernel then an 11 x 11 one reads 2 pixels around the extent, not 6."""
    small = ("apply_kernel", {"kernel": [[1] * 3 for _ in range(3)]})
    large = ("apply_kernel", {"kernel": BOXCAR})
    assert infer_loads(_graph(small, large))["load"].buffer == 2
    assert _buffer(_graph(("resample_spatial", {"resolution": 20}), small, large)) == 4
    assert infer_loads(_graph(large, small))["load"].buffer == 6
    # mask_scl_dilation sets no pixel_buffer (its SCL is read around each tile): no block
    dilation = ("mask_scl_dilation", {"kernel2_size": 9})
    assert infer_loads(_graph(dilation, large))["load"].buffer == 6
    # two paths from the load: the largest of their first kernels
    graph = _graph(small)
    graph["big"] = {"process_id": "apply_kernel",
                    "arguments": {"data": {"from_node": "load"}, "kernel": BOXCAR}}  # fmt: skip
    graph["save2"] = {"process_id": "save_result",
                      "arguments": {"data": {"from_node": "big"}, "format": "netCDF"}}  # fmt: skip
    assert infer_loads(graph)["load"].buffer == 6


def _two_kernels(tmp_path: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A one-scene catalog, a 15 x 15 px extent inside it and a graph loading it with an
    identity 3 x 3 kernel then an 11 x 11 box sum."""
    from tests.engine.test_kernel_search_box import _lonlat
    from tests.stac_fixtures import TinyScene, write_tiny_catalog

    scene = TinyScene("S2A_T32TLR_20230601_L2A", "2023-06-01T10:30:00Z", 5.0, red=1500)
    catalog = write_tiny_catalog(tmp_path / "catalog", [scene])
    (west, north), (east, south) = _lonlat(125, 125), _lonlat(275, 275)
    extent = {"west": west, "south": south, "east": east, "north": north}
    identity = [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    graph = _graph(("apply_kernel", {"kernel": identity}), ("apply_kernel", {"kernel": BOXCAR}))
    return catalog, extent, graph


def _assert_zero_padded_beyond_2_pixels(out: Any, value: float) -> None:
    """``out``: the box sum of ``value`` over the pixels read, 2 around the extent."""
    import numpy as np

    rows, cols = out.shape
    assert rows >= 12 and cols >= 12

    def inside(n: int) -> np.ndarray:  # per pixel: its window's pixels in [-2, n + 1]
        i = np.arange(n)
        return np.minimum(i + 5, n + 1) - np.maximum(i - 5, -2) + 1

    want = value * np.outer(inside(rows), inside(cols))
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)


def test_a_run_zero_pads_the_second_kernel_beyond_the_first_kernels_buffer(tmp_path):
    """An identity 3 x 3 kernel then an 11 x 11 box sum over uniform data: the load reads
    2 pixels around the extent, as on Copernicus, and the box sum zero-pads beyond them,
    so each pixel is the value times the window's pixels inside the loaded area. The run
    read 6 pixels (the largest kernel's buffer) and gave 121 x the value everywhere."""
    import xarray as xr

    from hybrid.backends.local import LocalBackend, LocalSettings

    catalog, extent, graph = _two_kernels(tmp_path)
    load = graph["load"]["arguments"]
    load.update(spatial_extent=extent, temporal_extent=["2023-06-01", "2023-06-02"])
    load["bands"] = ["B04"]
    backend = LocalBackend(LocalSettings(stac=str(catalog)))
    (path,) = backend.execute(graph, out_dir=tmp_path / "out").files
    with xr.open_dataset(path) as ds:
        out = ds["B04"].values[0]
    _assert_zero_padded_beyond_2_pixels(out, 1500 - 1000)  # the BOA offset of 05.09


def test_a_load_stac_reads_its_own_first_kernels_buffer_not_another_loads(tmp_path):
    """load_stac builds its load with the same per-load parameters as load_collection
    (geopyspark-driver load_stac.py L742 ``datacube_parameters.create(load_params)``,
    whose ``setPixelBuffer`` takes that load's ``pixel_buffer``, datacube_parameters.py
    L54-55): an identity 3 x 3 then an 11 x 11 box sum after a load_stac read 2 pixels
    around its extent even when another load of the graph reads 6. It read the run's
    largest (6) and gave 121 x the value everywhere."""
    import xarray as xr

    from hybrid.backends.local import LocalBackend, LocalSettings

    catalog, extent, graph = _two_kernels(tmp_path)
    when = ["2023-06-01", "2023-06-02"]
    graph["load"] = {"process_id": "load_stac", "arguments": {
        "url": str(catalog), "spatial_extent": extent, "temporal_extent": when, "bands": ["red"],
    }}  # fmt: skip
    other = {"id": "SENTINEL2_L2A", "spatial_extent": extent, "temporal_extent": when}
    graph["other"] = {"process_id": "load_collection", "arguments": {**other, "bands": ["B08"]}}
    graph["wide"] = {"process_id": "apply_kernel",
                     "arguments": {"data": {"from_node": "other"}, "kernel": BOXCAR}}  # fmt: skip
    saved = {"data": {"from_node": "wide"}, "format": "netCDF"}
    graph["save2"] = {"process_id": "save_result",
                      "arguments": {**saved, "options": {"filename_prefix": "other"}}}  # fmt: skip
    backend = LocalBackend(LocalSettings(stac=str(catalog)))
    files = backend.execute(graph, out_dir=tmp_path / "out").files
    (path,) = [f for f in files if not f.name.startswith("other")]
    with xr.open_dataset(path) as ds:
        out = ds["red"].values[0]
    _assert_zero_padded_beyond_2_pixels(out, out[out.shape[0] // 2, out.shape[1] // 2] / 121)
