"""Scoring news archives: streaming, resumable, exactly-once; in-process, over HTTP or on Ray.

``run_scoring`` reads an archive (see :mod:`scoring.readers`), scores every (record, target)
and writes one output row per pair, or one error row per bad record, to OUTPUT (JSONL or
Parquet) and ``OUTPUT.errors.jsonl``.

With ``--analyze-articles`` (``ReadOptions.analyze_articles``) a record without a target is
analysed as a whole article (:func:`model.article.analyze_article`, targets found in the text):
one row per (speaker, target) stance found, in the same columns, possibly none at all. Parts
count records, not rows, so an article without stances is still committed exactly once.

With ``--keep-fields date,source`` (``ReadOptions.keep_fields``) every output row also carries
those fields of its input record, after the output columns (null where a record lacks one;
JSON types in JSONL, strings in Parquet: :func:`scoring.workfolder.kept_text`).

Exactly-once, whatever kills the run (SIGKILL included):

* Records are numbered in input order; part ``k`` covers records ``[k*N, (k+1)*N)``.
* Work goes to ``OUTPUT.parts/``. A part is committed by writing its rows, its error rows
  and finally a small ``part-K.done.json`` marker, each to a temporary name, fsynced, then
  atomically renamed. Only the marker makes a part count: a half-written part is redone.
* ``manifest.json`` records the arguments that decide the output (input fingerprint, field
  mapping, limits, part size, model or service). A restart with the same arguments skips
  committed parts (their records are counted, not decoded) and scores the rest; different
  arguments are refused with the differences listed.
* At the end the parts are concatenated in order into temporary files renamed onto
  ``OUTPUT.errors.jsonl`` and OUTPUT, and the work folder is removed. Until then OUTPUT does
  not exist (or still holds the previous complete result), so a partial output is never
  visible as complete; a run killed during this step redoes it from the parts.

Memory stays flat: records stream from the reader, at most one part of results (plus what an
engine has in flight) is held, and the final files are written part by part.

Engines (all produce the same rows; they differ in where the model runs):

* ``local``: in this process; chunks of ``batch_size`` queries go to
  ``StanceClassifier.predict``, which length-buckets all their windows.
* ``http``: batches are POSTed to a running service's ``/predict_batch``; 503/429/502/504 and
  connection errors are retried with exponential backoff. Requests are pure predictions and a
  part is committed only after all of its batches succeeded, so retries never duplicate rows.
* ``ray``: Ray Data; see :func:`scoring.ray_engine.score_with_ray`.

Modules, in the order a run uses them: :mod:`scoring.options` (what a run is asked to do),
:mod:`scoring.archive` (options for reading, the files and records of an archive),
:mod:`scoring.readers` (archive files -> records), :mod:`scoring.rows` (records -> jobs and
output rows), :mod:`scoring.engines` (local, http), :mod:`scoring.ray_engine` (ray),
:mod:`scoring.workfolder` (the commit protocol) and :mod:`scoring.run` (the loop); the command
is :mod:`scoring.cli`. This package is a client of :mod:`model` (and, over HTTP, of the
service): it never imports :mod:`service` or :mod:`training` and is not part of the bento.
"""
