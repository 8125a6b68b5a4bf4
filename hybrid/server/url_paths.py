"""Request paths: runs of slashes count as one, as on Copernicus.

Copernicus serves the API under ``/openeo/1.2/`` (openeo-python-driver
``openeo_driver/views.py`` L282, ``url_prefix='/openeo/<version>'``) with Flask, whose
werkzeug URL map merges slashes (``werkzeug/routing/map.py`` ``merge_slashes=True``;
``routing/matcher.py``: a path that matches only with ``/{2,}`` collapsed is redirected,
308, to the collapsed one). A client that joins the version URL of ``/.well-known/openeo``,
which ends in ``/``, with ``/jobs`` therefore reaches the job there; the official test
suite does (openeo-test-suite ``lib/compliance_util.py`` ``post_start_jobs``,
``get_batch_job_status``, ``delete_id_resource``). The emulator lives at ``/``, where the
same join gives ``//jobs/...``: it collapses the slashes in place instead of redirecting,
so that no status outside the API's own appears.
"""

from __future__ import annotations

import re

from starlette.types import Receive, Scope, Send

from hybrid.server.middleware import HttpMiddleware

_RUNS = re.compile(r"/{2,}")
_RAW_RUNS = re.compile(rb"/{2,}")


class MergeSlashes(HttpMiddleware):
    """ASGI middleware: ``//jobs//j-1`` is routed as ``/jobs/j-1``."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "//" in scope["path"]:
            scope = dict(scope)
            scope["path"] = _RUNS.sub("/", scope["path"])
            if isinstance(scope.get("raw_path"), bytes):
                scope["raw_path"] = _RAW_RUNS.sub(b"/", scope["raw_path"])
        await self.app(scope, receive, send)
