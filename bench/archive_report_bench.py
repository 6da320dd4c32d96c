"""`stance report` on synthetic scored archives: wall time and peak RSS, with a baseline.

Usage:
    python bench/archive_report_bench.py [--rows 1000000] [--formats jsonl,parquet]
        [--keep DIR] [--html-out DIR]

Writes N synthetic rows shaped like `stance score` output (id, target, speaker, label,
probabilities, evidence with a 90-200 character sentence, model) plus a `date` field over
two years and an errors file with 1% of the records, then runs `stance report --by target
--time-field date --freq M` on each format in a fresh process, timing it and reading its
peak RSS (VmHWM) from /proc. Baseline in the same run: a plain-Python pass over the
JSONL (json.loads per line, Counter per (target, label)), which computes only the counts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("negative", "neutral", "positive")
# Evidence sentences are random draws from these words (length 14-29 words).
WORDS = (
    "the",
    "minister",
    "said",
    "that",
    "the",
    "agreement",
    "was",
    "an",
    "important",
    "step",
    "for",
    "the",
    "region",
    "while",
    "talks",
    "would",
    "continue",
    "next",
    "week",
    "despite",
    "criticism",
    "from",
    "opposition",
    "parties",
)
BASELINE = """
import json, sys
from collections import Counter
counts = Counter()
with open(sys.argv[1], encoding="utf-8") as handle:
    for line in handle:
        row = json.loads(line)
        counts[(row["target"], row["label"])] += 1
print(len(counts))
"""


def synthetic_columns(start: int, n: int, seed: int) -> dict[str, list]:
    """Columns of n rows: zipf-distributed targets and speakers, label-dependent confidence."""
    rng = np.random.default_rng(seed)
    targets = np.minimum(rng.zipf(1.3, n), 400) - 1
    speakers = np.minimum(rng.zipf(1.5, n), 80) - 1
    # Each target leans one way, so the bars differ between groups.
    lean = rng.dirichlet((1.0, 1.0, 1.0), size=400)[targets]
    label_idx = (rng.random(n)[:, None] > np.cumsum(lean, axis=1)).sum(axis=1).clip(0, 2)
    top = rng.uniform(0.4, 0.98, n)
    rest = rng.dirichlet((1.0, 1.0), size=n) * (1 - top)[:, None]
    probs = np.empty((n, 3))
    for i in range(3):
        probs[:, i] = np.where(label_idx == i, top, 0)
    others = [[1, 2], [0, 2], [0, 1]]
    for i in range(3):
        mask = label_idx == i
        probs[mask, others[i][0]] = rest[mask, 0]
        probs[mask, others[i][1]] = rest[mask, 1]
    days = rng.integers(0, 730, n)
    dates = (np.datetime64("2023-01-01") + days).astype(str)
    lengths = rng.integers(14, 30, n)
    word_idx = rng.integers(0, len(WORDS), (n, 30))
    return {
        "id": [f"rec-{start + i:08d}" for i in range(n)],
        "target": [f"Target {t:03d}" for t in targets],
        "speaker": [None if s == 0 else f"Speaker {s:02d}" for s in speakers],
        "label": [LABELS[k] for k in label_idx],
        "probabilities": probs.round(4).tolist(),
        "text": [" ".join(WORDS[w] for w in word_idx[i, : lengths[i]]) + "." for i in range(n)],
        "date": dates.tolist(),
    }


def rows(columns: dict[str, list]) -> list[dict]:
    """Scored rows (the shape `stance score` writes) from synthetic columns."""
    out = []
    for i, text in enumerate(columns["text"]):
        probs = dict(zip(LABELS, columns["probabilities"][i], strict=True))
        out.append(
            {
                "id": columns["id"][i],
                "target": columns["target"][i],
                "speaker": columns["speaker"][i],
                "label": columns["label"][i],
                "probabilities": probs,
                "evidence": [
                    {
                        "text": text,
                        "start": 0,
                        "end": len(text),
                        "probabilities": probs,
                        "weight": 1.0,
                    }
                ],
                "model": "stance:synthetic",
                "date": columns["date"][i],
            }
        )
    return out


def write_archive(
    folder: Path, n: int, formats: list[str], chunk: int = 100_000
) -> dict[str, Path]:
    """Write the synthetic archive in each format (chunk by chunk: bounded memory here too)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = {fmt: folder / f"scored.{fmt}" for fmt in formats}
    jsonl = paths["jsonl"].open("w", encoding="utf-8") if "jsonl" in paths else None
    writer = None
    for k, start in enumerate(range(0, n, chunk)):
        batch = rows(synthetic_columns(start, min(chunk, n - start), seed=k))
        if jsonl is not None:
            jsonl.write("".join(json.dumps(r) + "\n" for r in batch))
        if "parquet" in paths:
            table = pa.Table.from_pylist(batch)
            if writer is None:
                writer = pq.ParquetWriter(paths["parquet"], table.schema)
            writer.write_table(table)
    if jsonl is not None:
        jsonl.close()
    if writer is not None:
        writer.close()
    for path in paths.values():
        with path.with_name(path.name + ".errors.jsonl").open("w", encoding="utf-8") as handle:
            for i in range(0, n, 100):
                handle.write(json.dumps({"index": i, "id": f"bad-{i}", "reason": "text: empty"}))
                handle.write("\n")
    return paths


def _high_water_mib(pid: int) -> float | None:
    """VmHWM (peak RSS of the process image, reset by exec) from /proc, in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB) of one child process; its last stderr line.

    The peak is the kernel's high-water mark of the child's own image, polled every 20 ms
    (getrusage would also count the parent's memory copied by fork before exec).
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _high_water_mib(proc.pid) or 0.0)
        time.sleep(0.02)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return wall, peak, err.strip().splitlines()[-1] if err.strip() else ""


def main() -> None:
    """Generate, report, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="jsonl,parquet")
    parser.add_argument("--keep", type=Path, help="write the archive here (default: temp)")
    parser.add_argument("--html-out", type=Path, help="keep the reports in this folder")
    opts = parser.parse_args()
    formats = opts.formats.split(",")
    folder = opts.keep or Path(tempfile.mkdtemp(prefix="stance-report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    paths = write_archive(folder, opts.rows, formats)
    print(f"generated {opts.rows:,} rows in {time.perf_counter() - started:.1f} s")
    for fmt, path in paths.items():
        print(f"  {fmt:8s} {path.stat().st_size / 2**20:8.1f} MiB  {path}")
    out_dir = opts.html_out or folder
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"\n{'run':44s} {'wall s':>8s} {'peak RSS MiB':>13s}")
    if "jsonl" in paths:
        wall, rss, _ = run_measured([sys.executable, "-c", BASELINE, str(paths["jsonl"])])
        print(f"{'baseline: json.loads + Counter (jsonl)':44s} {wall:8.1f} {rss:13.0f}")
    wall, rss, _ = run_measured([sys.executable, "-m", "cli", "--help"])
    print(f"{'reference: stance --help (imports only)':44s} {wall:8.1f} {rss:13.0f}")
    for fmt, path in paths.items():
        html = out_dir / f"report-{fmt}.html"
        cmd = [sys.executable, "-m", "cli", "report", str(path), str(html)]
        cmd += ["--by", "target", "--time-field", "date", "--freq", "M"]
        wall, rss, last = run_measured(cmd)
        print(f"{'stance report (' + fmt + ')':44s} {wall:8.1f} {rss:13.0f}   {last}")


if __name__ == "__main__":
    main()
