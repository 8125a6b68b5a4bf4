"""User-defined functions (openEO ``run_udf``) run in a confined worker process.

- :mod:`~hybrid.backends.local.udf.runtimes`: the runtimes offered (GET /udf_runtimes),
  and their check.
- :mod:`~hybrid.backends.local.udf.callbacks`: finds ``run_udf`` callbacks in a graph.
- :mod:`~hybrid.backends.local.udf.exchange`: chunks as files between server and worker.
- :mod:`~hybrid.backends.local.udf.isolated`: runs the worker with limits; its errors.
- :mod:`~hybrid.backends.local.udf.worker` / :mod:`~hybrid.backends.local.udf.sandbox`:
  the worker side.
"""
