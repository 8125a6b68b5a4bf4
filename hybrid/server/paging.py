"""The ``limit`` query parameter of the paginated endpoints (``/jobs``, ``/jobs/{id}/logs``,
``/process_graphs``), range-checked before it reaches SQLite, and the pages of ``/jobs``
and ``/process_graphs``: a full page links to the next (``rel`` ``next``, which the API
requires on every page but the last, openapi.yaml ``links_pagination``) as Copernicus
does, with ``page`` counted from 0: the first page is ``page=0`` (or none) and links to
``page=1`` (openeo-python-driver 9e5b49b2 ``backend.py`` ``JobListing`` L497-529,
``jobregistry.py`` ``list_user_jobs`` L689-721 and its test ``test_list_user_jobs_paginated``;
openeo-geopyspark-driver ``job_registry.py`` L168-180).
``/jobs/{id}/logs`` pages with ``offset`` instead (the spec's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from hybrid.limits import MAX_PAGE_SIZE
from hybrid.server.errors import BadRequest


def page_limit(
    limit: Annotated[
        str | None, Query(description=f"Page size, 1..{MAX_PAGE_SIZE}; empty or absent = all.")
    ] = None,
) -> int | None:
    """``limit`` as an int in ``1..MAX_PAGE_SIZE``; None when absent or empty."""
    if limit is None or not limit.strip():
        return None
    try:
        value = int(limit)
    except ValueError:
        raise BadRequest(f"'limit' must be an integer, not {limit[:40]!r}.") from None
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise BadRequest(f"'limit' must be between 1 and {MAX_PAGE_SIZE}, not {limit[:40]}.")
    return value


Limit = Annotated[int | None, Depends(page_limit)]


@dataclass(frozen=True)
class Page:
    """One page of a listing: ``limit`` items (None: all) after the first ``skip``;
    ``number`` counts from 0, as Copernicus's ``page``."""

    limit: int | None
    number: int = 0

    @property
    def skip(self) -> int:
        return 0 if self.limit is None else self.number * self.limit

    @property
    def asked(self) -> int | None:
        """How many to read: one more than the page, to know whether another follows."""
        return None if self.limit is None else self.limit + 1

    def links(self, request: Request, found: int) -> list[dict[str, Any]]:
        """The ``next`` link when ``found`` (read with :attr:`asked`) fills the page."""
        if self.limit is None or found <= self.limit:
            return []
        url = request.url.include_query_params(limit=self.limit, page=self.number + 1)
        return [{"rel": "next", "href": str(url)}]


def page_of(
    limit: Limit,
    page: Annotated[
        str | None, Query(description="Page number with limit: 0 (the first), 1, ...")
    ] = None,
) -> Page:
    """The page ``limit`` and ``page`` ask for; a ``page`` that is no whole number from 0
    is refused."""
    if page is None or not page.strip():
        return Page(limit)
    if not (page.isascii() and page.strip().isdigit()) or len(page) > 9:
        raise BadRequest(f"'page' must be a whole number from 0, not {page[:40]!r}.")
    return Page(limit, int(page))


Paged = Annotated[Page, Depends(page_of)]
