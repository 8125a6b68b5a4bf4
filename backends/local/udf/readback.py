"""What a UDF worker leaves the server, read with bounds (the server side).

The UDF may write any file of its exchange folder itself, up to the disk limit (2 GiB,
sparse files taking no space at all): whatever it left there, the server reads no more
than a bound of it, and what it cannot read (a UDF that ended its process with
``os._exit(0)`` or wrote over the exchange files) is the UDF's error, not the server's
(:func:`worker_output`). Copernicus runs a UDF in its executor's own Python process
(geopyspark-driver 9baf2e10 ``openeogeotrellis/udf/__init__.py`` ``run_udf_code`` L40),
so it reads nothing back: these bounds are the emulator's own.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hybrid.backends.local.udf.worker import MAX_SUMMARY_CHARS
from hybrid.errors import UdfError

#: the most the server reads of the worker's error file (a JSON summary)
ERROR_BYTES = 8 * MAX_SUMMARY_CHARS
#: how many float64 values of its chunk's size a UDF's result may hold (more bands,
#: dates or a finer grid than it was given), and the least it may always hold, bytes
RESULT_FACTOR = 32
RESULT_FLOOR = 256 * 1024**2
#: the least a JSON result (a run_udf table or features answer) may always hold, bytes;
#: beyond it, at most RESULT_FACTOR times the JSON the worker was given
JSON_FLOOR = 64 * 1024**2


@contextlib.contextmanager
def worker_output(folder: Path, process: str) -> Iterator[None]:
    """Reading what the worker left in ``folder``: missing or garbled, a UdfError."""
    try:
        yield
    except (
        OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, MemoryError
    ) as exc:  # fmt: skip
        detail = str(exc).replace(f"{folder}{os.sep}", "")[:300]
        hint = ": did the UDF end its process (os._exit)?" if isinstance(exc, OSError) else ""
        raise UdfError(
            f"The UDF worker of '{process}' left no readable result "
            f"({type(exc).__name__}: {detail}){hint}"
        ) from None


def chunk_result(folder: Path, chunk_id: str, chunk: Any, process: str) -> Any:
    """The UDF's result for ``chunk``, read only when it holds at most
    :data:`RESULT_FACTOR` times the chunk in float64 (at least :data:`RESULT_FLOOR`
    bytes): the rest of the disk limit is no reason for the server to take that memory."""
    from hybrid.backends.local.udf.exchange import TooLarge, read_chunk

    bound = max(RESULT_FLOOR, RESULT_FACTOR * 8 * int(chunk.size))
    try:
        return read_chunk(folder, f"out-{chunk_id}", max_bytes=bound)
    except TooLarge as exc:
        raise UdfError(
            f"The UDF of '{process}' returned {exc} for a chunk of {dict(chunk.sizes)}: more than "
            f"the {bound / 1024**2:g} MiB the server reads back ({RESULT_FACTOR} times the "
            f"chunk in float64, at least {RESULT_FLOOR / 1024**2:g} MiB)"
        ) from None


def json_result(path: Path, given_bytes: int, process: str) -> Any:
    """The JSON value the worker wrote to ``path`` (a table or features answer), read only
    when it holds at most :data:`RESULT_FACTOR` times the ``given_bytes`` of JSON the
    worker was given (at least :data:`JSON_FLOOR`): a UDF writing the file itself made
    the server read all of it (a sparse 600 MB file took no disk and 600 MB of memory)."""
    bound = max(JSON_FLOOR, RESULT_FACTOR * given_bytes)
    with worker_output(path.parent, process), path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        text = file.read(bound + 1) if size <= bound else b""
    if size > bound or len(text) > bound:
        raise UdfError(
            f"The UDF of '{process}' returned {size / 1024**2:.1f} MiB of JSON: more than the "
            f"{bound / 1024**2:g} MiB the server reads back ({RESULT_FACTOR} times its input, "
            f"at least {JSON_FLOOR / 1024**2:g} MiB)"
        )
    with worker_output(path.parent, process):
        return json.loads(text.decode("utf-8"))


def error_summary(path: Path, process: str) -> str:
    """The summary of the UDF's error the worker wrote to ``path``, at most
    :data:`ERROR_BYTES` of it read (a 300 MB error was the job's error and 300 MB of the
    server's memory)."""
    with worker_output(path.parent, process):
        return str(json.loads(head(path, ERROR_BYTES)).get("summary", ""))


def head(path: Path, size: int) -> str:
    """The first ``size`` bytes of ``path`` as text: whatever the UDF wrote there, the
    server reads no more."""
    with path.open("rb") as file:
        return file.read(size).decode("utf-8", errors="replace")


def tail(path: Path, size: int) -> str:
    """The last ``size`` bytes of ``path`` as text (the whole 1.5 GB of a UDF's output
    was read into the server's memory for its last lines)."""
    with path.open("rb") as file:
        file.seek(max(0, file.seek(0, os.SEEK_END) - size))
        return file.read().decode("utf-8", errors="replace")
