"""A load on the files' block lattice (chunks of whole COG blocks, coarse bands read by
repetition) gives the same cube, pixel for pixel, as odc-stac's warped load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from benchmarks.scenes import SceneSpec, ensure_scene

    spec = SceneSpec(2, 1300)
    return ensure_scene(tmp_path_factory.mktemp("scenes"), spec), spec


def _load(catalog: Path, spec: Any) -> Any:
    from benchmarks.scenes import EPSG
    from hybrid.backends.local.loader import LoadRequest, load_s2
    from hybrid.grid import BBox

    west, south, east, north = spec.aoi_bounds()
    request = LoadRequest(
        BBox(west, south, east, north, crs=f"EPSG:{EPSG}"), spec.start, spec.end,
        ("B04", "B08", "SCL"), None, buffer=6, epsg=EPSG,
    )  # fmt: skip
    return load_s2(str(catalog), request).cube


def test_a_block_aligned_load_equals_the_warped_load(scene, monkeypatch) -> None:
    from hybrid.backends.local import aligned_reads, loader

    catalog, spec = scene
    monkeypatch.setattr(loader, "TARGET_CHUNK", 512)  # several chunks
    used: list[Any] = []
    real = aligned_reads.block_aligned

    def recording(*args: Any, **kwargs: Any) -> Any:
        used.append(real(*args, **kwargs))
        return used[-1]

    monkeypatch.setattr(aligned_reads, "block_aligned", recording)
    aligned = _load(catalog, spec)
    assert used and used[0] is not None and used[0].pad != (0, 0)
    assert len(aligned.chunks[2]) > 1 and min(aligned.chunks[2]) >= 256
    monkeypatch.setattr(aligned_reads, "block_aligned", lambda *a, **k: None)
    monkeypatch.setattr(aligned_reads, "repeatable_keys", lambda *a, **k: {})
    warped = _load(catalog, spec)
    assert aligned.shape == warped.shape
    np.testing.assert_array_equal(aligned.values, warped.values)
    np.testing.assert_array_equal(aligned["x"].values, warped["x"].values)
    np.testing.assert_array_equal(aligned["y"].values, warped["y"].values)
