"""The benchmark's result as text: the markdown table, the cluster and scaling lines,
the memory lines and the scale check's verdict (:mod:`benchmarks.run`)."""

from __future__ import annotations

import statistics
from typing import Any

#: ``--cluster``: worker processes of the external cluster (one thread each)
CLUSTER_WORKERS = 2
#: ``--scale-check``: a 100 x 100 km AOI (10000 x 10000 pixels of 10 m) over 10 dates,
#: which must finish under this peak RSS
SCALE_CHECK = "10x10000"
SCALE_LIMIT_MIB = 4096


def markdown(result: dict[str, Any]) -> str:
    """The result as a markdown table (plus the scaling line)."""
    lines = [
        "| scene (dates x pixels) | pipeline | wall (s) | CPU (s) | peak RSS (MiB) "
        "| Mpx-dates/s | x fused | x decode |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        ratio = f"{r['ratio_to_fused']:.2f}" if r["ratio_to_fused"] is not None else "-"
        vs_decode = r.get("ratio_to_decode")
        decode = f"{vs_decode:.2f}" if vs_decode is not None else "-"
        lines.append(
            f"| {r['scene']}^2 | {r['pipeline']} | {r['seconds']:.2f} | {r['cpu_seconds']:.1f} "
            f"| {r['peak_rss_mib']:.0f} "
            f"| {r['mpx_dates_per_s']:.1f} | {ratio} | {decode} |"
        )
    rounds = max((len(r.get("seconds_all", ())) for r in result["rows"]), default=0)
    if rounds > 1:
        lines += ["", f"wall: the median of {rounds} rounds, the pipelines alternating"]
    lines += _cluster_lines(result.get("cluster"))
    scaling = result.get("scaling")
    if scaling:
        lines.append("")
        lines.append(
            f"1 -> 2 workers (LocalCluster) on {scaling['scene']}^2: "
            f"x{scaling['speedup_1_to_2_workers']:.2f}"
        )
    return "\n".join(lines)


def _cluster_lines(summary: dict[str, Any] | None) -> list[str]:
    if not summary:
        return []
    ratio = summary["ratio_to_threads"]
    cpu = summary["cpu_seconds"]
    return [
        "",
        f"external scheduler + {CLUSTER_WORKERS} worker processes on {summary['scene']}^2: "
        f"{summary['seconds']:.2f} s"
        + (f", x{ratio:.2f} the threaded run" if ratio is not None else "")
        + f"; client peak RSS {summary['client_peak_rss_mib']:.0f} MiB, workers' peak RSS "
        f"{summary['workers_peak_rss_mib']:.0f} MiB (sum); CPU s client {cpu['client']:.1f} "
        f"+ workers {cpu['workers']:.1f} + scheduler {cpu['scheduler']:.1f}; workers sent "
        f"{summary['sent_by_workers']['mib']:.0f} MiB in {summary['sent_by_workers']['count']:.0f} "
        f"transfers (the result's values: {summary['result_mib']:.0f} MiB before the deflate, "
        "which runs on the workers)",
    ]


def memory_lines(result: dict[str, Any]) -> list[str]:
    """Per pipeline measured on several scenes: peak RSS largest / smallest. With
    ``--rounds N`` a scene's peak is the median of its N runs (a run's peak moves by
    tens of MiB with the threads' timing: benchmarks/README.md), each run's listed."""
    lines = []
    for pipeline in dict.fromkeys(r["pipeline"] for r in result["rows"]):
        rows = [r for r in result["rows"] if r["pipeline"] == pipeline]
        runs = [r.get("peak_rss_all") or [r["peak_rss_mib"]] for r in rows]
        rss = [statistics.median(each) for each in runs]
        if len(rss) > 1:
            rounds = max(len(each) for each in runs)
            lines.append(
                f"{pipeline}: peak RSS {min(rss):.0f}-{max(rss):.0f} MiB over "
                f"{len(rss)} scenes"
                + (f" (medians of {rounds} runs)" if rounds > 1 else "")
                + f", largest / smallest x{max(rss) / min(rss):.2f}"
            )
            if rounds > 1:
                lines.append("  each run: " + "; ".join(
                    f"{r['scene']} " + " / ".join(f"{v:.0f}" for v in each)
                    for r, each in zip(rows, runs, strict=True)
                ))  # fmt: skip
    return lines


def scale_verdict(result: dict[str, Any]) -> int:
    """``--scale-check``: 0 when every local run stayed under SCALE_LIMIT_MIB, else 1."""
    rows = [r for r in result["rows"] if r["pipeline"] == "local"]
    if not rows:
        print("scale check: the local pipeline was not run")
        return 1
    worst = max(r["peak_rss_mib"] for r in rows)
    ok = worst < SCALE_LIMIT_MIB
    print(f"scale check {SCALE_CHECK} (100 x 100 km, 10 dates): "
          f"{rows[0]['seconds']:.0f} s, {rows[0]['cpu_seconds']:.0f} CPU s, peak RSS "
          f"{worst:.0f} MiB {'<' if ok else '>='} {SCALE_LIMIT_MIB} MiB: "
          f"{'PASS' if ok else 'FAIL'}")  # fmt: skip
    return 0 if ok else 1
