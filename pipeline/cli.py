"""``python -m pipeline``: a thin command line over the library.

Commands live one per module in :mod:`pipeline.commands` and are found automatically; each
module defines ``register(subparsers)`` and sets ``func`` on its parser. Known failures (bad
content, bad settings, a refused publish, …) end with a clear message and exit code 1; usage
errors with 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from pipeline import __version__, commands
from pipeline.commands._options import CommandFailed, report_failure


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="goal-17 syndication: Markdown updates → pages, feeds, snippets, newsletters.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 50), m.__name__)):
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandFailed as failure:
        return report_failure(failure)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
