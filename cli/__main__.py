"""``python -m cli``: the `stance` command."""

from cli.app import main

main()
