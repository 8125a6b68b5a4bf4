"""Graph builders and extents shared by the tests of what a load_collection loads."""

from __future__ import annotations

BOX = {"west": 6.655, "south": 45.23, "east": 6.665, "north": 45.24}


def _node(pid: str, data: str | None = None, **args) -> dict:
    arguments = {"data": {"from_node": data}} if data else {}
    arguments.update(args)
    return {"process_id": pid, "arguments": arguments}


def _load(**args) -> dict:
    return _node("load_collection", id="SENTINEL2_L2A", spatial_extent=None,
                 temporal_extent=None, **args)  # fmt: skip


def _chain(*steps: tuple[str, dict], load: dict | None = None) -> dict:
    graph = {"load": load or _load()}
    previous = "load"
    for index, (pid, args) in enumerate(steps):
        graph[f"n{index}"] = _node(pid, previous, **args)
        previous = f"n{index}"
    graph["save"] = _node("save_result", previous, format="netCDF")
    graph["save"]["result"] = True
    return graph
