"""RFC 3339 date-times as Python reads them: ``Z`` (or ``z``) is UTC, and a date-time
without an offset is taken as UTC, as openEO's temporal values are."""

from __future__ import annotations

import datetime as dt


def aware_datetime(text: str) -> dt.datetime:
    """``text`` (an RFC 3339 date-time or an ISO date) as an aware datetime, its own
    offset kept; ``ValueError`` when it is neither."""
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
