"""``hybrid cache``: copy the windows of the scenes an area and season need, for offline runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hybrid.cli.options import add_stac_argument
from hybrid.errors import UsageError
from hybrid.progress import progress_enabled


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "cache",
        help="copy the Sentinel-2 windows an area and season need into a local STAC catalog",
        description="Search a STAC source like load_collection does and copy only the windows "
        "of the COGs that cover the AOI (plus the kernel buffer) into local COGs with a static "
        "STAC catalog, so that 'hybrid run --stac DIR' works offline with the same result. "
        "Resumable: rerun the same command after an interruption.",
    )
    add_stac_argument(p)
    p.add_argument("--aoi", metavar="FILE", help="GeoJSON area of interest (default: seed AOI)")
    p.add_argument("--start", metavar="DATE", help="first day, YYYY-MM-DD (default 2023-05-01)")
    p.add_argument("--end", metavar="DATE", help="first day NOT included (default 2023-09-30)")
    p.add_argument(
        "--max-cloud-cover", type=float, default=None, metavar="PCT",
        help="only scenes whose tile cloud cover is <= PCT (default: all, so any later "
        "--max-cloud-cover works offline)",
    )  # fmt: skip
    p.add_argument(
        "--bands", default=None, metavar="LIST",
        help="Copernicus band names, comma separated (default: the workflow's B04,B03,B02,B08,SCL)",
    )  # fmt: skip
    p.add_argument(
        "--kernel-size", type=int, default=11,
        help="kernel size of the workflow that will run (sets the pixel buffer; default 11)",
    )  # fmt: skip
    p.add_argument("--out", metavar="DIR", required=True, help="folder of the local catalog")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handle=handle)


def handle(args: argparse.Namespace) -> int:
    from hybrid.aoi import geometry_bbox, read_aoi
    from hybrid.cache import CacheRequest, cache_scenes
    from hybrid.grid import kernel_buffer
    from hybrid.params import DEFAULT_BANDS
    from hybrid.sample import SEED_AOI, SEED_END, SEED_START
    from hybrid.validation import check_dates, check_kernel_size, check_percentage

    start, end = args.start or SEED_START, args.end or SEED_END
    check_dates(start, end)
    _check_out(Path(args.out))
    # the options a later 'hybrid run' refuses are refused here too, before any copy
    check_kernel_size(args.kernel_size)
    check_percentage(args.max_cloud_cover, "--max-cloud-cover")
    bands = DEFAULT_BANDS if args.bands is None else _bands(args.bands)
    aoi = read_aoi(args.aoi) if args.aoi else SEED_AOI
    request = CacheRequest(
        aoi=geometry_bbox(aoi),
        start=start,
        end=end,
        source=args.stac,
        max_cloud_cover=args.max_cloud_cover,
        bands=bands,
        buffer=kernel_buffer((args.kernel_size, args.kernel_size)),
    )
    progress = progress_enabled(quiet=args.quiet)
    report = cache_scenes(request, Path(args.out), progress=progress)
    print(
        f"cached {report.items} scenes: {report.copied} windows copied, "
        f"{report.skipped} already present"
    )
    print(f"catalog: {report.catalog}")
    print(f"run offline with: {_offline_command(args, report.catalog.parent)}")
    return 0


def _check_out(out: Path) -> None:
    """--out is new, empty, or an earlier cache (item folders and its ``collection.json``,
    or the temporary file of one whose writing was killed): a result folder, or anything
    else with files of its own, is not mixed with one."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder for the cache")
    if out.is_dir():
        from hybrid.atomic import leftovers
        from hybrid.cache_catalog import CATALOG_NAME

        ours = {CATALOG_NAME, *(p.name for p in leftovers(out / CATALOG_NAME))}
        files = sorted(p.name for p in out.iterdir() if not p.is_dir())
        others = [name for name in files if name not in ours]
        if others:
            raise UsageError(
                f"--out {out} holds files of its own ({', '.join(others[:3])}), not a scene "
                "cache; give a new or empty folder, or an earlier cache"
            )


def _bands(text: str) -> tuple[str, ...]:
    """``--bands``: the collection's bands with a file to copy (the angle bands are the
    items' properties)."""
    from hybrid.collection import COLLECTION_ID, file_resolutions

    bands = tuple(b.strip().upper() for b in text.split(",") if b.strip())
    if not bands:
        raise UsageError(f"--bands '{text}' names no band; e.g. B04,B08,SCL")
    files = list(file_resolutions())
    unknown = [b for b in bands if b not in files]
    if unknown:
        raise UsageError(
            f"--bands: {COLLECTION_ID} has no band {', '.join(unknown)} to copy; "
            f"use {', '.join(files)}"
        )
    return bands


def _offline_command(args: argparse.Namespace, catalog: Path) -> str:
    """``hybrid run`` on the cached catalog with the area and dates cached (without them
    it would run the default ones, which the cache may only partly cover)."""
    import shlex

    words = ["hybrid", "run", "--stac", str(catalog)]
    for option, value in (("--aoi", args.aoi), ("--start", args.start), ("--end", args.end)):
        if value:
            words += [option, str(value)]
    if args.max_cloud_cover is not None:
        words += ["--max-cloud-cover", str(args.max_cloud_cover)]
    return shlex.join(words)
