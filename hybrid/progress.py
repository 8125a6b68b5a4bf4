"""Progress on stderr while users wait: STAC search, loading, computing, batch jobs, downloads.

Everything here is off unless asked for: :func:`progress_enabled` says yes only when
stderr is a terminal - or the code runs in a Jupyter kernel (:func:`in_notebook`) - and
the user did not pass ``--quiet``; every helper takes ``enabled`` (and an optional
``file``), so a caller can also force output, e.g. into a log or a test's buffer. Every
bar is made by :func:`bar`, through ``tqdm.auto``: a widget in a notebook (with
ipywidgets installed), text on a terminal.

- :class:`DaskProgress` - a ``dask.diagnostics.Callback`` driving a tqdm bar over the
  tasks of a local (threaded or synchronous) dask computation;
- :func:`distributed_progress` - the same bar for a future on a dask.distributed cluster;
- :func:`step` - "what is happening ... done (1.2 s)" for steps without a task count
  (a STAC search, a load);
- :func:`bar` - a plain tqdm bar (downloads in bytes, cache entries, scenes);
- :class:`StatusLine` - one line rewritten in place (batch-job status while polling).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

#: bar layout shared by every tqdm bar of hybrid
BAR_FORMAT = (
    "hybrid: {desc}: {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]"
)

#: layout when the total is unknown
COUNT_FORMAT = "hybrid: {desc}: {n_fmt} {unit} [{elapsed}, {rate_fmt}]"


#: the bar itself in a notebook widget's text: the widget draws the bar
NOTEBOOK_FORMAT = (
    "hybrid: {desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]"
)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (the test ``tqdm.auto`` makes: an IPython shell whose
    config has ``IPKernelApp``); IPython is never imported for the answer."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    try:
        shell = get_ipython() if get_ipython is not None else None
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # a half-initialised or foreign shell: not a notebook
        return False


def progress_enabled(*, quiet: bool = False, file: IO[str] | None = None) -> bool:
    """True when progress should be shown: not ``quiet``, and ``file`` (stderr) is a TTY
    or - for the default stream - the code runs in a notebook."""
    if quiet:
        return False
    if file is None and in_notebook():
        return True
    stream = file if file is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # closed stream
        return False


def _stream(file: IO[str] | None) -> IO[str]:
    return file if file is not None else sys.stderr


def bar(
    total: float | None,
    *,
    desc: str,
    enabled: bool,
    unit: str = "it",
    file: IO[str] | None = None,
) -> Any:
    """A tqdm bar on stderr (a silent one when not ``enabled``); use as a context manager.

    In a notebook (and no explicit ``file``) the bar comes from ``tqdm.auto``: a widget.
    For downloads pass ``unit="B"``: sizes are then shown as kB/MB.
    """
    notebook = file is None and in_notebook()
    import tqdm.auto

    factory = tqdm.auto.tqdm if notebook else tqdm.tqdm

    byte_units = unit == "B"
    layout = NOTEBOOK_FORMAT if notebook else BAR_FORMAT
    return factory(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=byte_units,
        unit_divisor=1024 if byte_units else 1000,
        disable=not enabled,
        file=_stream(file),
        leave=False,
        dynamic_ncols=True,
        bar_format=COUNT_FORMAT if total is None else layout,
        mininterval=0.2,
    )


class DaskProgress:
    """A tqdm bar over the tasks of a local dask computation.

    Use as a context manager around ``.compute()`` (threaded or synchronous scheduler);
    when ``enabled`` is false it does nothing at all.
    """

    def __init__(
        self, *, desc: str = "compute", enabled: bool = True, file: IO[str] | None = None
    ) -> None:
        self.desc = desc
        self.enabled = enabled
        self.file = file
        self.tasks_done = 0
        self._callback: Any = None
        self._bar: Any = None

    def __enter__(self) -> DaskProgress:
        if self.enabled:
            from dask.callbacks import Callback

            self._callback = Callback(start_state=self._start_state, posttask=self._posttask)
            self._callback.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._callback is not None:
            self._callback.__exit__(*exc)
            self._callback = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _start_state(self, dsk: Any, state: dict[str, Any]) -> None:
        total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished"))
        if self._bar is None:
            self._bar = bar(total, desc=self.desc, enabled=True, unit="task", file=self.file)
        else:  # a second compute inside the same block: extend the bar
            self._bar.total = (self._bar.total or 0) + total
            self._bar.refresh()

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        self.tasks_done += 1
        if self._bar is not None:
            self._bar.update(1)


def distributed_progress(
    futures: Any, *, desc: str = "compute", enabled: bool, file: IO[str] | None = None
) -> None:
    """Block until ``futures`` (dask.distributed) finish, with a bar on stderr if enabled.

    Unlike ``distributed.progress`` (which writes to stdout), the bar goes to stderr, so
    stdout stays clean for results. Errors of the futures surface at ``.result()``.
    """
    if not enabled:
        return
    from distributed.diagnostics.progressbar import TextProgressBar

    class _Bar(TextProgressBar):
        def __init__(self, keys: Any, **kwargs: Any) -> None:
            self._tqdm = bar(None, desc=desc, enabled=True, unit="task", file=file)
            super().__init__(keys, **kwargs)

        def _draw_bar(self, remaining: int, all: int, **kwargs: Any) -> None:
            self._tqdm.total = all
            self._tqdm.n = all - remaining
            self._tqdm.refresh()

        def _draw_stop(self, **kwargs: Any) -> None:
            self._tqdm.close()

    keys = futures if isinstance(futures, list | tuple | set) else [futures]
    _Bar(list(keys), complete=True)


@contextlib.contextmanager
def step(text: str, *, enabled: bool, file: IO[str] | None = None) -> Iterator[None]:
    """``hybrid: TEXT ...`` while the block runs, then ``done (1.2 s)`` (or ``failed``)."""
    if not enabled:
        yield
        return
    stream = _stream(file)
    tty = progress_enabled(file=stream)
    started = time.monotonic()
    print(f"hybrid: {text} ...", end="" if tty else "\n", file=stream, flush=True)
    outcome = "failed"
    try:
        yield
        outcome = "done"
    finally:
        seconds = time.monotonic() - started
        tail = f" {outcome} ({seconds:.1f} s)"
        print(tail if tty else f"hybrid: {text}{tail}", file=stream, flush=True)


class StatusLine:
    """One status line, rewritten in place on a terminal (a batch job while polling).

    On a terminal each :meth:`update` overwrites the line; elsewhere (when forced) only
    changed texts are printed, one per line, so logs stay short. :meth:`close` ends the
    line. Use as a context manager.
    """

    def __init__(self, *, enabled: bool, file: IO[str] | None = None) -> None:
        self.enabled = enabled
        self.file = _stream(file)
        self.tty = progress_enabled(file=self.file)
        self._last = ""
        self._width = 0
        self._open = False

    def update(self, text: str, *, changed: bool | None = None) -> None:
        """Show ``text``; off a terminal only when ``changed`` (default: the text differs)."""
        if not self.enabled:
            return
        line = f"hybrid: {text}"
        if self.tty:
            pad = max(self._width - len(line), 0)
            print("\r" + line + " " * pad, end="", file=self.file, flush=True)
            self._width = len(line)
            self._open = True
        elif changed or (changed is None and text != self._last):
            print(line, file=self.file, flush=True)
        self._last = text

    def close(self) -> None:
        if self.enabled and self.tty and self._open:
            print(file=self.file, flush=True)
        self._open = False

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def job_status_text(job_id: str, status: str, elapsed: float) -> str:
    """``job j-123 queued (2:05)``: the text :class:`StatusLine` shows while polling."""
    minutes, seconds = divmod(int(elapsed), 60)
    return f"job {job_id} {status} ({minutes}:{seconds:02d})"
