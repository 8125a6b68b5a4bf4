"""The ``limit`` query parameter of the paginated endpoints (``/jobs``, ``/jobs/{id}/logs``,
``/process_graphs``), range-checked before it reaches SQLite."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from hybrid.server.errors import BadRequest

#: the largest page a client may ask for; larger values are refused with 400
MAX_LIMIT = 1000


def page_limit(
    limit: Annotated[
        str | None, Query(description=f"Page size, 1..{MAX_LIMIT}; empty or absent = all.")
    ] = None,
) -> int | None:
    """``limit`` as an int in ``1..MAX_LIMIT``; None when absent or empty."""
    if limit is None or not limit.strip():
        return None
    try:
        value = int(limit)
    except ValueError:
        raise BadRequest(f"'limit' must be an integer, not {limit[:40]!r}.") from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"'limit' must be between 1 and {MAX_LIMIT}, not {limit[:40]}.")
    return value


Limit = Annotated[int | None, Depends(page_limit)]
