"""to_scl_dilation_mask / mask_scl_dilation on their own against the reference written from
the Copernicus source (tests/engine/scl_reference.py): the mask, the defaults, uniform
scenes, bad parameters, the advertised descriptions.
"""

from __future__ import annotations

import numpy as np
import pytest

from hybrid.backends.local.processes.scl_dilation import to_scl_dilation_mask
from hybrid.errors import ProcessParameterInvalid
from tests.engine.scl_reference import _clouds, _scl_cube, ref_mask


@pytest.mark.parametrize(
    "params",
    [
        {"kernel1_size": 5, "kernel2_size": 9},
        {"kernel1_size": 7, "kernel2_size": 15, "erosion_kernel_size": 3},
        {"kernel1_size": 0, "kernel2_size": 11, "erosion_kernel_size": 5},
        {
            "kernel1_size": 9,
            "kernel2_size": 21,
            "mask1_values": [2, 4, 5, 6, 7, 10],
            "mask2_values": [9, 3],
        },
    ],
)
def test_the_mask_matches_the_reference(params):
    slices = [_clouds(seed) for seed in range(3)]
    got = to_scl_dilation_mask(_scl_cube(slices), **params)
    assert got.dims == ("t", "bands", "y", "x") and list(got["bands"].values) == ["SCL"]
    assert got.dtype == bool
    values = got.values
    ref_args = {
        "erosion": params.get("erosion_kernel_size", 0),
        "k1": params["kernel1_size"],
        "k2": params["kernel2_size"],
    }
    if "mask1_values" in params:
        ref_args.update(mask1=tuple(params["mask1_values"]), mask2=tuple(params["mask2_values"]))
    for index, scl in enumerate(slices):
        expected = ref_mask(scl, **ref_args)
        assert 0 < expected.sum() < expected.size  # the case is not trivial
        np.testing.assert_array_equal(values[index, 0], expected)


@pytest.mark.slow
def test_the_defaults_match_the_reference():
    scl = _clouds(7, shape=(64, 70))
    got = to_scl_dilation_mask(_scl_cube([scl])).values[0, 0]
    np.testing.assert_array_equal(got, ref_mask(scl))


def test_uniform_scenes_take_the_scala_short_cuts():
    clear = np.full((20, 20), 4.0)
    cloudy = np.full((20, 20), 9.0)
    got = to_scl_dilation_mask(_scl_cube([clear, cloudy]), kernel1_size=5, kernel2_size=9).values
    assert not got[0].any()  # every pixel in mask1: nothing masked
    assert got[1].all()  # every pixel in mask2: all masked, even at the border
    np.testing.assert_array_equal(got[0, 0], ref_mask(clear, k1=5, k2=9))
    np.testing.assert_array_equal(got[1, 0], ref_mask(cloudy, k1=5, k2=9))


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ({"kernel2_size": 0}, "kernel2_size"),
        ({"kernel1_size": 2.5}, "kernel1_size"),
        ({"mask1_values": "4,5"}, "mask1_values"),
        ({"mask2_values": [3, "cloud"]}, "mask2_values"),
    ],
)
def test_bad_parameters_are_one_clear_error(args, word):
    with pytest.raises(ProcessParameterInvalid, match=word):
        to_scl_dilation_mask(_scl_cube([_clouds(0)]), **args)


def test_the_processes_are_advertised_with_copernicus_defaults():
    from hybrid.backends.local import LocalBackend

    specs = {s["id"]: s for s in LocalBackend().process_specs()}
    params = {p["name"]: p.get("default") for p in specs["to_scl_dilation_mask"]["parameters"]}
    assert params == {
        "data": None,
        "erosion_kernel_size": 0,
        "mask1_values": [2, 4, 5, 6, 7],
        "mask2_values": [3, 8, 9, 10, 11],
        "kernel1_size": 17,
        "kernel2_size": 201,
    }
    assert "mask_scl_dilation" in specs
