"""Progress output: silent unless stderr is a terminal (or it is forced), then visible."""

from __future__ import annotations

import fcntl
import io
import os
import select
import struct
import termios
import time
from collections.abc import Iterator
from typing import Any

import dask.array as da
import numpy as np
import pytest

from hybrid.backends.local import LocalSettings
from hybrid.backends.local.compute import compute
from hybrid.progress import (
    DaskProgress,
    StatusLine,
    bar,
    distributed_progress,
    job_status_text,
    progress_enabled,
    step,
)


@pytest.fixture
def terminal() -> Iterator[tuple[Any, int]]:
    """A real pseudo-terminal, 100x30: (writable text stream on its slave side, master fd)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    stream = os.fdopen(slave, "w", buffering=1)
    try:
        yield stream, master
    finally:
        stream.close()
        os.close(master)


def _read(master: int) -> str:
    """What was written to the terminal so far (never blocks)."""
    chunks = []
    while select.select([master], [], [], 0.2)[0]:
        chunks.append(os.read(master, 65536))
    return b"".join(chunks).decode(errors="replace")


def _lazy_sum() -> Any:
    return (da.ones((64, 64), chunks=16) * 2).sum()


def test_enabled_only_on_a_terminal_and_not_quiet(terminal: tuple[Any, int]) -> None:
    stream, _master = terminal
    assert progress_enabled(file=stream)
    assert not progress_enabled(quiet=True, file=stream)
    assert not progress_enabled(file=io.StringIO())


def test_default_stream_is_quiet_when_captured(capsys: pytest.CaptureFixture[str]) -> None:
    # under capsys stderr is not a terminal: nothing may be written
    assert not progress_enabled()
    with DaskProgress(enabled=progress_enabled()):
        assert int(_lazy_sum().compute()) == 64 * 64 * 2
    with step("searching", enabled=progress_enabled()):
        pass
    with bar(10, desc="download", enabled=progress_enabled(), unit="B") as b:
        b.update(10)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_local_compute_is_quiet_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    value = compute(_lazy_sum(), LocalSettings(progress=False, scheduler="synchronous"))
    assert int(value) == 8192
    assert capsys.readouterr().err == ""
    value = compute(_lazy_sum(), LocalSettings(progress=True, scheduler="threads"))
    assert int(value) == 8192
    err = capsys.readouterr().err
    assert "hybrid: compute:" in err and "|" in err


def test_dask_bar_counts_every_task() -> None:
    buffer = io.StringIO()
    array = _lazy_sum()
    with DaskProgress(desc="compute", enabled=True, file=buffer) as progress:
        array.compute(scheduler="threads")
    assert progress.tasks_done >= 16  # at least one task per chunk
    text = buffer.getvalue()
    assert "hybrid: compute" in text
    assert f"0/{progress.tasks_done} " in text  # the bar's total is every task


def test_dask_bar_on_a_terminal(terminal: tuple[Any, int]) -> None:
    stream, master = terminal
    with DaskProgress(enabled=progress_enabled(file=stream), file=stream):
        _lazy_sum().compute(scheduler="synchronous")
    assert "hybrid: compute" in _read(master)


def test_distributed_bar() -> None:
    distributed = pytest.importorskip("distributed")
    buffer = io.StringIO()
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        future = client.compute(_lazy_sum())
        distributed_progress(future, enabled=True, file=buffer)
        assert future.done()
        assert int(future.result()) == 8192
        quiet = io.StringIO()
        distributed_progress(client.compute(_lazy_sum()), enabled=False, file=quiet)
    assert "hybrid: compute" in buffer.getvalue()
    assert quiet.getvalue() == ""


def test_step_reports_done_and_failed() -> None:
    buffer = io.StringIO()
    with step("searching the STAC catalog", enabled=True, file=buffer):
        pass
    with pytest.raises(ValueError), step("loading", enabled=True, file=buffer):
        raise ValueError("boom")
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "hybrid: searching the STAC catalog ..."
    assert lines[1].startswith("hybrid: searching the STAC catalog done (")
    assert lines[3].startswith("hybrid: loading failed (")


def test_status_line_rewrites_on_a_terminal(terminal: tuple[Any, int]) -> None:
    stream, master = terminal
    with StatusLine(enabled=True, file=stream) as line:
        line.update(job_status_text("j-1", "queued", 5))
        line.update(job_status_text("j-1", "running", 65))
    text = _read(master)
    assert "\rhybrid: job j-1 queued (0:05)" in text
    assert "\rhybrid: job j-1 running (1:05)" in text


def test_status_line_in_a_log_prints_changes_only() -> None:
    buffer = io.StringIO()
    line = StatusLine(enabled=True, file=buffer)
    for status in ("queued", "queued", "running", "running", "finished"):
        line.update(f"job j-2 {status}")
    line.close()
    assert buffer.getvalue().splitlines() == [
        "hybrid: job j-2 queued",
        "hybrid: job j-2 running",
        "hybrid: job j-2 finished",
    ]
    quiet = io.StringIO()
    StatusLine(enabled=False, file=quiet).update("job j-3 queued")
    assert quiet.getvalue() == ""


def test_download_bar_in_bytes() -> None:
    buffer = io.StringIO()
    with bar(3 * 1024 * 1024, desc="download openEO.nc", enabled=True, unit="B", file=buffer) as b:
        for _ in range(3):
            b.update(1024 * 1024)
    text = buffer.getvalue()
    assert "hybrid: download openEO.nc" in text and "3.00M" in text


def test_bar_without_total_counts() -> None:
    buffer = io.StringIO()
    with bar(None, desc="cache", enabled=True, file=buffer) as b:
        b.update(3)
        time.sleep(0.25)  # past the bar's minimum refresh interval
        b.update(2)
    assert "hybrid: cache: 5 it" in buffer.getvalue()
    assert np.isfinite(b.n) and b.n == 5


NOTEBOOK_CELL = """
import dask.array as da
from hybrid.progress import DaskProgress, bar, in_notebook, progress_enabled
print("notebook:", in_notebook(), "enabled:", progress_enabled())
with bar(3, desc="steps", enabled=progress_enabled()) as steps:
    for _ in range(3):
        steps.update(1)
with DaskProgress(enabled=progress_enabled()):
    print("sum:", int((da.ones((64, 64), chunks=16) * 2).sum().compute()))
"""


@pytest.mark.slow  # a Jupyter kernel starts: ~10-30 s
def test_a_notebook_gets_widget_bars_through_tqdm_auto() -> None:
    """A real Jupyter kernel (nbclient) runs the progress helpers: they detect the notebook,
    turn on although stderr is no terminal, and draw ipywidgets bars, not text."""
    pytest.importorskip("ipywidgets")
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK_CELL)])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "notebook: True enabled: True" in text and "sum: 8192" in text
    widget = "application/vnd.jupyter.widget-view+json"
    widgets = [o for o in outputs if widget in o.get("data", {})]
    assert len(widgets) == 2  # the bar and the dask bar, as widgets
    assert "|" not in "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
