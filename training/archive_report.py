"""`stance report`: one self-contained HTML report of a scored archive.

Reads the output of `stance score` (JSONL or Parquet: one row per (record, target[,
speaker]) with ``label``, ``probabilities`` and ``evidence``) in record batches with pyarrow
and aggregates per batch, so memory is bounded by the batch size and the number of distinct
groups, never by the number of rows. Two passes over the file:

1. counts per (group, label), summed confidence, the label distribution;
2. for the top groups only (most rows, at least ``min_mentions``): counts per (period,
   group, label) when a time field is given, and the most confident evidence quotes.

A row's confidence is the probability of its label. Errors are counted from the scorer's
errors file beside the input (``SCORED.errors.jsonl``) when it exists.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --by: one to three fields joined by commas: target, speaker, or any field the scored rows
# carry (a source kept by `stance score --keep-fields source`), e.g. "source,target".
MAX_GROUP_FIELDS = 3
FREQUENCIES = {"W": "week", "M": "month"}
AUTHOR = "(author)"
NO_TARGET = "(none)"
# Joins the parts of a speaker,target key; a control character cannot occur in a name.
KEY_SEP = "\x1f"
# The scorer (scoring/workfolder.py, WorkFolder) writes failed records to OUTPUT + this suffix.
ERRORS_SUFFIX = ".errors.jsonl"
BATCH_ROWS = 65_536
JSONL_BLOCK_BYTES = 8 << 20
QUOTES_PER_GROUP = 3


class ReportError(ValueError):
    """The input cannot be reported on; the message says what was found and how to fix it."""


@dataclass(frozen=True)
class ReportOptions:
    """What to group by and which groups to show."""

    by: str = "target"
    time_field: str | None = None
    freq: str = "M"
    min_mentions: int = 5
    top: int = 15
    time_groups: int = 6

    @property
    def group_fields(self) -> tuple[str, ...]:
        """The fields of --by, in order."""
        return tuple(name.strip() for name in self.by.split(","))

    def validate(self) -> None:
        """Raise ReportError naming the bad option."""
        fields = self.group_fields
        if not all(fields) or len(fields) > MAX_GROUP_FIELDS or len(set(fields)) < len(fields):
            raise ReportError(
                f"--by {self.by!r}: name 1 to {MAX_GROUP_FIELDS} different fields of the scored "
                "rows, separated by commas: target, speaker, speaker,target, or a field kept "
                "with `stance score --keep-fields` (e.g. source,target)"
            )
        if {"label", "probabilities", "evidence"} & set(fields):
            raise ReportError(f"--by {self.by!r}: label, probabilities and evidence are results")
        if self.freq not in FREQUENCIES:
            raise ReportError(f"--freq {self.freq!r}: use W (weeks) or M (months)")
        for name in ("min_mentions", "top", "time_groups"):
            if getattr(self, name) < 1:
                raise ReportError(f"--{name.replace('_', '-')} must be >= 1")


@dataclass(frozen=True)
class Quote:
    """One evidence sentence of a row, for the 'most confident quotes' lists."""

    confidence: float
    record_id: str
    label: str
    text: str


@dataclass
class ArchiveSummary:
    """Everything the HTML report shows, aggregated from the scored rows."""

    source: str
    labels: tuple[str, ...]
    options: ReportOptions
    rows: int = 0
    label_counts: Counter[str] = field(default_factory=Counter)
    label_confidence: defaultdict[str, float] = field(
        default_factory=lambda: defaultdict(float)
    )  # summed, per label
    groups: dict[str, Counter[str]] = field(default_factory=dict)  # group -> label -> rows
    group_confidence: defaultdict[str, float] = field(
        default_factory=lambda: defaultdict(float)
    )  # summed, per group
    top_groups: list[str] = field(default_factory=list)
    series: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)  # g -> period
    undated_rows: int = 0
    quotes: dict[str, list[Quote]] = field(default_factory=dict)
    error_rows: int | None = None  # None: no errors file
    error_records: int | None = None
    errors_path: str | None = None

    def mean_confidence(self, group: str | None = None) -> float:
        """Mean probability of the assigned label, over all rows or one group's."""
        if group is None:
            return sum(self.label_confidence.values()) / self.rows if self.rows else 0.0
        n = sum(self.groups[group].values())
        return self.group_confidence[group] / n if n else 0.0

    def eligible_groups(self) -> int:
        """How many groups have at least min_mentions rows."""
        return sum(1 for c in self.groups.values() if c.total() >= self.options.min_mentions)


