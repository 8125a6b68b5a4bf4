"""Where the sample lives and how it gets there exactly once (stdlib only at import).

:func:`ensure_sample` generates into a temporary sibling directory, writes the marker
file last and renames the directory into place, so a crash or a concurrent run never
leaves a half-written sample where readers look.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from hybrid.errors import UsageError

#: Folder name of the default sample under the cache directory, before its version.
SAMPLE_NAME = "sample-v1"
#: Written last; its content names the generator version and parameters.
MARKER = ".complete"


def generator_fingerprint() -> str:
    """A digest of the generator's own source: a cached sample made by other code is stale."""
    import hashlib

    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _marker_text() -> str:
    return f"hybrid.sample v1 seed=0 generator={generator_fingerprint()}\n"


_ITEM_DIR = re.compile(r"^S2[ABC]_\d{2}[A-Z]{3}_\d{8}_\d+_L2A$")


def default_cache_dir() -> Path:
    """``$HYBRID_CACHE_DIR`` if set, else ``~/.cache/hybrid`` (read at call time)."""
    env = os.environ.get("HYBRID_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hybrid"


def _complete(root: Path, marker_text: str) -> bool:
    marker = root / MARKER
    return (
        marker.is_file()
        and marker.read_text(encoding="utf-8") == marker_text
        and (root / "collection.json").is_file()
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temps(root: Path) -> None:
    """Delete temporary directories left by runs whose process is gone."""
    pattern = re.compile(rf"^\.{re.escape(root.name)}\.(tmp|old)-(\d+)-")
    for entry in root.parent.iterdir():
        m = pattern.match(entry.name)
        if m and entry.is_dir() and not _pid_alive(int(m.group(2))):
            shutil.rmtree(entry, ignore_errors=True)


def _looks_like_sample(root: Path) -> bool:
    """True if every entry of ``root`` is something the generator writes."""
    return all(
        e.name in ("collection.json", MARKER) or (e.is_dir() and _ITEM_DIR.match(e.name))
        for e in root.iterdir()
    )


def _install(tmp: Path, root: Path, marker_text: str) -> None:
    """Move the finished ``tmp`` to ``root``, replacing an incomplete ``root``."""
    if root.exists():
        if _complete(root, marker_text):
            return  # another process finished first
        if not _looks_like_sample(root):
            raise UsageError(
                f"{root} exists and is not a hybrid sample; remove it or pass another root"
            )
        aside = root.parent / f".{root.name}.old-{os.getpid()}-{tmp.name[-8:]}"
        os.replace(root, aside)
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.replace(tmp, root)
    except OSError:
        if not _complete(root, marker_text):
            raise


def ensure_generated(root: Path, *, generate: Callable[[Path], object], marker_text: str) -> Path:
    """Run ``generate(tmp)`` into a temporary sibling of ``root`` unless ``root`` already
    holds a complete result with ``marker_text`` in its marker, then move it into place.
    Returns ``root / "collection.json"``."""
    root = root.expanduser().absolute()
    if _complete(root, marker_text):
        return root / "collection.json"
    if root.exists() and not (root.is_dir() and _looks_like_sample(root)):
        raise UsageError(
            f"{root} exists and is not a hybrid sample; remove it or pass another root"
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.tmp-{os.getpid()}-", dir=root.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the sample is not
    # one line, also in a pipe: the first run is slow for a reason the user should know.
    # Measured: about 15 CPU-s (4 threads at most), 33 s on 2 cores under a load of 8-9
    print(
        f"hybrid: generating the embedded Sentinel-2 sample into {root} (once, 15-35 s)",
        file=sys.stderr,
        flush=True,
    )
    try:
        generate(tmp)
        (tmp / MARKER).write_text(marker_text, encoding="utf-8")
        _install(tmp, root, marker_text)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root / "collection.json"


def default_sample_dir() -> Path:
    """Where :func:`ensure_sample` keeps the default sample: a folder per generator
    version, ``sample-v1-<generator_fingerprint()>`` under :func:`default_cache_dir`.

    So a hybrid with another generator makes its own folder and never replaces the one a
    process of the other version may be reading at that moment (a reader of a sample
    swapped under it could mix files of both: wrong numbers). Folders of older versions
    stay until removed by hand (about 55 MB each).
    """
    return default_cache_dir() / f"{SAMPLE_NAME}-{generator_fingerprint()}"


def ensure_sample(root: Path | None = None) -> Path:
    """Generate the default sample into ``root`` unless it is already complete, and
    return the path of its ``collection.json``.

    ``root`` defaults to :func:`default_sample_dir`. Idempotent; safe against a
    half-written earlier run and against concurrent calls.
    """
    from hybrid.sample.generate import generate_sample

    target = Path(root) if root is not None else default_sample_dir()
    return ensure_generated(
        target, generate=lambda tmp: generate_sample(tmp, seed=0), marker_text=_marker_text()
    )
