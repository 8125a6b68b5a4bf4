"""openEO endpoints this backend does not offer: user files.

The spec requires authentication on all of them, so an anonymous call answers 401
(``AuthenticationRequired``) like on any protected endpoint, and an authenticated one 404
``NotFound`` as any endpoint a backend does not list in its capabilities (not 501: a
missing optional feature is not a server error). They are left out of the endpoint list.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from hybrid.server.auth import CurrentUser
from hybrid.server.errors import NotFound

router = APIRouter()

_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/files", methods=_ALL, include_in_schema=False)
@router.api_route("/files/{path:path}", methods=_ALL, include_in_schema=False)
def unsupported(request: Request, user: CurrentUser) -> None:
    raise NotFound(
        f"User files are not supported by this backend ({request.method} {request.url.path})."
    )
