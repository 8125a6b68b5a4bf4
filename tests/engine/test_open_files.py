"""A load's files stay open per thread while its graph lives: the same values as a file
opened per read, one open per file and thread, a bounded number open, closed with the
object, an empty copy in another process, GDAL's block cache bounded."""

from __future__ import annotations

import gc
import os
import pickle
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from affine import Affine
from rasterio.windows import Window

from hybrid.backends.local import open_files
from hybrid.backends.local.open_files import OpenFiles


def _tif(path: Path, seed: int) -> np.ndarray:
    import rasterio

    data = np.random.default_rng(seed).integers(0, 5000, (64, 64), dtype=np.uint16)
    with rasterio.open(
        path, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint16",
        tiled=True, blockxsize=16, blockysize=16, compress="deflate", crs="EPSG:32632",
        transform=Affine(10, 0, 400000, 0, -10, 5000000),
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return data


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths open_local opened, in order."""
    seen: list[str] = []
    real = open_files.open_local

    def counting(path: str) -> Any:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(open_files, "open_local", counting)
    return seen


def test_reads_equal_the_file_and_open_it_once_per_thread(tmp_path: Path, opens: list[str]) -> None:
    data = _tif(tmp_path / "a.tif", 1)
    files = OpenFiles()
    path = str(tmp_path / "a.tif")
    for row in range(0, 64, 16):
        got = files.read(path, Window(8, row, 24, 16))
        np.testing.assert_array_equal(got, data[row : row + 16, 8:32])
    assert opens == [path]
    worker = threading.Thread(target=files.read, args=(path, Window(0, 0, 4, 4)))
    worker.start()
    worker.join()
    assert opens == [path, path]  # another thread gets a dataset of its own


def test_at_most_max_open_per_thread_least_recent_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opens: list[str]
) -> None:
    monkeypatch.setattr(open_files, "MAX_OPEN", 2)
    paths = [str(tmp_path / f"{i}.tif") for i in range(3)]
    for i, path in enumerate(paths):
        _tif(Path(path), i)
    files = OpenFiles()
    for path in [paths[0], paths[1], paths[0], paths[2], paths[0]]:
        files.read(path, Window(0, 0, 2, 2))
    assert opens == [paths[0], paths[1], paths[2]]  # paths[1] was the one closed
    files.read(paths[1], Window(0, 0, 2, 2))
    assert opens[-1] == paths[1]


def test_closed_when_the_object_goes(tmp_path: Path) -> None:
    _tif(tmp_path / "a.tif", 2)
    files = OpenFiles()
    files.read(str(tmp_path / "a.tif"), Window(0, 0, 2, 2))
    ((dataset, _),) = files._by_thread[threading.get_ident()].values()
    assert not dataset.closed
    del files
    gc.collect()
    assert dataset.closed


def test_a_copy_elsewhere_starts_empty_and_reads(tmp_path: Path) -> None:
    data = _tif(tmp_path / "a.tif", 3)
    files = OpenFiles()
    files.read(str(tmp_path / "a.tif"), Window(0, 0, 2, 2))
    copy = pickle.loads(pickle.dumps(files))
    assert copy._by_thread == {}
    np.testing.assert_array_equal(copy.read(str(tmp_path / "a.tif"), Window(0, 0, 64, 64)), data)


@pytest.mark.skipif("GDAL_CACHEMAX" in os.environ, reason="GDAL_CACHEMAX set: left as it is")
def test_gdal_block_cache_is_bounded(tmp_path: Path) -> None:
    from rasterio.env import get_gdal_config

    _tif(tmp_path / "a.tif", 4)
    OpenFiles().read(str(tmp_path / "a.tif"), Window(0, 0, 2, 2))
    assert get_gdal_config("GDAL_CACHEMAX") <= open_files.BLOCK_CACHE_BYTES
