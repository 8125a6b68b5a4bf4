"""The README figures are what ``docs/make_figures.sh`` draws from the current code.

The comparison is by the digest of the data each figure plots
(:mod:`hybrid.figure_digest`), not by PNG bytes, so another matplotlib or freetype does
not make the figures "stale", but another scene selection, cloud mask, NDVI or title does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hybrid.figure_digest import DIGESTS_NAME, figure_digest, read_digest
from hybrid.figures import new_figure

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "figures"


def _committed() -> dict[str, str]:
    digests: dict[str, str] = json.loads((FIGURES / DIGESTS_NAME).read_text())
    return digests


def test_each_committed_figure_carries_the_digest_listed_beside_it():
    digests = _committed()
    assert sorted(digests) == sorted(p.name for p in FIGURES.glob("*.png"))
    assert {name: read_digest(FIGURES / name) for name in digests} == digests
    shown = re.findall(r"\(docs/figures/([\w.-]+\.png)\)", (ROOT / "README.md").read_text())
    assert shown and set(shown) <= set(digests)


def _figure(values: np.ndarray, title: str, size: tuple[float, float] = (3, 2)) -> str:
    fig = new_figure(size)
    ax = fig.subplots()
    ax.imshow(values, extent=(0, 40, 0, 30))
    ax.plot([0, 1, 2], values[0, :3])
    ax.set_title(title)
    return figure_digest(fig)


def test_the_digest_follows_the_data_and_titles_not_the_rendering():
    values = np.linspace(-0.2, 0.9, 12).reshape(3, 4)
    digest = _figure(values, "2023-05")
    assert _figure(values, "2023-05", size=(6, 5)) == digest  # layout is not data
    assert _figure(values + 1e-9, "2023-05") == digest  # below the rounding
    nudged = values.copy()
    nudged[2, 3] += 0.001  # one pixel the line does not show
    assert _figure(nudged, "2023-05") != digest
    assert _figure(values, "2023-06") != digest
    holed = values.copy()
    holed[1, 1] = np.nan
    assert _figure(holed, "2023-05") != digest


@pytest.mark.slow  # two workflow runs and every figure: a minute or more
def test_the_committed_figures_are_what_make_figures_draws_now(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        ["sh", str(ROOT / "docs" / "make_figures.sh"), str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    fresh = json.loads((tmp_path / DIGESTS_NAME).read_text())
    committed = _committed()
    stale = sorted(name for name in committed if fresh.get(name) != committed[name])
    assert sorted(fresh) == sorted(committed)
    assert stale == [], f"{stale} differ from what the code draws: run sh docs/make_figures.sh"
