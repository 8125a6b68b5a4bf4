"""``hybrid serve``: a local emulation of an openEO API 1.2 backend.

Import :func:`hybrid.server.app.create_app` and
:class:`hybrid.server.settings.ServerSettings`; importing this package loads nothing heavy.
"""

from __future__ import annotations
