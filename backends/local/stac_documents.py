"""The STAC document a load_stac names, read as Copernicus reads it: on this machine or
over http(s), a STAC API collection through an item search.

openeo-geopyspark-driver 9baf2e10 ``openeogeotrellis/load_stac.py``:

- the document is read with pystac (``_await_stac_object`` L2526-2568), over http(s)
  too; Copernicus also reads ``s3://`` from its own object storage, which does not
  exist here (refused);
- a Collection whose root catalog conforms to STAC API item search
  (``_supports_item_search`` L2371-2377: ``https://api.stacspec.org/v1.*/item-search``)
  is searched (``ItemCollection.from_stac_api`` L1485-1648: pystac-client's
  ``search(collections=..., bbox=<lon/lat extent>, datetime=[start, end],
  filter=<the properties as CQL2>)``, the answer checked again against the properties,
  ``post_query_property_filtering``); any other
  Catalog or Collection is walked (:mod:`hybrid.backends.local.stac_items`);
- the assets are read where their hrefs point, over http(s) with GDAL's curl reader.

Every request has a timeout, and a document that cannot be fetched is a 400 naming the
URL and why, in one line.
"""

from __future__ import annotations

import contextlib
import functools
import re
from typing import TYPE_CHECKING, Any

from hybrid.errors import ProcessParameterInvalid

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hybrid.backends.local.stac_items import Extent

#: seconds to connect, and to wait for each answer
TIMEOUT = (10, 60)
_ITEM_SEARCH = re.compile(r"^https://api\.stacspec\.org/v1\..*/item-search$")


class OfflineUrl(ProcessParameterInvalid):
    """A load_stac (or query_stac) of a location this machine cannot reach."""


def unreachable(url: str, why: str, process: str = "load_stac") -> OfflineUrl:
    return OfflineUrl(
        f"{process}: cannot read {url}: {why}; give the http(s) URL, file:// URL or path "
        "of a STAC Collection, Catalog or Item this machine can reach, or the results URL "
        "of a job of this server"
    )


@contextlib.contextmanager
def fetching(url: str, process: str = "load_stac") -> Iterator[None]:
    """Inside the block (the walk of a catalog's links, a search), a linked document
    that cannot be fetched or read is one :func:`unreachable` naming ``url``."""
    import pystac

    try:
        yield
    except _network_errors() as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise unreachable(url, network_reason(exc), process) from None
    except pystac.STACError as exc:  # a linked document that cannot be read
        cause = exc.__cause__ or exc.__context__
        reason = network_reason(cause if cause is not None else exc)
        raise unreachable(url, reason, process) from None


