"""Temporal labels in JSON results (:class:`hybrid.io.json_text.DateLabel`): the RFC 3339
text inside a graph, Copernicus's two writings outside (batch ``isoformat()``, synchronous
HTTP date), also after a copy or a pickle (dask passes values between processes)."""

from __future__ import annotations

import copy
import datetime as dt
import pickle

from hybrid.io.json_text import DateLabel, dumps, synchronous_answer


def test_a_date_label_is_written_by_the_path_and_survives_copies() -> None:
    label = DateLabel(dt.datetime(2023, 6, 2))
    assert label == "2023-06-02T00:00:00Z"
    for kept in (copy.copy(label), copy.deepcopy(label), pickle.loads(pickle.dumps(label))):
        assert isinstance(kept, DateLabel) and kept.instant == label.instant
        assert dumps([kept, "2023-06-02T00:00:00Z"]) == (
            '["2023-06-02T00:00:00", "2023-06-02T00:00:00Z"]'
        )
        with synchronous_answer():
            assert dumps({"t": kept}) == '{"t": "Fri, 02 Jun 2023 00:00:00 GMT"}'
    assert dumps(label) == '"2023-06-02T00:00:00"'  # the context is left as it was
