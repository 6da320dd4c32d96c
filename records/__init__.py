"""Reading records from input files: the one layer under training data and archive scoring.

:mod:`records.formats` turns a file (JSONL, CSV/TSV, Parquet) into *located raw records*:
``RawRecord(line or row, fields)`` or ``RawRecord(line or row, error)`` for a record that
cannot be read (bad bytes, bad JSON, a short CSV row). It owns the extension map, decoding,
the per-format readers and the blank-record rule. :mod:`records.columns` owns the column
mapping (:class:`~records.columns.ColumnMap`) and the missing-value rule.

What a record *means* belongs to the caller: :mod:`training.data` turns raw records into
labelled examples, :mod:`scoring.readers` into archive records with targets. Adding an input
format touches :mod:`records.formats` and ``tests/records/test_formats.py`` only.

Imports: the standard library (pyarrow lazily, for Parquet); nothing of this project.
"""
