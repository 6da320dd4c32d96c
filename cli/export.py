"""`stance export`: write the ONNX backends into a model (a folder, or a new store version)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.common import KNOWN_ERRORS, fail, quiet_transformers


def export(
    model: Annotated[str, typer.Option(help="BentoML tag (stance:latest) or model folder")],
    int8: Annotated[
        bool, typer.Option("--int8/--no-int8", help="also write the int8-quantized graph")
    ] = True,
) -> None:
    """Export the ONNX backends (fp32, int8) into the model, verified against torch.

    A folder is exported in place; a store tag gets a NEW store version holding the export
    (its tag is the "model" field of the JSON report on stdout). Use the backends with
    --backend onnx / onnx-int8.
    """
    from model.export.onnx import ExportError
    from training.registry import export_model

    quiet_transformers()
    backends = ("onnx", "onnx-int8") if int8 else ("onnx",)
    try:
        where, report = export_model(model, backends)
    except (*KNOWN_ERRORS, ExportError) as err:
        fail(err)
        return
    for name, check in report["backends"].items():
        typer.echo(
            f"{name}: {check['file']} ({check['bytes'] / 2**20:.0f} MiB), max probability "
            f"difference to torch {check['max_abs_prob_diff']:.2e}, label agreement "
            f"{check['label_agreement']:.1%} on {report['sample_queries']} sample queries",
            err=True,
        )
    typer.echo(json.dumps({"model": where, **report}, indent=2))
