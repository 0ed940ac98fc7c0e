"""``python -m pipeline``: a thin command line over the library.

Commands live one per module in :mod:`pipeline.commands` and are found automatically; each
module defines ``register(subparsers)`` and sets ``func`` on its parser. Known failures (bad
content, bad settings, a refused publish, …) end with a clear message and exit code 1; usage
errors with 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from pipeline import __version__, commands
from pipeline.commands._options import CommandFailed, report_failure


def command_names() -> list[str]:
    """Every command: one module each in :mod:`pipeline.commands`, named like the command."""
    return [info.name for info in pkgutil.iter_modules(commands.__path__) if not info.name.startswith("_")]


def program_name(argv0: str | None = None) -> str:
    """``goal17`` when started by the console script, else ``python -m pipeline``: usage lines
    show the command the user can type again."""
    name = os.path.basename(sys.argv[0] if argv0 is None else argv0)
    return "goal17" if os.path.splitext(name)[0] == "goal17" else "python -m pipeline"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or with ``only`` a parser that knows just that command.

    Importing every command pulls in the web service, the scheduler and the newsletter; a
    ``build`` run by cron every few minutes should not pay for them.
    """
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="goal-17 syndication: Markdown updates → pages, feeds, snippets, newsletters.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = [only] if only is not None else command_names()
    modules = [importlib.import_module(f"{commands.__name__}.{name}") for name in names]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 50), m.__name__)):
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first = argv[0] if argv else None
    parser = build_parser(only=first if first in command_names() else None)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandFailed as failure:
        return report_failure(failure)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
