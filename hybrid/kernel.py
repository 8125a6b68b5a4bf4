"""The Gaussian dilation kernel of the cloud mask."""

from __future__ import annotations

from hybrid.errors import ProcessParameterInvalid


def gaussian_kernel(size: int = 11, std: float = 1.6) -> list[list[float]]:
    """A normalised ``size`` x ``size`` Gaussian: outer product of
    ``scipy.signal.windows.gaussian(size, std)`` with itself, divided by its sum.

    The window is computed here with scipy's formula (``exp(-n**2 / (2 std**2))`` for
    ``n`` = -(size-1)/2 .. (size-1)/2, float64), bit for bit, because importing
    scipy.signal (it pulls in scipy.stats) costs about half a second per process."""
    import numpy as np

    if size < 1 or size % 2 == 0:
        raise ProcessParameterInvalid(
            f"kernel size must be a positive odd number (got {size}); try 11"
        )
    if not std > 0:
        raise ProcessParameterInvalid(f"kernel std must be positive (got {std}); try 1.6")
    n = np.arange(0, size, dtype=np.float64) - (size - 1.0) / 2.0
    g = np.exp(-(n**2) / (2 * std * std))
    k = np.outer(g, g)
    k /= k.sum()
    return [[float(v) for v in row] for row in k]
