"""`stance up`: the main job (train the default model when the store has none, then serve)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DEFAULT_CONFIG, KNOWN_ERRORS
from cli.common import fail as _fail
from cli.common import quiet_transformers as _quiet_transformers

# The body of `up` is kept as it was written in training/cli.py (hence the aliases above).


def up(
    port: Annotated[int, typer.Option(help="HTTP port of the service")] = 3000,
    host: Annotated[
        str, typer.Option(help="interface to listen on (0.0.0.0 exposes it to the network)")
    ] = "127.0.0.1",
    newsmtsc_dir: Annotated[str | None, typer.Option(help="folder with NewsMTSC files")] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="training preset used when the store has no model (default preset)"),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="start the service after training")
    ] = True,
) -> None:
    """Main job: train the default model if the BentoML store has none, then serve it.

    Serving replaces this process (``exec``) with ``bentoml serve``: signals from a supervisor
    (SIGTERM from systemd, Docker, Kubernetes; Ctrl-C) reach the server itself, nothing is
    left running without a parent, and the memory used by training is returned before the
    server loads its own copy of the model.
    """
    from training.registry import MODEL_NAME, store_has_model

    if store_has_model(MODEL_NAME):
        typer.echo(f"model store already has {MODEL_NAME!r}; skipping training", err=True)
    else:
        preset = config or DEFAULT_CONFIG
        typer.echo(
            f"no {MODEL_NAME!r} model in the store: training the preset {preset} "
            "(the default preset takes about 18 minutes on 2 idle CPU cores; the bar below shows "
            "the steps and an estimate of the time left)",
            err=True,
        )
        from training.args import load_run_config
        from training.pipeline import run_training

        _quiet_transformers()
        try:
            run = load_run_config(preset, {"data": {"newsmtsc_dir": newsmtsc_dir}})
            out = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
            outcome = run_training(run, out, log=lambda m: typer.echo(m, err=True))
        except KNOWN_ERRORS as err:
            _fail(err)
            return
        typer.echo(f"trained and registered {outcome.tag}", err=True)
    if not serve:
        return
    root = Path(__file__).resolve().parent.parent
    command = [
        sys.executable,
        "-m",
        "bentoml",
        "serve",
        "service.service:StanceService",
        "--host",
        host,
        "--port",
        str(port),
    ]
    typer.echo(f"serving on http://{host}:{port} ({' '.join(command[2:])})", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(root)
    os.execv(sys.executable, command)