# ------------------------------------------------------------------------------- reading
def _labels_and_format(path: Path) -> tuple[str, tuple[str, ...], set[str]]:
    """'jsonl' or 'parquet', the label names (the probabilities' keys, in order) and the
    field names (the Parquet schema's, or the first JSONL row's)."""
    import pyarrow.parquet as pq

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            schema = pq.read_schema(path)
        except Exception as err:  # pyarrow raises several types for a broken file
            raise ReportError(f"{path}: not a readable Parquet file ({err})") from None
        if "probabilities" not in schema.names:
            raise ReportError(f"{path}: no 'probabilities' column; is it `stance score` output?")
        names = set(schema.names)
        return "parquet", tuple(f.name for f in schema.field("probabilities").type), names
    if suffix not in (".jsonl", ".json", ".ndjson"):
        raise ReportError(f"{path}: unknown format {suffix!r}; give a .jsonl or .parquet file")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ReportError(f"{path}:{number}: not JSON ({err})") from None
                probs = first.get("probabilities") if isinstance(first, dict) else None
                if not isinstance(probs, dict) or not probs:
                    raise ReportError(
                        f"{path}:{number}: no 'probabilities' object; is it `stance score` output?"
                    )
                return "jsonl", tuple(probs), set(first)
    raise ReportError(f"{path}: is empty; nothing to report")


def _batches(
    path: Path, fmt: str, labels: tuple[str, ...], columns: list[str], time_field: str | None
) -> Iterator[Any]:
    """pyarrow RecordBatches of ``columns`` (+ the time field), one bounded batch at a time."""
    import pyarrow as pa

    wanted = [*columns, *([time_field] if time_field else [])]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        # One row group at a time: a reader over all of them reads ahead and its memory
        # grows with the file (measured: pool peak 62 MiB at 2 row groups, 112 MiB at 10).
        for group in range(parquet.num_row_groups):
            yield from parquet.iter_batches(
                batch_size=BATCH_ROWS, row_groups=[group], columns=wanted, use_threads=False
            )
        return
    import pyarrow.json as pj

    probs = pa.struct([pa.field(label, pa.float64()) for label in labels])
    types = {
        "id": pa.string(),
        "target": pa.string(),
        "speaker": pa.string(),
        "label": pa.string(),
        "probabilities": probs,
        "evidence": pa.list_(pa.struct([pa.field("text", pa.string())])),
    }
    # Other fields (--by a kept field) are read as strings, as Parquet output stores them.
    schema = pa.schema([pa.field(c, types.get(c, pa.string())) for c in columns])
    if time_field:
        schema = schema.append(pa.field(time_field, pa.string()))
    parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    # One bounded block at a time: pyarrow's streaming JSON reader keeps more of a large
    # file in memory the longer it runs (measured: pool peak 83 MiB at 200k rows, 266 MiB
    # at 1M), so blocks are cut at line ends here and parsed one by one.
    for offset, block in _line_blocks(path, JSONL_BLOCK_BYTES):
        try:
            table = pj.read_json(
                pa.BufferReader(block),
                read_options=pj.ReadOptions(block_size=len(block) + 1, use_threads=False),
                parse_options=parse,
            )
        except pa.ArrowInvalid as err:
            raise ReportError(
                f"{path}: in the lines from byte {offset}: {err}; every row needs the same "
                "field types (label and ids as strings, probabilities as an object of numbers"
                + (f", {time_field} as an ISO date string" if time_field else "")
                + ")"
            ) from None
        yield from table.to_batches()


def _line_blocks(path: Path, size: int) -> Iterator[tuple[int, bytes]]:
    """(byte offset, bytes) blocks of about ``size`` bytes, each ending at a line end."""
    offset = 0
    rest = b""
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # one line longer than size: keep reading
                rest = data
                continue
            if data[:cut].strip():
                yield offset, data[:cut]
            offset += cut
            rest = data[cut:]
    if rest.strip():
        yield offset, rest


def _hint(column: str, options: ReportOptions) -> str:
    if column == options.time_field:
        return (
            "pass --time-field with a column of the scored file, or copy the date into the "
            f"scored rows with `stance score --keep-fields {options.time_field}`"
        )
    return "is it `stance score` output?"


def _keyed(batch: Any, fields: tuple[str, ...], labels: tuple[str, ...]) -> Any:
    """A pyarrow Table of the batch with 'group' and 'confidence' columns added."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.Table.from_batches([batch])
    parts = []
    for name in fields:
        filler = AUTHOR if name == "speaker" else NO_TARGET
        parts.append(pc.fill_null(table.column(name), filler))
    group = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, KEY_SEP)
    probs = table.column("probabilities")
    # The label is the argmax, so its probability is the largest one; (rows,) float64.
    confidence = pc.max_element_wise(*[pc.struct_field(probs, [i]) for i in range(len(labels))])
    return table.append_column("group", group).append_column("confidence", confidence)


def _periods(column: Any, freq: str) -> Any:
    """Start date of each row's week (Monday) or month, as 'YYYY-MM-DD' strings; null if
    the value is missing or not a date."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        day = pc.utf8_slice_codeunits(column, 0, 10)  # '2024-03-05T10:00Z' -> '2024-03-05'
        stamps = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    elif pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        stamps = pc.cast(column, pa.timestamp("s"))
    else:
        raise ReportError(
            f"time field has type {column.type}; it must hold dates or ISO date strings"
        )
    floored = pc.floor_temporal(stamps, unit=FREQUENCIES[freq], week_starts_monday=True)
    return pc.strftime(floored, format="%Y-%m-%d")


