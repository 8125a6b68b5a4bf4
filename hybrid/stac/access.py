"""Reaching the assets of STAC items: signing, S3 credentials, and header checks.

- Planetary Computer serves its COGs from Azure blob storage and needs short-lived SAS
  tokens: hrefs on ``*.blob.core.windows.net`` are signed with ``planetary_computer``,
  any other href is left alone.
- The Copernicus STAC points at JP2 files in its S3 (``s3://eodata/...``): GDAL reads
  them with credentials from the environment (``CDSE_S3_ACCESS_KEY`` /
  ``CDSE_S3_SECRET_KEY``, else ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``) and the
  endpoint ``CDSE_S3_ENDPOINT`` / ``AWS_S3_ENDPOINT`` (default
  ``eodata.dataspace.copernicus.eu``).
- odc-stac reads pixels lazily, at compute time; :func:`check_assets` opens every asset's
  header first so a missing or corrupt file fails early, naming the item and the asset.
- A remote read (header or pixels) answered 429, 500 or 502-504 is retried
  :data:`HTTP_RETRIES` times with
  GDAL's backoff (from 0.5 s, growing about 2.3x per retry with GDAL 3.10), not
  odc-stac's 10 times, whose backoff kept a run waiting for many minutes per read;
  ``GDAL_HTTP_MAX_RETRY`` and ``GDAL_HTTP_RETRY_DELAY`` (the first wait, seconds) in the
  environment win.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from hybrid.errors import DataSourceError, one_line

#: Azure blob storage, where Planetary Computer keeps its data
PC_BLOB_DOMAIN = ".blob.core.windows.net"
#: the Copernicus Data Space S3 endpoint
CDSE_S3_ENDPOINT = "eodata.dataspace.copernicus.eu"
#: parallel header reads of remote assets
CHECK_THREADS = 8
#: GDAL options of every direct read of a local file (no sibling-file listing per open)
LOCAL_READ_OPTIONS = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
#: retries of a remote read that the server answered with a transient error
HTTP_RETRIES = 4
#: GDAL's option for that count
RETRY = "GDAL_HTTP_MAX_RETRY"
#: seconds GDAL waits before the first retry (its backoff grows from there)
HTTP_RETRY_DELAY = 0.5
#: GDAL's option for that wait
RETRY_DELAY = "GDAL_HTTP_RETRY_DELAY"


def is_planetary_computer_href(href: str) -> bool:
    return urlparse(href).netloc.endswith(PC_BLOB_DOMAIN)


def sign_items(items: Sequence[Any], read: Callable[[Any], list[str]]) -> list[Any]:
    """The items, those whose assets read (``read(item)``: their hrefs) are on Planetary
    Computer's blob storage replaced by signed copies (a catalog of local COGs whose
    previews stay on the blob storage needs no network)."""
    out = []
    for item in items:
        if any(is_planetary_computer_href(href) for href in read(item)):
            import planetary_computer

            item = item.full_copy()
            for asset in item.assets.values():
                if is_planetary_computer_href(asset.href):
                    try:
                        asset.href = planetary_computer.sign_url(asset.href)
                    except Exception as exc:  # requests' own hierarchy, network failures
                        raise DataSourceError(
                            f"cannot sign Planetary Computer asset of item {item.id}: "
                            f"{one_line(exc)}; check your network"
                        ) from exc
        out.append(item)
    return out


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str
    endpoint: str
    region: str = "default"

    def gdal_options(self) -> dict[str, str]:
        """GDAL configuration options for /vsis3/ on this endpoint."""
        return {
            "AWS_S3_ENDPOINT": self.endpoint,
            "AWS_VIRTUAL_HOSTING": "FALSE",
            "AWS_HTTPS": "YES",
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        }

    def session_args(self) -> dict[str, str]:
        """Arguments of rasterio's AWSSession (and odc-stac's ``aws=``)."""
        return {
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": self.region,
            "endpoint_url": self.endpoint,
        }


def s3_credentials(environ: Mapping[str, str] | None = None) -> S3Credentials:
    """S3 credentials for the Copernicus S3 from the environment; DataSourceError if absent."""
    env = os.environ if environ is None else environ
    key = env.get("CDSE_S3_ACCESS_KEY") or env.get("AWS_ACCESS_KEY_ID")
    secret = env.get("CDSE_S3_SECRET_KEY") or env.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise DataSourceError(
            "the scenes are on S3 (s3:// hrefs, e.g. the Copernicus STAC) but no S3 "
            "credentials are set; export CDSE_S3_ACCESS_KEY and CDSE_S3_SECRET_KEY (create "
            "them at https://eodata-s3keysmanager.dataspace.copernicus.eu) or AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY"
        )
    endpoint = env.get("CDSE_S3_ENDPOINT") or env.get("AWS_S3_ENDPOINT") or CDSE_S3_ENDPOINT
    endpoint = endpoint.removeprefix("https://").removeprefix("http://").rstrip("/")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "default"
    return S3Credentials(key, secret, endpoint, region)


def needs_s3(hrefs: Iterable[str]) -> bool:
    """Whether any of ``hrefs`` (of the assets read, not of every asset: Earth Search v1
    items carry ``red-jp2`` copies on ``s3://`` beside their https COGs) is on S3."""
    return any(href.startswith("s3://") for href in hrefs)


def configure_access(hrefs: Sequence[str]) -> None:
    """Configure odc-stac's GDAL environment for the remote ones of ``hrefs`` (the assets
    read): its cloud defaults (no folder listing nor sidecar-file probes per file,
    retries; without them a probe made while rasterio holds the GIL waits forever on a
    server in this process), and the S3 credentials, required for ``s3://`` assets and
    kept when set for any (a run reading S3 at the same time keeps them)."""
    remote = ("http://", "https://", "s3://")
    if not any(href.startswith(remote) for href in hrefs):
        return
    import odc.stac

    try:
        creds: S3Credentials | None = s3_credentials()
    except DataSourceError:
        if needs_s3(hrefs):
            raise
        creds = None
    options: dict[str, Any] = _retry_options()
    if creds is not None:
        options.update(creds.gdal_options())
    aws = creds.session_args() if creds is not None else None
    odc.stac.configure_rio(cloud_defaults=True, aws=aws, **options)


def pixel_read_options() -> dict[str, str]:
    """GDAL options of the pixel reads made in dask's threads (which do not inherit the
    caller's rasterio.Env): no folder listing nor sidecar probes per file (over HTTP some
    of it runs while rasterio holds the GIL: a server in this process could not answer),
    and the retries of a remote read (module docstring)."""
    return {**LOCAL_READ_OPTIONS, **_retry_options()}


def _retry_options() -> dict[str, str]:
    """GDAL's retry count and first wait of a remote read: the environment's, else ours."""
    return {
        RETRY: os.environ.get(RETRY) or str(HTTP_RETRIES),
        RETRY_DELAY: os.environ.get(RETRY_DELAY) or str(HTTP_RETRY_DELAY),
    }


def gdal_detail(exc: BaseException) -> str:
    """rasterio's message, or GDAL's own (naming the file) where rasterio only points
    at it ("Read failed. See previous exception for details.") or gives the warper's
    ("Chunk and warp failed", a window read through a warped VRT)."""
    cause = exc.__cause__
    if cause is not None and ("previous exception" in str(exc) or "warp failed" in str(exc)):
        return str(cause)
    return str(exc)


@contextlib.contextmanager
def reading_env(hrefs: Sequence[str]) -> Iterator[None]:
    """A rasterio environment able to read the files at ``hrefs`` (direct rasterio
    reads), retrying a remote read the server answered with a transient error (a 404 is
    not); S3 credentials only where one of them is on S3."""
    import rasterio

    if not needs_s3(hrefs):
        with rasterio.Env(**pixel_read_options()):
            yield
        return
    from rasterio.session import AWSSession

    creds = s3_credentials()
    options = {**creds.gdal_options(), **_retry_options()}
    with rasterio.Env(session=AWSSession(**creds.session_args()), **options):
        yield


def local_path(href: str) -> Path | None:
    """The file path of a local href (plain path or ``file://``), else None."""
    parsed = urlparse(href)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(href)
    return None


@dataclass(frozen=True)
class AssetHeader:
    """What an asset's file header says about its grid (first band)."""

    epsg: int | None
    #: the affine transform's six coefficients (a, b, c, d, e, f), as GDAL reads it
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int
    dtype: str
    #: the internal block (tile) shape (rows, cols)
    block: tuple[int, int] = (512, 512)


def check_assets(item: Any, keys: Sequence[str]) -> dict[str, AssetHeader]:
    """Open the header of each asset; DataSourceError naming item and asset if one fails.
    Returns each asset's header."""
    remote = any(local_path(item.assets[k].href) is None for k in keys if k in item.assets)
    if not remote or len(keys) == 1:
        return {key: _asset_header(item, key) for key in keys}
    with ThreadPoolExecutor(min(CHECK_THREADS, len(keys))) as pool:
        futures = {key: pool.submit(_asset_header, item, key) for key in keys}
        return {key: future.result() for key, future in futures.items()}


def _asset_header(item: Any, key: str) -> AssetHeader:
    """The header of ``item``'s asset ``key``, which must exist, be readable and lie in the
    CRS the item declares."""
    asset = item.assets.get(key)
    if asset is None:
        raise DataSourceError(
            f"item {item.id} has no asset '{key}' (it has {', '.join(sorted(item.assets))})"
        )
    path = local_path(asset.href)
    if path is not None and not path.is_file():
        raise DataSourceError(
            f"item {item.id}: asset '{key}' file is missing ({path}); "
            "re-create the catalog (hybrid cache) or fix the href"
        )
    header = _read_header(item, key, asset.href, path)
    declared = _declared_epsg(item, asset)
    if declared is not None and header.epsg != declared:
        raise DataSourceError(
            f"item {item.id}: asset '{key}' is in "
            f"{f'EPSG:{header.epsg}' if header.epsg else 'no CRS'} but the item declares "
            f"EPSG:{declared}; fix the item's proj:epsg/proj:code or the file"
        )
    return header


def _read_header(item: Any, key: str, href: str, path: Path | None) -> AssetHeader:
    """The header of the file at ``path`` (local) or ``href``; DataSourceError if unreadable."""
    import rasterio
    from rasterio.errors import RasterioError

    try:
        with reading_env([href]), rasterio.open(str(path or href)) as src:
            t = src.transform
            rows, cols = src.block_shapes[0]
            return AssetHeader(
                src.crs.to_epsg() if src.crs else None,
                (t.a, t.b, t.c, t.d, t.e, t.f),
                src.width,
                src.height,
                src.dtypes[0],
                (int(rows), int(cols)),
            )
    except (RasterioError, OSError) as exc:
        detail = one_line(exc)
        remedy = "re-download it (hybrid cache) or drop the item"
        if path is None and re.search(r"HTTP response code: (429|5\d\d)", detail):
            remedy = f"the server is failing (retried {_retry_options()[RETRY]} times): "
            remedy += "try again later, or drop the item"
        raise DataSourceError(
            f"item {item.id}: asset '{key}' is unreadable ({_strip_query(href)}): "
            f"{detail}; {remedy}"
        ) from exc


def _strip_query(href: str) -> str:
    """An href without its query (drops SAS tokens from messages)."""
    return href.split("?", 1)[0]


def _declared_epsg(item: Any, asset: Any) -> int | None:
    """The EPSG code the asset (or else its item) declares, if any."""
    from hybrid.stac.selection import declared_epsg, item_epsg

    epsg = declared_epsg(asset.extra_fields)
    return epsg if epsg is not None else item_epsg(item)
