"""``hybrid run --max-aoi-cloud N --plots DIR`` searches the STAC source once, reads each
scene's COGs once and opens the finished result once (issue 12).

The counters wrap the libraries, not our code: ``pystac.read_file`` (a static catalog
search starts by reading the collection file), odc-stac's COG reader
``odc.loader._rio.rio_read`` (one call per COG, band and chunk read) and
``xarray.open_dataset``. Before the scene table, the engine and the quicklooks shared
their reads, each COG was read three times and the catalog searched twice.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hybrid.cli import main

#: a short window keeps the run small: two months of the sample
WINDOW = ["--start", "2023-06-01", "--end", "2023-08-01"]


class Counts:
    """Calls per path, from any thread (dask reads COGs in worker threads)."""

    def __init__(self) -> None:
        self.searches: collections.Counter[str] = collections.Counter()
        self.reads: collections.Counter[str] = collections.Counter()
        self.opens: collections.Counter[str] = collections.Counter()
        #: loads read into memory to be shared (hybrid.backends.local.shared_loads)
        self.kept = 0
        self._lock = threading.Lock()

    def add(self, counter: collections.Counter[str], key: Any) -> None:
        with self._lock:
            counter[str(key)] += 1


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch, sample_catalog: Path) -> Iterator[Counts]:
    import odc.loader._rio as rio
    import pystac
    import xarray

    from hybrid.backends.local import loader

    found = Counts()
    read_file, rio_read, open_dataset = pystac.read_file, rio.rio_read, xarray.open_dataset
    read_dict, kept_cube = pystac.read_dict, loader._kept_cube

    def counting_read_file(href: Any, *args: Any, **kwargs: Any) -> Any:
        found.add(found.searches, href)
        return read_file(href, *args, **kwargs)

    def counting_read_dict(document: Any, *args: Any, **kwargs: Any) -> Any:
        found.add(found.searches, kwargs.get("href"))  # a catalog file read as JSON first
        return read_dict(document, *args, **kwargs)

    def counting_rio_read(src: Any, *args: Any, **kwargs: Any) -> Any:
        found.add(found.reads, src.uri)
        return rio_read(src, *args, **kwargs)

    def counting_open_dataset(path: Any, *args: Any, **kwargs: Any) -> Any:
        found.add(found.opens, Path(path).resolve())
        return open_dataset(path, *args, **kwargs)

    def counting_kept_cube(*args: Any, **kwargs: Any) -> Any:
        found.kept += 1
        return kept_cube(*args, **kwargs)

    monkeypatch.setattr(pystac, "read_file", counting_read_file)
    monkeypatch.setattr(pystac, "read_dict", counting_read_dict)
    monkeypatch.setattr(loader, "_kept_cube", counting_kept_cube)
    monkeypatch.setattr(rio, "rio_read", counting_rio_read)
    monkeypatch.setattr(xarray, "open_dataset", counting_open_dataset)
    yield found


@pytest.mark.slow
def test_run_with_max_aoi_cloud_and_plots_reads_everything_once(
    counts: Counts, sample_catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ndvi.nc"
    args = ["run", "--stac", str(sample_catalog), *WINDOW, "--max-aoi-cloud", "30"]
    args += ["--plots", str(tmp_path / "plots"), "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert (tmp_path / "plots" / "quicklooks.png").is_file()
    assert list(counts.searches.values()) == [1], counts.searches
    assert counts.reads, "no COG was read: the counter is not where the loader reads"
    # the sample's scenes fit one chunk: one read per COG and band
    assert set(counts.reads.values()) == {1}, counts.reads.most_common(3)
    assert {Path(p).name for p in counts.reads} >= {"SCL.tif", "B02.tif", "B08.tif"}
    assert counts.opens[str(out.resolve())] == 1, counts.opens
    assert counts.kept == 1  # the scene table's read, kept for the engine and the plots


@pytest.mark.slow
def test_a_run_with_one_reader_streams_its_load(
    counts: Counts, sample_catalog: Path, tmp_path: Path
) -> None:
    """Without the AOI-cloud table and the plots the engine is the only reader: its load
    is not read into memory first (that cost 1.5x the time and 4x the peak memory)."""
    out = tmp_path / "ndvi.nc"
    args = ["run", "--stac", str(sample_catalog), *WINDOW, "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert counts.reads, "no COG was read: the counter is not where the loader reads"
    assert counts.kept == 0


@pytest.mark.slow
def test_run_on_a_remote_backend_reads_only_what_the_table_and_plots_need(
    counts: Counts, sample_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine runs in another process (the emulator); this one searches once and
    reads each COG once, for the AOI-cloud table and the quicklooks together."""
    from tests.server_helpers import ServeProcess

    for var in ("OPENEO_CONFIG_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        (tmp_path / var).mkdir()
        monkeypatch.setenv(var, str(tmp_path / var))
    monkeypatch.setenv("OPENEO_AUTH_METHOD", "client_credentials")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_ID", "hybrid-ci")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_SECRET", "hybrid-ci-secret")
    out = tmp_path / "ndvi.nc"
    with ServeProcess(data_dir=tmp_path / "serve", stac=sample_catalog) as server:
        args = ["run", "--backend", server.url, "--stac", str(sample_catalog), *WINDOW]
        args += ["--max-aoi-cloud", "30", "--plots", str(tmp_path / "plots")]
        args += ["--poll-interval", "0.2"]  # the emulator's job takes seconds
        assert main([*args, "--out", str(out), "--quiet"]) == 0
    assert list(counts.searches.values()) == [1], counts.searches
    assert set(counts.reads.values()) == {1}, counts.reads.most_common(3)
    # the engine's bands that neither the table nor the quicklooks need stay unread here
    assert "B08.tif" not in {Path(p).name for p in counts.reads}
    assert counts.opens[str(out.resolve())] == 1, counts.opens
