"""``hybrid compare A B``: are two results equivalent? Exit 0 yes, 1 no, 2 unusable input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.cli.options import check_folder
from hybrid.errors import NotEquivalent, UsageError

if TYPE_CHECKING:
    from hybrid.tolerance import Tolerance


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare two results pixel by pixel (exit 0 equivalent, 1 not, 2 bad input)",
        description="Compare two results (NetCDF files, GTiff folders, or folders with one .nc) "
        "period by period: CRS, pixel centres, time labels, NaN pattern and values. Two "
        "aggregate_spatial results (timeseries .json, .csv, .nc, .parquet, .covjson, "
        ".geojson, in any two layouts) are compared date by date, feature by feature; other "
        "vector cubes (GeoJSON, vectorcube.*) geometry by geometry; JSON values (result.json) "
        "row by row or leaf by leaf.",
    )
    parser.add_argument("a", type=Path, metavar="A", help="first result (file or folder)")
    parser.add_argument("b", type=Path, metavar="B", help="second result (file or folder)")
    parser.add_argument(
        "--atol",
        type=_tolerance,
        action="append",
        default=[],
        metavar="[BAND=]NUMBER",
        help="absolute tolerance (default 1e-6); BAND=NUMBER for one band, repeatable",
    )
    parser.add_argument(
        "--rtol",
        type=_tolerance,
        action="append",
        default=[],
        metavar="[BAND=]NUMBER",
        help="relative tolerance, times |B| (default 0); BAND=NUMBER for one band, repeatable",
    )
    parser.add_argument(
        "--min-agreement",
        type=float,
        default=1.0,
        help="fraction of pixels per period (of features, for time series and vector cubes) "
        "that must agree (default 1.0 = all)",
    )
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the JSON report here")
    parser.add_argument(
        "--plots", type=Path, metavar="DIR", help="write a PNG of A, B and A-B per period into DIR"
    )
    parser.set_defaults(handle=handle)


def handle(args: argparse.Namespace) -> int:
    from hybrid.comparison import compare
    from hybrid.frame_comparison import refuse_plots
    from hybrid.io.reader import open_any
    from hybrid.plots import plot_comparison

    if args.report is not None:
        _check_report(args.report, (args.a, args.b))
    if args.plots is not None:  # before the report is written
        check_folder(args.plots, "--plots")
    cube_a = open_any(args.a)
    cube_b = open_any(args.b)
    if args.plots is not None:
        refuse_plots(cube_a, cube_b)
    report = compare(
        cube_a, cube_b, atol=_tolerances(args.atol, args.rtol), min_agreement=args.min_agreement
    )
    print(report.summary())
    if args.report is not None:
        try:
            from hybrid.atomic import atomic_path

            with atomic_path(args.report) as tmp:
                tmp.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write the report to {args.report}: {exc.strerror}") from None
    if args.plots is not None:
        try:
            figure = plot_comparison(cube_a, cube_b, Path(args.plots) / "comparison.png")
        except OSError as exc:
            raise UsageError(f"cannot write plots to {args.plots}: {exc.strerror}") from None
        print(f"figure: {figure}")
    if not report.equivalent:
        failing = [r.label for r in report.rows if not r.equivalent]
        reasons = [p.split(":")[0] for p in report.problems]
        if failing:
            reasons.append(f"values or NaN pattern differ in {', '.join(failing)}")
        raise NotEquivalent(
            f"{args.a} and {args.b} are not equivalent ({'; '.join(reasons)}): see the table above"
        )
    return 0


def _check_report(report: Path, results: tuple[Path, Path]) -> None:
    """The report goes beside the results, never over one of them or into their folders."""
    target = report.resolve()
    for result in (path.resolve() for path in results):
        if target == result or result in target.parents:
            raise UsageError(
                f"--report {report} would overwrite or go into the result {result}; "
                "write it elsewhere"
            )
    if report.is_symlink() or (report.exists() and not report.is_file()):
        raise UsageError(
            f"--report {report} is a folder, a link or a device; give the path of a file"
        )


def _tolerance(text: str) -> tuple[str | None, float]:
    """``NUMBER`` (every band) or ``BAND=NUMBER`` (that band)."""
    name, _, value = text.rpartition("=")
    try:
        return (name or None, float(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number or BAND=NUMBER (e.g. 1e-6 or B04=1)"
        ) from None


def _tolerances(
    atol: list[tuple[str | None, float]], rtol: list[tuple[str | None, float]]
) -> Tolerance:
    """The :class:`~hybrid.tolerance.Tolerance` of the repeated --atol and --rtol: the
    last plain number for every band, BAND=NUMBER for that band."""
    from hybrid.tolerance import DEFAULT_ATOL, DEFAULT_RTOL, Tolerance

    def split(
        given: list[tuple[str | None, float]], default: float
    ) -> tuple[float, dict[str, float]]:
        every = [value for name, value in given if name is None]
        return (every[-1] if every else default), {n: v for n, v in given if n is not None}

    base_atol, own_atol = split(atol, DEFAULT_ATOL)
    base_rtol, own_rtol = split(rtol, DEFAULT_RTOL)
    return Tolerance.of(
        own_atol or base_atol, own_rtol or base_rtol, default=(base_atol, base_rtol)
    )
