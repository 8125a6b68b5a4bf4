"""The workflow's Gaussian kernel equals scipy.signal's window, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid.errors import ProcessParameterInvalid
from hybrid.kernel import gaussian_kernel


@pytest.mark.parametrize(("size", "std"), [(11, 1.6), (1, 1.0), (3, 0.5), (21, 3.3), (5, 100.0)])
def test_the_kernel_is_scipys_gaussian_window_outer_product(size: int, std: float) -> None:
    from scipy.signal import windows

    g = windows.gaussian(size, std=std)
    expected = np.outer(g, g)
    expected /= expected.sum()
    np.testing.assert_array_equal(np.array(gaussian_kernel(size, std)), expected)


@pytest.mark.parametrize(("size", "std"), [(0, 1.6), (10, 1.6), (11, 0.0), (11, -1.0)])
def test_bad_sizes_and_deviations_are_refused(size: int, std: float) -> None:
    with pytest.raises(ProcessParameterInvalid, match="try"):
        gaussian_kernel(size, std)
