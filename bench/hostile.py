"""Hostile-client benchmark: does any request stall the service or become a 5xx? (issue 16)

Usage:
    python bench/hostile.py [--model FOLDER] [--article-kb 900] [--max-seconds 420]

Serves a model with `bentoml serve` on 127.0.0.1 (a throw-away BentoML store), then runs
four phases while a separate process sends lone /predict requests one after another and
records their latency:

    baseline      nothing else
    adversarial   100,000-character texts built to be slow (one word repeated 14,285
                  times, punctuation runs, ...) and texts of only NUL / zero-width chars
    stalled       300 uploads that send headers and part of the body, then stall,
                  plus 50 connections that send nothing
    mixed         64 clients of /predict, /predict_targets, /predict_batch (each pausing
                  ~--think-s between requests: ~16 requests/s, as in the issue's probe),
                  with one ~900 KB article sent to /analyze_article in the middle

Prints per phase the lone /predict p50/p99, the status and time of every adversarial
request and of the article, the 5xx count of everything sent, and the server's peak RSS.
Targets (issue 16): 0 5xx; lone p99 < 1 s in every phase; each adversarial request
answered (or refused with a 4xx) in < 5 s.

Without --model, an untrained MiniLM classifier (the tests' tiny-model recipe, max_length
128, exported to ONNX as `stance up` does) is served: the same compute as a trained one,
meaningless labels. Loopback only;
every loop is bounded and the run stops by itself after --max-seconds at most.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.serve_bench import RssSampler, free_port, pct  # noqa: E402

SENTENCE = "The minister praised the monitoring mission for its calm and professional work."
ADVERSARIAL: list[tuple[str, str, dict[str, object]]] = [
    ("one word x 14,285", "/predict", {"text": "Russia " * 14285, "target": "Russia"}),
    ("'Russia, ' x 12,500", "/predict", {"text": "Russia, " * 12500, "target": "Russia"}),
    ("100,000 dots", "/predict", {"text": "." * 100_000, "target": "Russia"}),
    ("'!?' x 50,000", "/predict", {"text": "!?" * 50_000, "target": "Russia"}),
    ("100-word target x 500", "/predict", {"text": "a " * 50_000, "target": "a " * 99 + "a"}),
    ("one 100,000-char word", "/predict", {"text": "x" * 100_000, "target": "x"}),
    ("NUL only", "/predict", {"text": "\x00" * 1000, "target": "Russia"}),
    ("zero-width only", "/predict", {"text": "\u200b" * 1000, "target": "Russia"}),
    (
        "32 targets on the 14,285 repeats",
        "/predict_targets",
        {"text": "Russia " * 14285, "targets": ["Russia"] + [f"Russia {k}" for k in range(31)]},
    ),
]


def make_article(size: int, seed: int = 7) -> str:
    """A synthetic news article of about ``size`` characters, written here (no dataset)."""
    rng = random.Random(seed)
    people = ["Ana Petrova", "John Miller", "Sara Lindqvist", "Omar Haddad", "Li Wei"]
    roles = ["Foreign Minister", "Mayor", "spokeswoman", "union leader", "Senator"]
    things = ["the monitoring centre", "the new railway", "the ferry operator", "the agency"]
    verbs = ["praised", "criticised", "questioned", "welcomed", "described"]
    parts = ["Officials debate the railway plan\n\nBAKU, March 3 (Staff) --\n"]
    total = 0
    while total < size:
        person, thing = rng.choice(people), rng.choice(things)
        para = (
            f"{rng.choice(roles)} {person} {rng.choice(verbs)} {thing} on Monday. "
            f'"{thing.capitalize()} has done {rng.choice(["well", "badly", "little"])} this '
            f'year," {person.split()[-1]} told reporters. The report on {thing} will be '
            f"published in {rng.choice(['March', 'May', 'June'])}.\n\n"
        )
        parts.append(para)
        total += len(para)
    return "".join(parts)


def probe(url: str, stop_at: float, conn: Connection) -> None:
    """Lone client (own process): sequential /predict until ``stop_at``; sends its samples
    (wall-clock start, latency s, status) back."""
    samples: list[tuple[float, float, int]] = []
    with httpx.Client(timeout=60) as client:
        while time.time() < stop_at:
            started = time.time()
            try:
                status = client.post(
                    f"{url}/predict", json={"text": SENTENCE, "target": "the monitoring mission"}
                ).status_code
            except httpx.HTTPError:
                status = 0
            samples.append((started, time.time() - started, status))
            if conn.poll():
                break
            time.sleep(0.05)
    conn.send(samples)


async def adversarial(client: httpx.AsyncClient, url: str) -> list[tuple[str, int, float]]:
    out = []
    for name, path, body in ADVERSARIAL:
        started = time.perf_counter()
        r = await client.post(f"{url}{path}", json=body, timeout=120)
        out.append((name, r.status_code, time.perf_counter() - started))
    return out


async def stalled(url: str, hold_s: float) -> dict[str, int]:
    """300 half-sent bodies and 50 silent connections, held ``hold_s``; counts answers."""
    port = int(url.rsplit(":", 1)[1])
    head = (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 10000\r\n\r\n{"text": "abc'
    )
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for k in range(350):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if k < 300:
            writer.write(head)
            await writer.drain()
        conns.append((reader, writer))

    async def answer(reader: asyncio.StreamReader) -> str:
        try:
            line = await asyncio.wait_for(reader.readline(), hold_s)
        except TimeoutError:
            return "no answer (still open)"
        return line.decode(errors="replace").split(" ", 2)[1] if line else "closed"

    results = await asyncio.gather(*(answer(r) for r, _ in conns))
    for _, writer in conns:
        writer.close()
    counts: dict[str, int] = {}
    for k, res in enumerate(results):
        key = f"{'half-sent' if k < 300 else 'silent'} -> {res}"
        counts[key] = counts.get(key, 0) + 1
    return counts


async def mixed(
    url: str, article: str, deadline: float, think_s: float
) -> tuple[dict[int, int], tuple[int, float], int]:
    """64 clients (each waits ~``think_s`` between requests) until the article (sent after
    5 s) is answered or ``deadline``."""
    statuses: dict[int, int] = {}
    done = asyncio.Event()
    rng = random.Random(3)
    bodies = [
        ("/predict", {"text": SENTENCE, "target": "the minister"}),
        ("/predict_targets", {"text": SENTENCE * 3, "targets": ["the minister", "work"]}),
        ("/predict_batch", {"items": [{"text": SENTENCE, "target": "the mission"}] * 4}),
    ]
    requests = 0

    async def client(c: int) -> None:
        nonlocal requests
        # Idle connections are dropped before the server's 5 s keep-alive timeout would:
        # a request sent on a connection the server is closing fails on the client side.
        limits = httpx.Limits(keepalive_expiry=2)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            while not done.is_set() and time.time() < deadline:
                path, body = bodies[rng.randrange(len(bodies))]
                try:
                    code = (await http.post(f"{url}{path}", json=body)).status_code
                except httpx.HTTPError as err:
                    print(f"mixed client {c}: {type(err).__name__}: {err}", file=sys.stderr)
                    code = 0
                statuses[code] = statuses.get(code, 0) + 1
                requests += 1
                await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))

    async def analyse() -> tuple[int, float]:
        await asyncio.sleep(5)
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=max(1.0, deadline - time.time())) as http:
            try:
                r = await http.post(f"{url}/analyze_article", json={"text": article})
                code = r.status_code
            except httpx.HTTPError:
                code = 0
        done.set()
        return code, time.perf_counter() - started

    clients = [asyncio.ensure_future(client(c)) for c in range(64)]
    result = await analyse()
    await asyncio.gather(*clients)
    return statuses, result, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="trained model folder (default: untrained MiniLM)")
    parser.add_argument("--article-kb", type=int, default=900, help="article size, KB")
    parser.add_argument("--max-seconds", type=int, default=420, help="hard stop for the run")
    parser.add_argument(
        "--think-s", type=float, default=4.0, help="mean pause of each of the 64 clients"
    )
    opts = parser.parse_args()
    stop_at = time.time() + opts.max_seconds
    home = tempfile.mkdtemp(prefix="stance-hostile-bentoml-")
    env = {**os.environ, "BENTOML_HOME": home, "BENTOML_DO_NOT_TRACK": "true"}
    # Without a model: a fresh MiniLM, exported to ONNX like the default `stance up` preset
    # (the server's backend "auto" then serves ONNX, as it would a trained model).
    folder = opts.model or str(Path(home) / "untrained")
    build = (
        ""
        if opts.model
        else "from model.export.onnx import export_backends; "
        f"c = StanceClassifier.from_base(StanceConfig()); c.save({folder!r}); "
        f"export_backends(c, {folder!r}, backends=('onnx',)); "
    )
    reg = (
        "from model import StanceClassifier, StanceConfig; from training.registry import "
        f"register; {build}print(register(StanceClassifier.load({folder!r}), {{}}))"
    )
    tag = subprocess.check_output([sys.executable, "-c", reg], cwd=ROOT, env=env, text=True)
    env["STANCE_MODEL_TAG"] = tag.strip().splitlines()[-1]
    which = opts.model or "untrained MiniLM (tests' tiny-model recipe, max_length 128), ONNX"
    url = f"http://127.0.0.1:{free_port()}"
    log = open(Path(home) / "serve.log", "wb")  # noqa: SIM115 - closed at the end
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "bentoml", "serve", "service.service:StanceService"),
            *("--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1]),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sampler = RssSampler(server.pid)
    sampler.start()
    phases: list[tuple[str, float, float]] = []
    try:
        while time.time() < stop_at:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise SystemExit("server did not become ready")
        for _ in range(5):  # warm-up
            httpx.post(f"{url}/predict", json={"text": SENTENCE, "target": "x"}, timeout=60)
        mine, theirs = multiprocessing.Pipe()
        prober = multiprocessing.Process(target=probe, args=(url, stop_at, theirs))
        prober.start()

        async def run() -> tuple[
            list[tuple[str, int, float]],
            dict[str, int],
            tuple[dict[int, int], tuple[int, float], int],
        ]:
            t0 = time.time()
            await asyncio.sleep(8)
            phases.append(("baseline", t0, time.time()))
            t0 = time.time()
            async with httpx.AsyncClient() as client:
                adv = await adversarial(client, url)
            phases.append(("adversarial", t0, time.time()))
            t0 = time.time()
            stall = await stalled(url, hold_s=12)
            phases.append(("stalled uploads", t0, time.time()))
            t0 = time.time()
            article = make_article(opts.article_kb * 1000)
            mix = await mixed(url, article, stop_at - 5, opts.think_s)
            phases.append(("64 clients + article", t0, time.time()))
            return adv, stall, mix

        adv, stall, (mix_status, (art_status, art_s), mix_n) = asyncio.run(run())
        mine.send("stop")
        samples: list[tuple[float, float, int]] = mine.recv()
        prober.join(timeout=60)
    finally:
        sampler.stop.set()
        server.terminate()
        server.wait(timeout=60)
        log.close()
    server_errors = sum(1 for _, _, s in samples if s >= 500 or s == 0)
    server_errors += sum(1 for _, s, _ in adv if s >= 500)
    server_errors += sum(n for s, n in mix_status.items() if s >= 500 or s == 0)
    server_errors += art_status >= 500 or art_status == 0
    print(f"\nmodel: {which}; server tag {env['STANCE_MODEL_TAG']}\n")
    print("| phase | lone /predict n | p50 ms | p99 ms | max ms | non-200 |")
    print("|---|---|---|---|---|---|")
    for name, t0, t1 in phases:
        lat = [lat * 1000 for t, lat, _ in samples if t0 <= t < t1]
        bad = sum(1 for t, _, s in samples if t0 <= t < t1 and s != 200)
        if lat:
            print(
                f"| {name} | {len(lat)} | {pct(lat, 0.5):.0f} | {pct(lat, 0.99):.0f} | "
                f"{max(lat):.0f} | {bad} |"
            )
    print("\n| adversarial request | status | seconds |\n|---|---|---|")
    for name, status, secs in adv:
        print(f"| {name} | {status} | {secs:.2f} |")
    print("\nstalled connections (first status line within 12 s):")
    for key, n in sorted(stall.items()):
        print(f"  {key}: {n}")
    print(f"\nmixed load: {mix_n} requests from 64 clients, statuses {sorted(mix_status.items())}")
    chars = len(make_article(opts.article_kb * 1000))
    print(f"article {chars:,} chars: status {art_status} in {art_s:.1f} s")
    print(f"\n5xx (or no answer) over the whole run: {server_errors}")
    print(f"peak RSS of the serving processes: {sampler.peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
