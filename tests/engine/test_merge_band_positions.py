"""merge_cubes with an overlap resolver pairs the bands by position, as Copernicus does
(geotrellis-extensions OpenEOProcesses.scala ``resolve_merge_overlap`` L978-995), not by
name: the openeo client writes ``cube_a * cube_b`` as such a merge, so two cubes of
differently named single bands (``B04_slope``, ``B04_aspect``) give their product."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hybrid.errors import ProcessParameterInvalid
from tests.engine.small_cubes import bands_cube, callback, node
from tests.process_vectors import run_through_engine

MULTIPLY = callback("m", m=node("multiply", x={"from_parameter": "x"}, y={"from_parameter": "y"}))


def _merged(cube1: Any, cube2: Any) -> Any:
    arguments = {"cube1": cube1, "cube2": cube2, "overlap_resolver": MULTIPLY}
    return run_through_engine("merge_cubes", arguments)


def test_a_resolver_multiplies_bands_of_other_names_band_by_band() -> None:
    data = bands_cube()
    slope = data.sel(bands=["B04"]).assign_coords(bands=["B04_slope"])
    aspect = data.sel(bands=["B08"]).assign_coords(bands=["B04_aspect"])
    out = _merged(slope, aspect)
    assert list(out["bands"].values) == ["B04_slope"]
    np.testing.assert_allclose(out.values, slope.values * aspect.values)


def test_a_resolver_pairs_bands_by_position_not_by_name() -> None:
    data = bands_cube()
    swapped = data.sel(bands=["B08", "B04"])
    out = _merged(data, swapped)
    assert list(out["bands"].values) == ["B04", "B08"]
    product = data.sel(bands="B04") * data.sel(bands="B08")
    np.testing.assert_allclose(out.sel(bands="B04").values, product.values)
    np.testing.assert_allclose(out.sel(bands="B08").values, out.sel(bands="B04").values)


def test_a_resolver_of_cubes_with_other_band_counts_fails_where_they_overlap() -> None:
    data = bands_cube()
    one = data.sel(bands=["B04"]).assign_coords(bands=["red"])
    with pytest.raises(ProcessParameterInvalid, match=r"counts are the same\. I got: 2 and 1"):
        _merged(data, one)
    later = one.isel(t=slice(2, None))
    earlier = data.isel(t=slice(0, 2))
    out = _merged(earlier, later)
    assert list(out["bands"].values) == ["B04", "B08", "red"]  # no date in common: joined
