"""User-defined functions (openEO ``run_udf``) run in a confined worker process.

- :mod:`~backends.local.udf.runtimes`: the runtimes offered (GET /udf_runtimes) and their check.
- :mod:`~backends.local.udf.callbacks`: finds ``run_udf`` callbacks in a graph.
- :mod:`~backends.local.udf.exchange`: chunks as files between server and worker.
- :mod:`~backends.local.udf.isolated`: runs the worker with limits; its errors.
- :mod:`~backends.local.udf.worker` / :mod:`~backends.local.udf.sandbox`: the worker side.
"""
