"""Searching a STAC API with pystac-client, the way load_collection filters scenes.

- bbox and datetime as given (the end made inclusive 1 ms before openEO's exclusive end);
- the property conditions (``eo:cloud_cover <= max`` and load_collection's
  ``properties``) as a CQL2-json ``filter`` when the API conforms to FILTER, as
  Copernicus's load_stac sends them, else with the ``query`` extension and numbers
  (never the string form ``"eo:cloud_cover<=20"``, which APIs compare as text); only
  those on properties every provider names alike: ``grid:code``, ``sat:*`` and
  wildcards are checked in-process only (:mod:`hybrid.stac.item_properties`);
- every page followed; the API's answer is checked again in-process with the same
  predicate as static catalogs (:func:`hybrid.stac.query.matches`), as Copernicus's
  ``post_query_property_filtering`` does;
- failing requests retried with exponential backoff, then one clear error line.

A URL that is a static catalog served over HTTP (no ITEM_SEARCH conformance), or a
static Collection, Item or ItemCollection there, is walked and filtered in-process.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hybrid.errors import DataSourceError, one_line
from hybrid.stac.providers import s2_collections
from hybrid.stac.query import Condition, SceneQuery, cql2_filter, matches, parse_instant

#: retries of a failing STAC API request
MAX_RETRIES = 3
#: exponential backoff factor (seconds): waits of 0, 2x, 4x ... this between retries
BACKOFF = 0.5
#: seconds to wait for one HTTP answer
TIMEOUT = 60.0
#: items per page asked of the API
PAGE_SIZE = 100
#: the ``query`` extension's operator names
_QUERY_OPERATORS = {
    "<": "lt", "<=": "lte", ">": "gt", ">=": "gte", "=": "eq", "<>": "neq", "in": "in",
}  # fmt: skip


def datetime_range(query: SceneQuery) -> str:
    """The STAC ``datetime`` interval of ``query`` (inclusive end, 1 ms before ``end``)."""
    start = parse_instant(query.start, what="start")
    end = parse_instant(query.end, what="end") - dt.timedelta(milliseconds=1)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return f"{start.strftime(fmt)[:-4]}Z/{end.strftime(fmt)[:-4]}Z"


def query_extension(conditions: tuple[Condition, ...]) -> dict[str, Any]:
    """The conditions an API is sent in the STAC ``query`` extension (for APIs without
    FILTER)."""
    out: dict[str, dict[str, Any]] = {}
    for c in conditions:
        if c.sent_to_api:
            value = list(c.value) if isinstance(c.value, tuple) else c.value
            out.setdefault(c.name, {})[_QUERY_OPERATORS[c.op]] = value
    return out


def search_api(
    url: str,
    collection: str | None,
    query: SceneQuery,
    *,
    provider: str | None = None,
    retries: int = MAX_RETRIES,
    backoff: float = BACKOFF,
    page_size: int = PAGE_SIZE,
) -> list[Any]:
    """Items of the STAC API at ``url`` matching ``query``, all pages."""
    from pystac_client import Client
    from pystac_client.errors import ClientTypeError
    from pystac_client.stac_api_io import StacApiIO

    what = f"STAC API {url}" + (f" ({provider})" if provider else "")
    try:
        stac_io = StacApiIO(max_retries=_retry(retries, backoff), timeout=TIMEOUT)
        try:
            client = Client.open(url, stac_io=stac_io)
        except ClientTypeError:  # a Collection, Item or ItemCollection: no API root
            return [i for i in _static_document(url, stac_io) if matches(i, query)]
        if not client.conforms_to("ITEM_SEARCH"):
            return _walk_static(client, collection, query)
        items = list(
            client.search(**_search_arguments(client, collection, query, page_size)).items()
        )
    except DataSourceError:
        raise
    except Exception as exc:
        # pystac-client (APIError), requests/urllib3 (connection, retries), pystac
        if not type(exc).__module__.startswith(("pystac", "requests", "urllib3", "json")):
            raise
        raise DataSourceError(
            f"{what} failed (after up to {retries} retries with backoff): {one_line(exc)}; "
            "check the URL and your network, or use a local catalog made with 'hybrid cache'"
        ) from exc
    return [i for i in items if matches(i, query)]


def _retry(retries: int, backoff: float) -> Any:
    """urllib3's retry of every request: ``retries`` times, on connection and read
    errors and on 429 and 5xx answers, waiting ``backoff`` * 2**n seconds."""
    from urllib3 import Retry

    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=True,
    )


def _search_arguments(
    client: Any, collection: str | None, query: SceneQuery, page_size: int
) -> dict[str, Any]:
    """pystac-client's ``search`` arguments for ``query``: its property conditions as a
    CQL2 filter where the API takes one, else in the query extension."""
    collections = [collection] if collection else _s2_collections(client)
    kwargs: dict[str, Any] = {
        "collections": collections,
        "bbox": [query.bbox.west, query.bbox.south, query.bbox.east, query.bbox.north],
        "datetime": datetime_range(query),
        "limit": page_size,
    }
    conditions = tuple(c for c in query.all_conditions() if c.sent_to_api)
    if conditions:
        if client.conforms_to("FILTER"):
            kwargs["filter"] = cql2_filter(conditions)
            kwargs["filter_lang"] = "cql2-json"
        else:
            kwargs["query"] = query_extension(conditions)
    return kwargs


def _walk_static(client: Any, collection: str | None, query: SceneQuery) -> list[Any]:
    """A static catalog served over HTTP: every item, filtered in-process."""
    root = client
    if collection:
        found = client.get_child(collection)
        root = found if found is not None else client
    return [i for i in root.get_items(recursive=True) if matches(i, query)]


def _static_document(url: str, stac_io: Any) -> list[Any]:
    """The items of a static Collection, Item or ItemCollection served over HTTP (what
    pystac-client cannot open as a client), as from a file (:mod:`hybrid.stac.documents`)."""
    import json

    from pystac.utils import make_absolute_href

    from hybrid.stac.documents import document_items

    items = document_items(json.loads(stac_io.read_text(url)), url)
    for item in items:  # relative asset hrefs: from the item's own URL
        base = item.get_self_href() or url
        for asset in item.assets.values():
            if "://" not in asset.href:
                asset.href = make_absolute_href(asset.href, base)
    return items


def _s2_collections(client: Any) -> list[str]:
    ids = [c.id for c in client.get_collections()]
    for candidate in s2_collections():
        if candidate in ids:
            return [candidate]
    if len(ids) == 1:
        return ids
    raise DataSourceError(
        f"STAC API {client.self_href} has no Sentinel-2 L2A collection among "
        f"{', '.join(ids) or 'none'}; expected one of {', '.join(s2_collections())}"
    )
