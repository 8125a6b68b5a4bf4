"""What a figure shows, as one sha256: the data it plots, not the pixels it renders.

:func:`figure_digest` hashes, panel by panel, every image's array and extent, every
line's, collection's and patch's data coordinates, and the titles, axis labels and
texts our code sets - never tick labels or anything matplotlib lays out itself. Values
are rounded to :data:`DECIMALS` decimals, so the digest survives another matplotlib,
freetype or BLAS, but changes when the data, the selection of scenes or a title does.

:func:`hybrid.figures.save_png` stores the digest in each PNG's text chunk
(:data:`DIGEST_KEY`); ``docs/make_figures.sh`` collects those of the README figures into
``docs/figures/digests.json`` (:func:`write_digests`), and a test redraws the figures and
compares the two.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: PNG text key that holds the digest
DIGEST_KEY = "hybrid:data-sha256"
#: decimals kept before hashing (NDVI, reflectance 0..1, metres, days since 1970)
DECIMALS = 4
#: the JSON ``docs/make_figures.sh`` writes beside the figures
DIGESTS_NAME = "digests.json"


def _add_array(digest: Any, values: Any) -> None:
    import numpy as np

    masked: Any = np.ma.masked_invalid(np.ma.asarray(values, dtype="float64"))
    data = np.round(masked.filled(np.nan), DECIMALS) + 0.0  # + 0.0: -0.0 becomes 0.0
    data = np.where(np.isnan(data), np.nan, data)  # one NaN bit pattern
    digest.update(repr(data.shape).encode())
    digest.update(np.ascontiguousarray(data).tobytes())


def _add_text(digest: Any, text: str) -> None:
    digest.update(text.encode() + b"\0")


def _add_axes(digest: Any, ax: Axes) -> None:
    for loc in ("left", "center", "right"):
        _add_text(digest, ax.get_title(loc=loc))
    _add_text(digest, ax.get_xlabel())
    _add_text(digest, ax.get_ylabel())
    for image in ax.get_images():
        _add_array(digest, image.get_array())
        _add_array(digest, image.get_extent())
    for line in ax.get_lines():
        _add_array(digest, line.get_xydata())
    for collection in ax.collections:
        array = collection.get_array()
        if array is not None:
            _add_array(digest, array)
        _add_array(digest, collection.get_offsets())
        for path in collection.get_paths():
            _add_array(digest, path.vertices)
    for patch in ax.patches:
        _add_array(digest, patch.get_patch_transform().transform(patch.get_path().vertices))
    for text in ax.texts:
        _add_text(digest, text.get_text())
    legend = ax.get_legend()
    if legend is not None:
        for entry in legend.get_texts():
            _add_text(digest, entry.get_text())


def figure_digest(fig: Figure) -> str:
    """sha256 (hex) of the data ``fig`` plots, panel by panel, and its texts.

    >>> from hybrid.figures import new_figure
    >>> fig = new_figure((3, 2))
    >>> _ = fig.subplots().plot([0, 1], [0.5, 0.7])
    >>> figure_digest(fig) == figure_digest(fig)
    True
    """
    digest = hashlib.sha256()
    _add_text(digest, fig.get_suptitle())
    for ax in fig.axes:
        if ax.get_visible():
            _add_axes(digest, ax)
    for text in fig.texts:
        _add_text(digest, text.get_text())
    for legend in fig.legends:
        for entry in legend.get_texts():
            _add_text(digest, entry.get_text())
    return digest.hexdigest()


def read_digest(png: str | Path) -> str | None:
    """The digest :func:`hybrid.figures.save_png` stored in ``png`` (None: none)."""
    from PIL import Image

    with Image.open(png) as image:
        value = image.info.get(DIGEST_KEY)
    return None if value is None else str(value)


def write_digests(folder: str | Path) -> Path:
    """``folder/digests.json``: {PNG name: digest} of every PNG in ``folder``."""
    root = Path(folder)
    digests = {png.name: read_digest(png) for png in sorted(root.glob("*.png"))}
    target = root / DIGESTS_NAME
    target.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
    return target


if __name__ == "__main__":  # pragma: no cover - ``python -m hybrid.figure_digest DIR``
    import sys

    print(f"digests: {write_digests(sys.argv[1])}")
