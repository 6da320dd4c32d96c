"""Serving benchmark: in-process vs HTTP batch throughput, lone-client latency around a burst,
and peak RSS of the serving process, all in one run.

Usage:
    STANCE_NEWSMTSC_DIR=../shared/data/newsmtsc python bench/serve_bench.py --model FOLDER

The model folder is registered in a throw-away BentoML store, served with `bentoml serve` on
127.0.0.1, and measured with NewsMTSC dev_rw + dev_mt sentences (their real lengths).
Prints a table; targets: HTTP batch >= 85% of in-process, p99 after burst <= 1.5x before,
peak RSS <= 1 GiB.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from server import free_port, register_folder, wait_ready  # noqa: E402 - after the path set-up


def dev_queries(limit: int) -> list[dict[str, object]]:
    """(text, target) items from NewsMTSC dev files, read at run time (never copied)."""
    folder = Path(os.environ.get("STANCE_NEWSMTSC_DIR", ROOT.parent / "shared/data/newsmtsc"))
    items: list[dict[str, object]] = []
    for name in ("dev_rw.jsonl", "dev_mt.jsonl"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for t in record["targets"]:
                items.append({"text": record["sentence_normalized"], "target": t["mention"]})
    return items[:limit]


class RssSampler(threading.Thread):
    """Samples the summed RSS of a process tree every 50 ms; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs if p.is_running())
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.05)


def lone_latencies(url: str, items: list[dict[str, object]], n: int) -> list[float]:
    out = []
    with httpx.Client(timeout=60) as client:
        for i in range(n):
            started = time.perf_counter()
            r = client.post(f"{url}/predict", json=items[i % len(items)])
            r.raise_for_status()
            out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="trained model folder")
    parser.add_argument("--items", type=int, default=785, help="dev items to score")
    parser.add_argument("--batch", type=int, default=32, help="items per /predict_batch call")
    parser.add_argument("--lone", type=int, default=60, help="lone-client requests per phase")
    parser.add_argument("--clients", type=int, default=2, help="concurrent /predict_batch clients")
    parser.add_argument("--rounds", type=int, default=3, help="alternating throughput rounds")
    opts = parser.parse_args()
    items = dev_queries(opts.items)

    from model import StanceClassifier, StanceQuery

    # (1) In-process model, same batch size as the HTTP calls; measured below in rounds
    # alternating with HTTP so machine drift hits both sides alike.
    # Same backend and parallel mode as the server below (its defaults unless set in the
    # environment), so the ratio measures HTTP, not a different way of running the model.
    parallel = os.environ.get("STANCE_PARALLEL", "ops")
    backend = os.environ.get("STANCE_BACKEND", "auto")
    classifier = StanceClassifier.load(opts.model, backend=backend, parallel=parallel)
    print(f"backend {classifier.backend.name}, parallel {parallel}", file=sys.stderr)
    queries = [StanceQuery(text=str(i["text"]), target=str(i["target"])) for i in items]
    classifier.predict(queries[:32])  # warm-up

    def inproc_rate() -> float:
        started = time.perf_counter()
        for k in range(0, len(queries), opts.batch):
            classifier.predict(queries[k : k + opts.batch])
        return len(queries) / (time.perf_counter() - started)

    home = tempfile.mkdtemp(prefix="stance-bench-bentoml-")
    env = {**os.environ, "BENTOML_HOME": home, "BENTOML_DO_NOT_TRACK": "true"}
    env["STANCE_MODEL_TAG"] = register_folder(Path(opts.model), home)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(Path(home) / "serve.log", "wb")  # noqa: SIM115 - closed at the end
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bentoml",
            "serve",
            "service.service:StanceService",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sampler = RssSampler(server.pid)
    sampler.start()
    try:
        wait_ready(server, url, Path(home) / "serve.log")
        lone_latencies(url, items, 5)  # warm-up

        # (2) HTTP batch throughput: concurrent clients (default 2) so the network and JSON
        # time of one overlaps the model time of another, as a real batch client would.
        batches = [items[k : k + opts.batch] for k in range(0, len(items), opts.batch)]

        def send(batch: list[dict[str, object]]) -> int:
            r = httpx.post(f"{url}/predict_batch", json={"items": batch}, timeout=300)
            r.raise_for_status()
            return len(r.json()["results"])

        def http_rate_once() -> float:
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(max_workers=opts.clients) as pool:
                done = sum(pool.map(send, batches))
            return done / (time.perf_counter() - started)

        ratios, inprocs, https = [], [], []
        for _ in range(opts.rounds):
            inprocs.append(inproc_rate())
            https.append(http_rate_once())
            ratios.append(https[-1] / inprocs[-1])
        inproc, http_rate = statistics.median(inprocs), statistics.median(https)

        # (3) Lone client before and after a 64-client burst.
        before = lone_latencies(url, items, opts.lone)

        def burst_client(c: int) -> None:
            with httpx.Client(timeout=300) as client:
                for j in range(4):
                    client.post(f"{url}/predict", json=items[(c * 4 + j) % len(items)])

        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(burst_client, range(64)))
        after = lone_latencies(url, items, opts.lone)
    finally:
        sampler.stop.set()
        server.terminate()
        server.wait(timeout=60)
        log.close()
    rows = [
        ("in-process predict, items/s", f"{inproc:.1f}"),
        ("HTTP /predict_batch, items/s", f"{http_rate:.1f}"),
        (
            f"HTTP / in-process, median of {opts.rounds} alternating rounds",
            f"{statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)};"
            " target >= 0.85)",
        ),
        ("/predict p50 before burst, ms", f"{statistics.median(before):.1f}"),
        ("/predict p99 before burst, ms", f"{pct(before, 0.99):.1f}"),
        ("/predict p50 after burst, ms", f"{statistics.median(after):.1f}"),
        ("/predict p99 after burst, ms", f"{pct(after, 0.99):.1f}"),
        ("p99 after / before", f"{pct(after, 0.99) / pct(before, 0.99):.3f} (target <= 1.5)"),
        ("peak RSS of serving processes, MiB", f"{sampler.peak / 2**20:.0f} (target <= 1024)"),
    ]
    print(f"\n{len(items)} NewsMTSC dev items, batch {opts.batch}, {opts.clients} batch clients\n")
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
