"""The bound on a UDF worker's threads where no pids cgroup can be made
(``hybrid.backends.local.udf.task_limit``): uid 0, which RLIMIT_NPROC does not bind, is
then bounded by the server's count of the worker's threads; another user by
RLIMIT_NPROC. Runs a real worker (a thread bomb with a hard cap): slow."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import xarray as xr

from hybrid.errors import UdfError

pytestmark = pytest.mark.slow

#: threads the bomb tries at the most, whatever the bound does (well under pid_max)
CAP = 2000
LIMIT = 64
BOMB = f"""
import json, threading, time, xarray

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    threading.stack_size(64 * 1024)
    stop, out = threading.Event(), {{"started": 0, "error": None}}
    try:
        for _ in range({CAP}):
            threading.Thread(target=stop.wait, daemon=True).start()
            out["started"] += 1
    except RuntimeError as exc:
        out["error"] = str(exc)
    time.sleep(3)  # a bomb keeps its threads
    stop.set()
    raise RuntimeError("OUTCOMES " + json.dumps(out))
"""


def test_without_a_pids_cgroup_a_thread_bomb_is_still_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No writable pids hierarchy (as in a container with a read-only /sys/fs/cgroup):
    the bomb started all its threads for uid 0; now the server stops the worker past
    ``tasks`` threads, or (another user) the kernel refuses them by RLIMIT_NPROC."""
    from hybrid.backends.local.udf import task_limit
    from hybrid.backends.local.udf.isolated import UdfSettings, run_udf_chunks

    monkeypatch.setattr(task_limit, "_pids_parent", lambda: None)
    cube = xr.DataArray(np.zeros((1, 1, 2, 2), dtype=np.float32), dims=("t", "bands", "y", "x"))
    settings = UdfSettings(timeout=60.0, tasks=LIMIT, nice=0)
    with pytest.raises(UdfError) as info:
        run_udf_chunks(BOMB, [cube], context={}, settings=settings, process="apply")
    message = str(info.value)
    if os.geteuid() == 0:
        assert f"ran more than the limit of {LIMIT} threads" in message, message
    else:
        outcome = json.JSONDecoder().raw_decode(message.split("OUTCOMES ", 1)[1])[0]
        assert outcome == {"started": outcome["started"], "error": "can't start new thread"}
        assert outcome["started"] < LIMIT


def test_thread_count_of_a_live_and_an_ended_process() -> None:
    from hybrid.backends.local.udf.task_limit import thread_count

    assert thread_count(os.getpid()) >= 1
    assert thread_count(2**22 + 1) == 0  # above any pid_max: no such process
