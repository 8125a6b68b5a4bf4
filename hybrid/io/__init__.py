"""Result files: the one place that knows the output formats.

- :mod:`hybrid.io.format` - the :class:`~hybrid.io.format.Format` record (name, aliases,
  suffix, media type, one file or one per label, writers and readers per cube kind);
- :mod:`hybrid.io.registry` - the table of formats and the look-ups every consumer uses
  (``save_result``, the remote normaliser, the CLI, the emulator's ``/file_formats`` and
  download media types, ``hybrid compare``, summary and plots);
- one module per format (:mod:`hybrid.io.netcdf`, :mod:`hybrid.io.gtiff`,
  :mod:`hybrid.io.json_text`, :mod:`hybrid.io.csv_text`, :mod:`hybrid.io.parquet`), each
  defining its ``FORMAT`` and its layouts (what vector cubes share: :mod:`hybrid.io.vector`);
- :mod:`hybrid.io.reader` (:func:`~hybrid.io.reader.open_result`), :mod:`hybrid.io.cube`
  (the normalised cube every reader returns) and :mod:`hybrid.io.provenance` (the one
  ``hybrid_`` attribute prefix).

Adding a format: write ``hybrid/io/<name>.py`` with its writer(s) and ``FORMAT``, and add
``<name>.FORMAT`` to :data:`hybrid.io.registry.FORMATS`.
"""
