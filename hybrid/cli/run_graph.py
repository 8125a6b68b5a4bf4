"""``hybrid run --graph FILE``: a user's own process graph instead of the built-in workflow.

The graph runs as it is (a graph without ``save_result`` gets the one Copernicus adds:
GTiff for a raster cube, JSON or GeoJSON for anything else, :mod:`hybrid.server.sync_result`)
and every file it writes lands in one folder, named as the backend names them - the
layout of a batch job's results, which ``hybrid compare`` reads.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hybrid.errors import UsageError

#: the parent of the default result folder (``out/<graph file stem>``)
DEFAULT_PARENT = Path("out")
#: options of ``hybrid run`` that only the built-in workflow uses (besides its group)
RUN_WORKFLOW_ONLY = ("plots", "resume")


def check_options(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    *,
    also: tuple[str, ...] = RUN_WORKFLOW_ONLY,
) -> None:
    """Refuse the options that build or describe the built-in workflow (its option group
    of ``parser`` and the options ``also`` names): a graph file is run as it is, its own
    loads and save_result decide the data and the format."""
    given = [
        action.option_strings[0]
        for action in parser._actions
        if action.option_strings
        and (action.dest in also or _in_workflow_group(parser, action))
        and getattr(args, action.dest, action.default) != action.default
    ]
    if given:
        raise UsageError(
            f"--graph runs the graph file as it is; {', '.join(given)} "
            f"{'applies' if len(given) == 1 else 'apply'} to the built-in workflow only "
            "(put the AOI, dates and format into the graph itself)"
        )


def _in_workflow_group(parser: argparse.ArgumentParser, action: argparse.Action) -> bool:
    return any(
        action in group._group_actions
        for group in parser._action_groups
        if (group.title or "").startswith("workflow")
    )


def target_folder(args: argparse.Namespace) -> Path:
    """``--out``, or ``out/<graph file stem>``; an existing one only with ``--overwrite``."""
    from hybrid.graph_file import STDIN

    stem = "graph" if args.graph == STDIN else Path(args.graph).stem
    out = Path(args.out) if args.out else DEFAULT_PARENT / stem
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} already exists; pass --overwrite or another --out")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; --graph writes a folder of result files")
    return out


def with_default_save(graph: dict[str, Any], backend: object) -> dict[str, Any]:
    """``graph`` with the save_result a backend adds to a graph without one, where the
    backend describes its processes (the local one); a remote backend adds its own."""
    from hybrid.backends.base import DescribesProcesses
    from hybrid.server.sync_result import with_save_result

    if not isinstance(backend, DescribesProcesses):
        return graph
    return with_save_result(graph, backend.process_specs())


def install_folder(files: Iterable[Path], staging: Path, out: Path) -> list[Path]:
    """Move the result ``files`` into ``staging`` (a new folder beside ``out``), then put
    it in the place of ``out``: the folder appears with every file or not at all, and an
    old ``out`` (``--overwrite``) goes only once the new one is complete."""
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
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return sorted(moved)


def summary(out: Path, files: list[Path]) -> list[str]:
    """What ``hybrid run --graph`` prints: the per-period table of a raster result with
    dates, then the folder and its files."""
    from hybrid.io.reader import open_any
    from hybrid.summary import format_table, summarise

    lines = []
    try:
        cube = open_any(out)
    except UsageError:  # a value, a model or another file no reader of ours takes
        cube = None
    if cube is not None and {"x", "y", "t"} <= set(cube.dims):
        first = str(cube["bands"].values[0]) if "bands" in cube.dims else str(cube.name or "")
        lines.append(format_table(summarise(cube), value=first or "value"))
    names = ", ".join(f.name for f in files) or "no file (discard_result)"
    lines.append(f"result: {out} ({names})")
    return lines
