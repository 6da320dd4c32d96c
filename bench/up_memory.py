"""Peak memory of the main job while it serves: the whole `stance up` process tree, against
`bentoml serve` started directly (the serving processes alone), measured in the same run.

Usage:
    python bench/up_memory.py [--model FOLDER] [--requests 200]

The model folder (default: an untrained MiniLM classifier with the same weights' size as the
default preset, exported to ONNX like the preset does) is registered in a throw-away BentoML
store. Each way of starting is then run under the same load: lone /predict calls, a
/predict_batch of 64 and 16 concurrent clients, while the summed RSS of the process tree is
sampled every 50 ms. Target (issue 10): peak RSS of the `stance up` tree <= 800 MiB.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_bench import RssSampler  # noqa: E402 - after the path set-up
from server import free_port, register_folder, wait_ready  # noqa: E402

BUDGET_MIB = 800
SENTENCES = [
    "The minister praised the monitoring mission for its calm and professional work.",
    "Critics accused the agency of hiding the true cost of the project.",
    "The delegation arrived in Geneva on Tuesday for the second round of talks.",
    "The union described the company's offer as an insult to its members.",
]
TARGETS = ["the monitoring mission", "the agency", "The delegation", "the company"]


def default_model(folder: Path) -> Path:
    """An untrained classifier on the packaged encoder, exported to ONNX (as the preset)."""
    code = (
        "import sys; from pathlib import Path; from model import StanceClassifier, StanceConfig;"
        "from training.registry import export_model;"
        "p = Path(sys.argv[1]); StanceClassifier.from_base(StanceConfig()).save(p);"
        "export_model(str(p), ('onnx',))"
    )
    subprocess.run([sys.executable, "-c", code, str(folder)], cwd=ROOT, check=True)
    return folder


def load(url: str, requests: int) -> None:
    """Lone calls, one batch of 64, then 16 concurrent clients."""
    items = [{"text": s, "target": t} for s, t in zip(SENTENCES, TARGETS, strict=True)]
    with httpx.Client(timeout=120) as client:
        for i in range(requests):
            client.post(f"{url}/predict", json=items[i % len(items)]).raise_for_status()
        batch = {"items": [items[i % len(items)] for i in range(64)]}
        client.post(f"{url}/predict_batch", json=batch).raise_for_status()

    def one_client(c: int) -> None:
        with httpx.Client(timeout=120) as client:
            for j in range(8):
                client.post(f"{url}/predict", json=items[(c + j) % len(items)])

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one_client, range(16)))


def measure(command: list[str], env: dict[str, str], requests: int, log: Path) -> float:
    """Start ``command`` (a server on env PORT), load it, stop it; peak tree RSS in MiB."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        sampler = RssSampler(server.pid)
        sampler.start()
        try:
            wait_ready(server, url, log)
            load(url, requests)
        finally:
            sampler.stop.set()
            server.terminate()
            server.wait(timeout=60)
    return sampler.peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="model folder (default: untrained, exported)")
    parser.add_argument("--requests", type=int, default=200, help="lone /predict calls")
    opts = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="stance-up-memory-"))
    model = opts.model or default_model(home / "model")
    env = {**os.environ, "BENTOML_HOME": str(home / "store"), "BENTOML_DO_NOT_TRACK": "true"}
    register_folder(model, env["BENTOML_HOME"])
    serve = [sys.executable, "-m", "bentoml", "serve", "service.service:StanceService"]
    up = [str(Path(sys.executable).parent / "stance"), "up"]
    direct = measure(serve, env, opts.requests, home / "serve.log")
    main_job = measure(up, env, opts.requests, home / "up.log")
    print(f"\nmodel {model}, {opts.requests} lone requests + batch 64 + 16 clients x 8\n")
    print("| process tree | peak RSS, MiB |\n|---|---|")
    print(f"| bentoml serve (serving processes alone, baseline) | {direct:.0f} |")
    print(f"| stance up (the main job) | {main_job:.0f} |")
    print(f"| stance up / baseline | {main_job / direct:.2f} |")
    verdict = "met" if main_job <= BUDGET_MIB else "NOT met"
    print(f"| target: stance up <= {BUDGET_MIB} MiB | {verdict} |")


if __name__ == "__main__":
    main()
