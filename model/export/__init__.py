"""Producing exported graphs: ONNX export, int8 quantization (with smoothing) and the check
against torch. Imports flow one way: this package imports :mod:`model.classifier` and
:mod:`model.onnx_runtime` (to run what it wrote); neither imports it back.

:mod:`model.export.onnx` exports (``export_backends``, ``export_folder``),
:mod:`model.export.smooth` rewrites a graph for int8 (SmoothQuant) and
:mod:`model.export.verify` compares a graph with torch on sample queries.
"""
