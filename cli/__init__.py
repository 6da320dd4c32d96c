"""The `stance` command line: one Typer app (:mod:`cli.app`) composed from command modules.

This package is the top of the import graph: it imports :mod:`training`, :mod:`scoring` and
:mod:`model`, and nothing imports it.
"""
