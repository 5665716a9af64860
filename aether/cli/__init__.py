"""The `aether` command. Thin: parse arguments, call the engine, print."""

from aether.cli.main import main

__all__ = ["main"]
