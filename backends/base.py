"""The contract every execution backend fulfils.

A backend receives the flat openEO process graph (exactly the JSON ``hybrid graph``
prints) and writes the result files that the graph's ``save_result`` asks for into a
folder. Nothing else crosses this boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ExecutionResult:
    """What a backend hands back after running a graph."""

    #: the result files, in a stable order (one NetCDF, or one GTiff per date)
    files: tuple[Path, ...]
    #: where and how it ran: backend URL, job id, graph hash, timings, versions
    provenance: Mapping[str, Any] = field(default_factory=dict)
    #: what the backend knows of a file that the file does not say, as STAC asset fields
    #: (an aggregate_spatial result's bands and statistics), by file of ``files``
    assets: Mapping[Path, Mapping[str, Any]] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """An execution backend: local engine, remote openEO service, ..."""

    #: short name used by ``hybrid run --backend NAME``
    name: str

    def execute(self, graph: Mapping[str, Any], *, out_dir: Path) -> ExecutionResult:
        """Run the flat process graph; write its result files into ``out_dir``."""
        ...

    def availability(self) -> str | None:
        """``None`` when the backend can run here, else one line saying why not."""
        ...


# -- capabilities: what some backends can do beyond running a graph ------------------


@runtime_checkable
class Validates(Protocol):
    """Checks a graph without running it (the emulator's POST /validation, job creation)."""

    def validate(self, graph: Mapping[str, Any], *, job: bool = False) -> object:
        """Raise a :class:`hybrid.errors.HybridError` when the graph cannot run;
        ``job=True``: what creating a batch job with it refuses (POST/PATCH /jobs)."""
        ...


@runtime_checkable
class DescribesProcesses(Protocol):
    """Knows the openEO descriptions of the processes it runs (GET /processes)."""

    def process_specs(self) -> list[dict[str, Any]]: ...


@runtime_checkable
class RunsUdfs(Protocol):
    """Runs openEO UDFs (run_udf callbacks); lists its runtimes (GET /udf_runtimes)."""

    def udf_runtimes(self) -> dict[str, Any]: ...


@runtime_checkable
class Resumes(Protocol):
    """Can fetch a job that was submitted earlier (``hybrid run --resume JOB_ID``)."""

    def resume(self, job_id: str, *, out_dir: Path) -> ExecutionResult: ...


@runtime_checkable
class Engine(Backend, Validates, DescribesProcesses, Protocol):
    """What the emulator needs from the backend that runs its jobs."""
