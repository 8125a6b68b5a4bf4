"""Searching a STAC API with pystac-client, the way load_collection filters scenes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hybrid.errors import DataSourceError
from hybrid.stac.source import SceneQuery, matches, parse_instant

#: retries of a failing STAC API request, with exponential backoff
MAX_RETRIES = 3


def _datetime_range(query: SceneQuery) -> str:
    start = parse_instant(query.start, what="start")
    # STAC datetime ranges are inclusive; openEO's end is exclusive
    end = parse_instant(query.end, what="end") - dt.timedelta(milliseconds=1)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return f"{start.strftime(fmt)}/{end.strftime(fmt)}"


def search_api(
    url: str, collection: str | None, query: SceneQuery, *, provider: str | None
) -> list[Any]:
    """Items of a STAC API matching ``query`` (cloud filter by CQL2 or ``query``)."""
    from pystac_client import Client
    from pystac_client.exceptions import APIError
    from pystac_client.stac_api_io import StacApiIO
    from urllib3 import Retry

    retry = Retry(
        total=MAX_RETRIES,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,
    )
    modifier = None
    if provider == "planetary-computer":
        import planetary_computer

        modifier = planetary_computer.sign_inplace
    try:
        client = Client.open(url, stac_io=StacApiIO(max_retries=retry), modifier=modifier)
        collections = [collection] if collection else _s2_collections(client)
        kwargs: dict[str, Any] = {
            "collections": collections,
            "bbox": [query.bbox.west, query.bbox.south, query.bbox.east, query.bbox.north],
            "datetime": _datetime_range(query),
        }
        if query.max_cloud_cover is not None:
            if client.conforms_to("FILTER"):
                kwargs["filter"] = {
                    "op": "<=",
                    "args": [{"property": "eo:cloud_cover"}, query.max_cloud_cover],
                }
                kwargs["filter_lang"] = "cql2-json"
            else:
                kwargs["query"] = {"eo:cloud_cover": {"lte": query.max_cloud_cover}}
        items = list(client.search(**kwargs).items())
    except (APIError, OSError) as exc:
        raise DataSourceError(
            f"STAC API {url} failed after {MAX_RETRIES} retries: {exc}; "
            "check the URL and your network, or use a local catalog (hybrid cache)"
        ) from exc
    except Exception as exc:  # requests raises its own hierarchy
        if type(exc).__module__.startswith(("requests", "urllib3")):
            raise DataSourceError(
                f"STAC API {url} is unreachable after {MAX_RETRIES} retries: {exc}; "
                "check the URL and your network, or use a local catalog (hybrid cache)"
            ) from exc
        raise
    # the API's own filtering is trusted for paging, and checked exactly here
    return [i for i in items if matches(i, query)]


def _s2_collections(client: Any) -> list[str]:
    ids = [c.id for c in client.get_collections()]
    for candidate in ("sentinel-2-l2a", "SENTINEL2_L2A", "sentinel-2-c1-l2a"):
        if candidate in ids:
            return [candidate]
    if len(ids) == 1:
        return ids
    raise DataSourceError(
        f"STAC API has no Sentinel-2 L2A collection among {', '.join(ids) or 'none'}"
    )
