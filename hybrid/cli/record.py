"""``hybrid record``: run the workflow's graph on a remote openEO backend and keep the result.

Stores ``result.nc`` (the local layout, with provenance attributes), ``graph.json`` and
``provenance.json`` under ``OUT_ROOT/NAME``: a recording that ``hybrid compare`` and
the tests compare local runs against.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hybrid.errors import UsageError

DEFAULT_OUT_ROOT = Path("data") / "recordings"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: the files of a recording besides the result's
_OWN_FILES = ("graph.json", "provenance.json")
#: longest recording name (the staging folder adds a prefix and a random part)
_NAME_MAX = 200


def add_parser(subparsers: Any) -> None:
    from hybrid.cli.options import add_polling_arguments, add_workflow_arguments

    parser = subparsers.add_parser(
        "record",
        help="run the graph on a remote openEO backend (Copernicus) and store the result",
        description="Run the workflow's process graph as a batch job on a remote openEO "
        "backend and store result.nc, graph.json and provenance.json under OUT_ROOT/NAME. "
        "Credentials: OPENEO_AUTH_METHOD=client_credentials with OPENEO_AUTH_CLIENT_ID/"
        "OPENEO_AUTH_CLIENT_SECRET, a stored OIDC refresh token or the device flow in a "
        "terminal, or OPENEO_AUTH_USERNAME/OPENEO_AUTH_PASSWORD (basic).",
    )
    parser.add_argument(
        "--backend", required=True, metavar="copernicus|URL", help="remote openEO backend"
    )
    parser.add_argument("--name", required=True, help="recording name (folder under --out-root)")
    parser.add_argument(
        "--out-root",
        type=Path,
        default=DEFAULT_OUT_ROOT,
        metavar="DIR",
        help=f"where recordings live (default {DEFAULT_OUT_ROOT})",
    )
    parser.add_argument(
        "--auth",
        default="auto",
        choices=("auto", "oidc", "client_credentials", "basic", "none"),
        help="how to authenticate (default auto: environment, refresh token/device flow, basic)",
    )
    parser.add_argument(
        "--resume", metavar="JOB_ID", help="fetch this already submitted job instead of a new one"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing recording")
    add_polling_arguments(parser)
    parser.add_argument(
        "--timeout",
        type=float,
        default=6 * 3600.0,
        metavar="S",
        help="give up after S seconds (default 6 h)",
    )
    parser.add_argument(
        "--graph", metavar="FILE",
        help="record this process-graph JSON instead of the workflow ('-': standard input); "
        "the job's result files are kept as the backend wrote them",
    )  # fmt: skip
    add_workflow_arguments(parser, aoi_cloud=False)
    parser.set_defaults(handle=handle)


def handle(args: argparse.Namespace) -> int:
    from hybrid.backends.remote import RemoteBackend, RemoteSettings, graph_hash

    if not _NAME.fullmatch(args.name) or len(args.name) > _NAME_MAX:
        raise UsageError(
            f"--name {args.name!r} must be letters, digits, '.', '_' or '-' (at most "
            f"{_NAME_MAX}), starting with a letter or digit"
        )
    if args.out_root.exists() and not args.out_root.is_dir():
        raise UsageError(f"--out-root {args.out_root} is a file; give a folder")
    target = args.out_root / args.name
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file, not a recording: give another --name")
    if target.exists() and any(target.iterdir()) and not args.force:
        raise UsageError(f"recording {target} already exists: use --force or another --name")
    max_poll = _check_polling(args)
    workflow, graph = _what_to_record(args)
    backend = RemoteBackend(
        args.backend,
        RemoteSettings(
            auth=args.auth,
            poll_interval=args.poll_interval,
            max_poll_interval=max_poll,
            timeout=args.timeout,
        ),
    )
    with _staging(args.out_root, args.name) as staging:
        job_dir, final = staging / "job", staging / "final"
        if args.resume:
            result = backend.resume(args.resume, out_dir=job_dir)
        else:
            result = backend.execute(graph, out_dir=job_dir)
        provenance = dict(result.provenance)
        if args.resume and provenance.get("graph_sha256") not in (None, graph_hash(graph)):
            print(
                f"hybrid: warning: job {args.resume} ran another graph than the one given "
                "here; graph.json holds the one given",
                file=sys.stderr,
            )
        provenance.update(
            name=args.name,
            recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
            workflow=None if workflow is None else _workflow_json(workflow),
        )
        kept = _keep_result(result, job_dir, final, workflow)
        _write_json(final / "graph.json", graph)
        _write_json(final / "provenance.json", provenance)
        if target.exists():
            shutil.rmtree(target)
        final.rename(target)
    print(f"recorded {args.name}: {target} (job {provenance['job_id']}, {kept})")
    return 0


def _check_polling(args: argparse.Namespace) -> float:
    """The longest poll delay (:func:`hybrid.cli.options.check_polling`), after the
    timeout's check."""
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {args.timeout}")
    from hybrid.cli.options import check_polling

    return check_polling(args)


def _what_to_record(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The workflow (None for ``--graph``) and the graph to run."""
    from hybrid.cli.options import workflow_from_args
    from hybrid.workflow_graph import build_graph

    if args.graph is None:
        workflow = workflow_from_args(args)
        return workflow, build_graph(workflow)
    from hybrid.cli import build_parser, run_graph, subparser
    from hybrid.graph_file import display_name

    run_graph.check_options(args, subparser(build_parser(), "record"), also=())
    return None, run_graph.user_graph(args.graph, name=display_name(args.graph))


def _keep_result(result: Any, job_dir: Path, final: Path, workflow: Any) -> str:
    """The result into ``final``: the workflow's as ``result.nc`` in the local layout with
    provenance attributes, a graph file's as the files the backend wrote; says what."""
    if workflow is None:
        kept = {file.name for file in result.files} & set(_OWN_FILES)
        if kept:
            raise UsageError(
                f"the job wrote {', '.join(sorted(kept))}, a name the recording keeps for "
                "itself: give the graph's save_result another filename_prefix"
            )
        final.mkdir(parents=True)
        for file in result.files:
            shutil.move(str(file), str(final / file.name))
        return ", ".join(file.name for file in result.files)
    from hybrid.io.netcdf import write_netcdf
    from hybrid.io.provenance import provenance_attributes
    from hybrid.io.reader import open_result

    cube = open_result(job_dir)
    write_netcdf(cube, final / "result.nc", attrs=provenance_attributes(result.provenance))
    return f"{cube.sizes.get('t', 1)} period(s)"


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


def _workflow_json(workflow: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        json.dumps(dataclasses.asdict(workflow), default=str, sort_keys=True)
    )
    return data


@contextlib.contextmanager
def _staging(out_root: Path, name: str) -> Iterator[Path]:
    """A partial folder in ``out_root``, removed on exit; ``out_root`` and the parents
    this creates go again when the recording fails (an unreachable backend, say)."""
    from hybrid.atomic import made_folder

    with made_folder(out_root):
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=out_root))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)
