"""``hybrid run --graph FILE``: a user's own process graph instead of the built-in workflow.

The graph runs as it is (a graph without ``save_result`` gets the one Copernicus adds:
GTiff for a raster cube, JSON or GeoJSON for anything else, :mod:`hybrid.server.sync_result`;
a user-defined process document runs with its parameters' defaults) and every file it
writes lands in one folder, named as the backend names them - the layout of a batch
job's results, which ``hybrid compare`` reads. ``--overwrite`` replaces only a folder of
result files (a folder holding anything else is the user's, never removed), and the old
folder goes only once the new one is complete.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from hybrid.errors import UsageError

#: the parent of the default result folder (``out/<graph file stem>``)
DEFAULT_PARENT = Path("out")
#: options of ``hybrid run`` that only the built-in workflow uses (besides its group)
RUN_WORKFLOW_ONLY = ("plots", "resume")
#: files a results folder may hold besides the formats' (a job's STAC metadata)
_RESULT_EXTRAS = frozenset({"job-results.json"})


def check_options(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    *,
    also: tuple[str, ...] = RUN_WORKFLOW_ONLY,
) -> None:
    """Refuse the options that build or describe the built-in workflow (its option group
    of ``parser`` and the options ``also`` names), given even with their default value:
    a graph file is run as it is, its own loads and save_result decide the data and the
    format. The options given are read from ``args._argv`` (the command line,
    :func:`hybrid.cli.given_options`) or ``args._given`` (:func:`hybrid.run`'s keywords);
    without either, an option whose value is not its default counts as given."""
    from hybrid.cli import given_options

    keywords = getattr(args, "_given", None) is not None  # hybrid.run speaks Python
    named = args._given if keywords else None
    if named is None and getattr(args, "_argv", None) is not None:
        named = given_options(parser, args.command, args._argv)
    workflow = [
        action
        for action in parser._actions
        if action.option_strings and (action.dest in also or _in_workflow_group(parser, action))
    ]
    given = [
        action.dest if keywords else action.option_strings[0]
        for action in workflow
        if (action.dest in named if named is not None
            else getattr(args, action.dest, action.default) != action.default)
    ]  # fmt: skip
    if given:
        graph = "graph=" if keywords else "--graph"
        raise UsageError(
            f"{graph} runs the graph as it is; {', '.join(given)} "
            f"{'applies' if len(given) == 1 else 'apply'} to the built-in workflow only"
        )


def _in_workflow_group(parser: argparse.ArgumentParser, action: argparse.Action) -> bool:
    return any(
        action in group._group_actions
        for group in parser._action_groups
        if (group.title or "").startswith("workflow")
    )


def user_graph(source: str | Path | Mapping[str, Any], *, name: str) -> dict[str, Any]:
    """The flat graph of a graph file (or a parsed document), a user-defined process's
    parameters replaced by their defaults (one without a default is a UsageError)."""
    from hybrid.graph_file import flat_graph, parameters, read_document
    from hybrid.server.udp_expansion import substituted

    document = source if isinstance(source, Mapping) else read_document(source)
    graph = flat_graph(document, source=name)
    declared = parameters(document)
    missing = [p["name"] for p in declared if "default" not in p and not p.get("optional")]
    if missing:
        raise UsageError(
            f"{name} is a user-defined process whose parameter(s) {', '.join(missing)} "
            "have no default: give them defaults, or call it from a graph with arguments"
        )
    values = {p["name"]: p["default"] for p in declared if "default" in p}
    if not values:
        return graph
    return {nid: {**node, "arguments": substituted(node.get("arguments", {}), values)}
            for nid, node in graph.items()}  # fmt: skip


def with_udps(graph: dict[str, Any], files: list[str], backend: Any) -> dict[str, Any]:
    """``graph`` with its calls of the user-defined processes in ``files`` (documents as
    ``GET /process_graphs/{id}`` answers or the client's ``save_user_defined_process``
    stores them) and of the processes its URL namespaces publish inlined, as the emulator
    inlines them (:mod:`hybrid.server.udp_expansion`): a call without namespace of one of
    ``backend``'s predefined processes is that process (:func:`udp_sharing.lookup`)."""
    from hybrid.backends.base import DescribesProcesses
    from hybrid.graph_file import flat_graph, read_document
    from hybrid.server.remote_processes import remote_process
    from hybrid.server.udp_expansion import expand
    from hybrid.server.udp_sharing import PredefinedIds, calls_predefined, is_url

    udps: dict[str, dict[str, Any]] = {}
    for file in files:
        document = read_document(file, what="--udp file")
        pid = document.get("id") if isinstance(document, Mapping) else None
        if not isinstance(pid, str):
            raise UsageError(f"--udp {file}: a user-defined process needs its 'id'")
        udps[pid] = {**document, "process_graph": flat_graph(document, source=file)}

    predefined = PredefinedIds(backend) if isinstance(backend, DescribesProcesses) else ()

    def lookup(pid: str, namespace: str | None) -> dict[str, Any] | None:
        # the catalogue is read only when a --udp file has a predefined process's id
        if pid in udps and namespace in (None, "user"):
            return None if calls_predefined(pid, namespace, predefined) else udps[pid]
        if is_url(namespace):  # a published process, fetched as Copernicus fetches it
            return remote_process(pid, str(namespace))
        if namespace == "user":
            raise UsageError(
                f"the graph calls '{pid}' (namespace user), which no --udp file defines: "
                f"give its definition (GET /process_graphs/{pid}) with --udp FILE"
            )
        return None

    return expand(graph, lookup)


def target_folder(args: argparse.Namespace) -> Path:
    """``--out``, or ``out/<graph file stem>``: a folder to create, or with
    ``--overwrite`` one of result files only; never the working folder or one above it."""
    from hybrid.graph_file import STDIN

    stem = "graph" if args.graph == STDIN else Path(args.graph).stem.strip(".")
    out = Path(args.out) if args.out else DEFAULT_PARENT / (stem or "graph")
    check_result_folder(out, overwrite=args.overwrite, writer="--graph")
    return out


def check_result_folder(out: Path, *, overwrite: bool, writer: str) -> None:
    """``out`` may become a folder of result files: new, or with ``overwrite`` one of
    result files only; never a link, a file, the working folder or one above it."""
    if out.is_symlink():
        raise UsageError(f"--out {out} is a symbolic link; give the folder itself")
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        raise UsageError(f"--out {out} is the working folder or above it; give a new folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; {writer} writes a folder of result files")
    if out.exists() and not overwrite:
        raise UsageError(f"{out} already exists; pass --overwrite or another --out")
    if out.exists():
        _check_replaceable(out)


def _check_replaceable(out: Path) -> None:
    """``out`` holds result files only (what a run writes), so ``--overwrite`` may go."""
    from hybrid.io.registry import FORMATS

    others = sorted(
        entry.name
        for entry in out.iterdir()
        if not entry.is_file()
        or entry.is_symlink()
        or not (entry.name in _RESULT_EXTRAS or any(f.holds(entry) for f in FORMATS))
    )
    if others:
        shown = ", ".join(others[:3]) + (f" (+{len(others) - 3})" if len(others) > 3 else "")
        raise UsageError(
            f"--overwrite replaces a folder of results, and {out} holds other things "
            f"({shown}): give another --out"
        )


def with_default_save(graph: dict[str, Any], backend: object) -> dict[str, Any]:
    """``graph`` with the save_result a backend adds to a graph without one, where the
    backend describes its processes (the local one); a remote backend adds its own."""
    from hybrid.backends.base import DescribesProcesses
    from hybrid.server.sync_result import with_save_result

    if not isinstance(backend, DescribesProcesses):
        return graph
    return with_save_result(graph, backend.process_specs())


def install_folder(
    files: Iterable[Path], staging: Path, out: Path, *, overwrite: bool
) -> list[Path]:
    """Move the result ``files`` into ``staging`` (a new folder beside ``out``), then put
    it in the place of ``out``: the folder appears with every file or not at all; an
    old ``out`` (``overwrite``) goes only once the new one is in place, and a run that
    made ``out`` meanwhile is not replaced without ``overwrite``."""
    staging.mkdir()
    moved = []
    for file in files:
        target = staging / file.name
        if target.exists():
            raise UsageError(
                f"the graph writes two files named {file.name}: give its save_result "
                "nodes distinct filename_prefix options"
            )
        shutil.move(str(file), str(target))
        moved.append(out / file.name)
    old = staging.with_name(staging.name + "-old")
    with _signals_held():  # SIGTERM between the renames would lose both folders
        if out.exists() or out.is_symlink():
            if not overwrite:
                raise UsageError(f"{out} appeared while the graph ran (another run?); not replaced")
            _check_replaceable(out)
            out.rename(old)
        staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return sorted(moved)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGTERM and SIGINT wait until the block is done (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGTERM, signal.SIGINT}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def summary(out: Path, files: list[Path]) -> list[str]:
    """What ``hybrid run --graph`` prints: the per-period table of a raster result with
    dates, then the folder and its files."""
    from hybrid.io.reader import open_any
    from hybrid.summary import format_table, summarise

    lines = []
    try:
        cube = open_any(out)
    except UsageError:  # a model, several results, or a file no reader of ours takes
        cube = None
    if cube is not None and {"x", "y", "t"} <= set(cube.dims):
        first = str(cube["bands"].values[0]) if "bands" in cube.dims else str(cube.name or "")
        # "mean of var": the file's variable, not a statistic ("mean var" read as variance)
        lines.append(format_table(summarise(cube), value=f"of {first or 'the values'}"))
    names = ", ".join(f.name for f in files) or "no file (discard_result)"
    lines.append(f"result: {out} ({names})")
    return lines
