"""The embedded offline Sentinel-2 sample's cache and generator: the cache folder, one
generation at a time, partial results replaced, determinism, the COG writer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.features

from hybrid.errors import UsageError
from hybrid.sample import (
    SEED_AOI,
    SEED_END,
    SEED_START,
    cog_problems,
    default_cache_dir,
    ensure_sample,
    generate_sample,
    write_cog,
)
from hybrid.sample.cache import MARKER, ensure_generated

REPO = Path(__file__).resolve().parents[2]


# a pid above any Linux pid_max: such a process cannot exist
DEAD_PID = 2**22 + 5


def test_seed_constants_match_data_file() -> None:
    aoi = json.loads((REPO / "data" / "aoi.geojson").read_text(encoding="utf-8"))
    assert aoi["features"][0]["geometry"] == SEED_AOI
    assert (SEED_START, SEED_END) == ("2023-05-01", "2023-09-30")


def test_default_cache_dir_reads_environment_at_call_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HYBRID_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("HYBRID_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "hybrid"


def test_the_default_sample_has_a_folder_per_generator_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Another generator never replaces (under a reader) the sample of this one."""
    from hybrid.sample import cache

    monkeypatch.setenv("HYBRID_CACHE_DIR", str(tmp_path))
    mine = cache.default_sample_dir()
    assert mine == tmp_path / f"sample-v1-{cache.generator_fingerprint()}"
    monkeypatch.setattr(cache, "generator_fingerprint", lambda: "0123456789abcdef")
    assert cache.default_sample_dir() == tmp_path / "sample-v1-0123456789abcdef" != mine


def test_ensure_sample_is_idempotent(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = sample.parent
    assert (root / MARKER).is_file()
    before = sample.stat().st_mtime_ns

    def regenerate(*_args: Any, **_kwargs: Any) -> Path:
        raise AssertionError("a complete sample was generated again")

    monkeypatch.setattr("hybrid.sample.generate.generate_sample", regenerate)
    assert ensure_sample(root) == sample
    assert sample.stat().st_mtime_ns == before
    assert not [p for p in root.parent.iterdir() if ".tmp-" in p.name]


def test_ensure_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="not a hybrid sample"):
        ensure_sample(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_ensure_generated_replaces_a_partial_result(tmp_path: Path) -> None:
    root = tmp_path / "small"
    # a crashed earlier run: a half-written sample without marker, and a stale temp dir
    (root / "S2A_32TLR_20230503_0_L2A").mkdir(parents=True)
    (root / "S2A_32TLR_20230503_0_L2A" / "B02.tif").write_bytes(b"II*\x00trunc")
    (root / "collection.json").write_text('{"type": "Coll', encoding="utf-8")
    stale = tmp_path / f".small.tmp-{DEAD_PID}-abcd1234"
    (stale / "junk").mkdir(parents=True)
    alive = tmp_path / f".small.tmp-{os.getpid()}-efgh5678"
    alive.mkdir()
    calls = []

    def small(tmp: Path) -> Path:
        calls.append(tmp)
        return generate_sample(tmp, n_dates=1, margin_m=100.0)

    out = ensure_generated(root, generate=small, marker_text="test\n")
    assert out.is_file() and (root / MARKER).read_text(encoding="utf-8") == "test\n"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [
        "S2B_31TGL_20230428_0_L2A",
        "S2B_32TLR_20230428_0_L2A",
    ]
    assert ensure_generated(root, generate=small, marker_text="test\n") == out
    assert len(calls) == 1
    assert not calls[0].exists()
    assert not stale.exists(), "temp dir of a dead process must be removed"
    assert alive.exists(), "temp dir of a live process must be left alone"


@pytest.mark.slow
def test_generation_is_deterministic(tmp_path: Path) -> None:
    a = generate_sample(tmp_path / "a", seed=0, n_dates=3, margin_m=200.0)
    b = generate_sample(tmp_path / "b", seed=0, n_dates=3, margin_m=200.0)
    c = generate_sample(tmp_path / "c", seed=1, n_dates=3, margin_m=200.0)
    files_a = sorted(p.relative_to(a.parent) for p in a.parent.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b.parent) for p in b.parent.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 10
    differs = False
    for rel in files_a:
        if rel.suffix == ".json":
            assert (a.parent / rel).read_bytes() == (b.parent / rel).read_bytes(), rel
        elif rel.suffix == ".tif":
            with rasterio.open(a.parent / rel) as x, rasterio.open(b.parent / rel) as y:
                assert np.array_equal(x.read(), y.read()), rel
            if (c.parent / rel).exists():
                with rasterio.open(a.parent / rel) as x, rasterio.open(c.parent / rel) as z:
                    differs |= not np.array_equal(x.read(), z.read())
    assert differs, "another seed must give other pixels"


def test_generate_rejects_bad_knobs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="n_dates"):
        generate_sample(tmp_path, n_dates=0)
    with pytest.raises(UsageError, match="margin_m"):
        generate_sample(tmp_path, margin_m=-1.0)


def test_write_cog_helper(tmp_path: Path) -> None:
    from affine import Affine

    data = np.arange(3 * 40 * 30, dtype=np.uint16).reshape(3, 40, 30) + 1
    path = write_cog(
        tmp_path / "x.tif",
        data,
        transform=Affine(10, 0, 300000, 0, -10, 5100000),
        crs="EPSG:32632",
        nodata=0,
    )
    assert cog_problems(path) == []
    with rasterio.open(path) as ds:
        assert np.array_equal(ds.read(), data)
        assert ds.crs.to_epsg() == 32632 and ds.nodata == 0
    origin = Affine(10, 0, 300000, 0, -10, 5100000)
    tiny = write_cog(tmp_path / "tiny.tif", data[:1, :1, :1], transform=origin, crs=32632,
                     nodata=None)  # fmt: skip
    assert cog_problems(tiny) == []
    plain = tmp_path / "plain.tif"
    big = np.ones((600, 700), dtype=np.uint16)
    with rasterio.open(
        plain, "w", driver="GTiff", width=700, height=600, count=1, dtype="uint16",
        crs="EPSG:32632", transform=origin,
    ) as ds:  # fmt: skip
        ds.write(big, 1)
    problems = cog_problems(plain)
    assert any("not tiled" in p for p in problems) and any("overviews" in p for p in problems)


def test_package_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hybrid.sample; "
        "print(int(any(m in sys.modules for m in ('rasterio', 'scipy', 'pyproj'))))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "0"