def readable_location(href: str, process: str = "load_stac") -> str:
    """Where a STAC document or asset ``href`` is read: an http(s) URL as it is, a local
    path (a ``file://`` URL unquoted); any other scheme is refused."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(href)
    if parsed.scheme in ("http", "https"):
        return href
    if parsed.scheme not in ("", "file") and len(parsed.scheme) > 1:  # not C:\...
        raise unreachable(href, f"its {parsed.scheme}:// scheme is not readable here", process)
    return unquote(parsed.path) if parsed.scheme == "file" else href


def read_stac(location: str, *, process: str = "load_stac") -> Any:
    """The pystac object at ``location`` (a path or an http(s) URL)."""
    import pystac

    try:
        return pystac.read_file(location, stac_io=_stac_io())
    except FileNotFoundError as exc:
        raise ProcessParameterInvalid(f"{process}: no STAC document at {location}") from exc
    except _network_errors() as exc:
        raise unreachable(location, network_reason(exc), process) from None
    except (ValueError, KeyError, TypeError, pystac.STACError) as exc:
        raise ProcessParameterInvalid(
            f"{process}: {location} is not a STAC Collection, Catalog or Item ({exc})"
        ) from exc


def supports_item_search(collection: Any) -> bool:
    """Whether ``collection`` is one of a STAC API offering item search."""
    root = collection.get_root()
    conforms = (root.extra_fields.get("conformsTo") or []) if root is not None else []
    return any(isinstance(c, str) and _ITEM_SEARCH.match(c) for c in conforms)


def searched_items(
    collection: Any, extent: Extent, conditions: tuple[Any, ...] = (), process: str = "load_stac"
) -> list[Any]:
    """The items of a STAC API ``collection`` its item search gives for ``extent``, in
    the order the API gives them; the property ``conditions`` go with the search as a
    CQL2-json filter when the API conforms to FILTER, as Copernicus sends them (its
    answer is checked again by the caller). An asset without ``href`` is dropped from its
    item with a warning, as Copernicus's ``_pystac_item_from_dict_lenient``
    (geopyspark-driver load_stac.py L1619, L1692-1706) does; pystac fails on it."""
    import pystac_client

    from hybrid.stac.query import cql2_filter

    root = collection.get_root().get_self_href()
    box = extent.lonlat
    bbox = None if box is None else (box.west, box.south, box.east, box.north)
    with fetching(root, process):
        client = pystac_client.Client.open(root, stac_io=_api_io())
        sent = cql2_filter(tuple(conditions)) if client.conforms_to("FILTER") else None
        found = client.search(
            collections=[collection.id],
            bbox=bbox,
            datetime=extent.search_interval(),
            filter=sent,
            filter_lang="cql2-json" if sent else None,
        )
        return [_lenient_item(item, client, process) for item in found.items_as_dicts()]


def _lenient_item(item: dict[str, Any], root: Any, process: str) -> Any:
    """The pystac Item of a search's ``item``, without its assets that have no href."""
    import pystac

    from hybrid.run_warnings import warn

    assets = item.get("assets") or {}
    bad = [key for key, asset in assets.items() if not (asset or {}).get("href")]
    if bad:
        warn(f"{process}: item {item.get('id')!r}: asset(s) {', '.join(bad)} without href dropped")
        item = dict(item, assets={k: v for k, v in assets.items() if k not in bad})
    return pystac.Item.from_dict(item, root=root, preserve_dict=False)


@functools.cache
def _stac_io() -> Any:
    """pystac's reader, fetching http(s) with requests and :data:`TIMEOUT` (pystac's own
    waits without limit); pystac-client's would turn every Collection into its client."""
    from urllib.parse import urlparse

    import requests
    from pystac.stac_io import DefaultStacIO

    class TimedStacIO(DefaultStacIO):
        def read_text_from_href(self, href: str) -> str:
            if urlparse(href).scheme not in ("http", "https"):
                return str(super().read_text_from_href(href))
            response = requests.get(href, timeout=TIMEOUT)
            response.raise_for_status()
            return response.text

    return TimedStacIO()


def _api_io() -> Any:
    """pystac-client's reader for the search, with :data:`TIMEOUT`."""
    from pystac_client.stac_api_io import StacApiIO

    return StacApiIO(timeout=TIMEOUT, max_retries=2)


def _network_errors() -> tuple[type[BaseException], ...]:
    """What fetching a document raises when it cannot be had: requests' errors (all
    OSErrors) and pystac-client's answer to an HTTP error status."""
    from pystac_client.exceptions import APIError

    return (OSError, APIError)


def network_reason(exc: BaseException) -> str:
    """Why a document could not be had, in a few words."""
    import requests

    if not isinstance(exc, requests.RequestException) and isinstance(
        exc.__context__, requests.RequestException
    ):
        exc = exc.__context__  # pystac-client wraps requests' error in an APIError
    if isinstance(exc, requests.Timeout):
        return f"no answer within {TIMEOUT[1]} s"
    if isinstance(exc, requests.ConnectionError):
        return "its host cannot be reached (no network, or a wrong address)"
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(exc, "status_code", None)
    if status:
        return f"HTTP {status}"
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