# ----------------------------------------------------------------------------- aggregating
def summarize(path: Path, options: ReportOptions) -> ArchiveSummary:
    """Aggregate a scored file (two streaming passes); see the module docstring."""
    options.validate()
    if not path.is_file():
        raise ReportError(f"{path}: no such file; give the output of `stance score`")
    fmt, labels, names = _labels_and_format(path)
    timed = [options.time_field] if options.time_field else []
    for name in ("label", "probabilities", *options.group_fields, *timed):
        if name not in names:
            where = "the first row" if fmt == "jsonl" else "the schema"
            raise ReportError(f"{path}: no field {name!r} in {where}; {_hint(name, options)}")
    summary = ArchiveSummary(source=str(path), labels=labels, options=options)
    base = ["label", "probabilities", *options.group_fields]
    for batch in _batches(path, fmt, labels, base, None):
        table = _keyed(batch, options.group_fields, labels)
        summary.rows += table.num_rows
        counts = table.group_by(["group", "label"]).aggregate(
            [("confidence", "sum"), ("confidence", "count")]
        )
        for row in counts.to_pylist():
            label = row["label"]
            if label not in labels:
                raise ReportError(
                    f"{path}: label {label!r} is not one of the probabilities' keys {list(labels)}"
                )
            n, total = row["confidence_count"], row["confidence_sum"] or 0.0
            summary.groups.setdefault(row["group"], Counter())[label] += n
            summary.group_confidence[row["group"]] += total
            summary.label_counts[label] += n
            summary.label_confidence[label] += total
    ranked = sorted(
        (g for g, c in summary.groups.items() if c.total() >= options.min_mentions),
        key=lambda g: (-summary.groups[g].total(), g),
    )
    summary.top_groups = ranked[: options.top]
    if summary.top_groups:
        _second_pass(path, fmt, summary)
    _count_errors(path, summary)
    return summary


def _second_pass(path: Path, fmt: str, summary: ArchiveSummary) -> None:
    """Time series and most confident quotes for the top groups only."""
    import pyarrow as pa
    import pyarrow.compute as pc

    options = summary.options
    columns = ["id", "label", "probabilities", "evidence", *options.group_fields]
    top = pa.array(summary.top_groups, pa.string())
    timed = set(summary.top_groups[: options.time_groups])
    heaps: dict[str, list[tuple[float, int, Quote]]] = {g: [] for g in summary.top_groups}
    seq = 0
    for batch in _batches(path, fmt, summary.labels, columns, options.time_field):
        table = _keyed(batch, options.group_fields, summary.labels)
        table = table.filter(pc.is_in(table.column("group"), value_set=top))
        if table.num_rows == 0:
            continue
        if options.time_field:
            period = _periods(table.column(options.time_field), options.freq)
            summary.undated_rows += period.null_count
            dated = table.append_column("period", period).filter(pc.is_valid(period))
            counts = dated.group_by(["group", "period", "label"]).aggregate([("label", "count")])
            for row in counts.to_pylist():
                if row["group"] in timed:
                    by_period = summary.series.setdefault(row["group"], {})
                    by_period.setdefault(row["period"], Counter())[row["label"]] += row[
                        "label_count"
                    ]
        quoted = table.filter(pc.greater(pc.list_value_length(table.column("evidence")), 0))
        for group in summary.top_groups:
            mine = quoted.filter(pc.equal(quoted.column("group"), group))
            if mine.num_rows == 0:
                continue
            best = pc.select_k_unstable(
                mine, k=QUOTES_PER_GROUP, sort_keys=[("confidence", "descending")]
            )
            for row in (
                mine.take(best).select(["id", "label", "confidence", "evidence"]).to_pylist()
            ):
                seq += 1
                quote = Quote(
                    row["confidence"], str(row["id"]), row["label"], row["evidence"][0]["text"]
                )
                # Min-heap of the best QUOTES_PER_GROUP; seq breaks ties by file order.
                entry = (quote.confidence, -seq, quote)
                if len(heaps[group]) < QUOTES_PER_GROUP:
                    heapq.heappush(heaps[group], entry)
                else:
                    heapq.heappushpop(heaps[group], entry)
    summary.quotes = {
        g: [q for _, _, q in sorted(h, key=lambda e: (-e[0], -e[1]))] for g, h in heaps.items()
    }


def _count_errors(path: Path, summary: ArchiveSummary) -> None:
    """Error rows and distinct failed records (by 'index', else 'id') in the errors file."""
    errors = path.with_name(path.name + ERRORS_SUFFIX)
    if not errors.is_file():
        return
    rows = 0
    records: set[Any] = set()
    with errors.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            rows += 1
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                records.add(row.get("index", row.get("id")))
    summary.error_rows, summary.error_records, summary.errors_path = rows, len(records), str(errors)
