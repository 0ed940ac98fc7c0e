"""``python -m pipeline``: a thin command line over the library.

Commands live one per module in :mod:`pipeline.commands` and are found automatically; each
module has a docstring that starts with its name and help, ``arguments(parser)`` and ``run(args)``.

Exit codes (README, docs/operations.md): ``0`` success; ``1`` a problem with the input or the
environment, one line ``error: …`` naming the file (known failures become
:class:`~pipeline.commands._options.CommandFailed`; any other ``OSError`` — a folder given for a
file, a missing or unwritable path, a full disk — is turned into ``error: PATH: reason`` here,
in one place, so no command can show a traceback for one); ``2`` a wrong command line;
``130`` interrupted (Ctrl-C); ``141`` standard output was closed early (``… | head``), quietly,
like any Unix tool killed by SIGPIPE; ``70`` an internal error (a bug), also one line, with the
traceback only when ``GOAL17_DEBUG`` is set.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import pkgutil
import re
import sys
from types import ModuleType
from typing import Any

from pipeline import __version__, commands
from pipeline.commands._options import CommandFailed, describe_os_error, loaded_error, report_failure
from pipeline.config.site import SettingsError
from pipeline.forkpool import WorkerLost
from pipeline.program_exit import end_process
from pipeline.stores.errors import DatabaseUnavailable, SchemaError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 70  # sysexits.h EX_SOFTWARE
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE: what `yes | head -1` reports for `yes`


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
        add_command(subparsers, module)
    return parser


def add_command(subparsers: argparse._SubParsersAction, module: ModuleType) -> argparse.ArgumentParser:
    r"""One command's parser, from its module: the docstring's first line is ``\`\`name\`\`: help.``,
    its second paragraph the description (reflowed), the rest notes for developers;
    ``arguments(parser)`` adds the options, ``run(args)`` runs it (``PARSER``: other argparse options).
    """
    summary, _, rest = (module.__doc__ or "").partition("\n\n")
    found = re.fullmatch(r"``([a-z-]+)``: (.+?)\.?", " ".join(summary.split()))
    if found is None:
        raise RuntimeError(f"{module.__name__}: docstring must start with ``name``: help.")
    description = " ".join(rest.split("\n\n", 1)[0].split())
    parser = subparsers.add_parser(
        found.group(1), help=found.group(2), description=description or None, **getattr(module, "PARSER", {})
    )
    module.arguments(parser)
    parser.set_defaults(func=module.run)
    return parser


class StdoutFailed(BaseException):
    """Writing to standard output failed (``os_error`` says why): told apart from the same
    ``OSError`` on a file or a socket, which has to be reported, not swallowed.

    A ``BaseException``, like ``KeyboardInterrupt``: it ends the command the way SIGPIPE ends a
    Unix tool, passing through the ``except Exception`` of code that would otherwise record a
    closed pipe as a failed job or a failed delivery, and through ``logging``, which would print
    a traceback for it."""

    def __init__(self, os_error: OSError):
        super().__init__(str(os_error))
        self.os_error = os_error


class _GuardedStdout:
    """``sys.stdout`` while a command runs: a failed write raises :class:`StdoutFailed`."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise StdoutFailed(exc) from None

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise StdoutFailed(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    real_stdout = sys.stdout
    if real_stdout is not None:
        sys.stdout = _GuardedStdout(real_stdout)
    try:
        try:
            code = _run(argv)
        except SystemExit:  # argparse: --help, --version, a usage error
            _flush_stdout()
            raise
        _flush_stdout()
        return code
    except StdoutFailed as failure:
        _silence_stdout(real_stdout)
        if failure.os_error.errno == errno.EPIPE:
            return EXIT_PIPE_CLOSED  # the reader has all it wanted: nothing to say
        return _say(f"error: cannot write to standard output: {describe_os_error(failure.os_error)}")
    finally:
        if isinstance(sys.stdout, _GuardedStdout):
            sys.stdout = real_stdout


def program() -> None:
    """The ``goal17`` console script: :func:`main`, then a quick exit (:mod:`pipeline.program_exit`)."""
    end_process(main())


def _flush_stdout() -> None:
    """Here, not at interpreter exit, so a failure is reported like any other."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _run(argv: list[str]) -> int:
    try:
        first = argv[0] if argv else None
        parser = build_parser(only=first if first in command_names() else None)
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except CommandFailed as failure:
        return report_failure(failure)
    except KeyboardInterrupt:
        return _say("interrupted", EXIT_INTERRUPTED)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError) and exc.filename is None and _stdout_reader_gone():
            raise StdoutFailed(exc) from None  # e.g. written through sys.stdout.buffer
        return _say(f"error: {describe_os_error(exc)}")
    except loaded_error("sqlite3", "Error") as exc:
        return _say(f"error: state database: {exc}")
    except (SchemaError, DatabaseUnavailable, WorkerLost) as exc:  # WorkerLost: e.g. out of memory
        return _say(f"error: {exc}")
    except SettingsError as exc:  # e.g. a bad GOAL17_DATABASE_URL found when a store is opened
        return report_failure(CommandFailed("invalid settings", details=exc.problems))
    except Exception as exc:
        if os.environ.get("GOAL17_DEBUG"):
            import traceback  # 9 ms to import (tokenize, linecache): only for GOAL17_DEBUG

            traceback.print_exc()
        return _say(
            f"error: internal error: {type(exc).__name__}: {exc} (a bug; GOAL17_DEBUG=1 shows where)",
            EXIT_BUG,
        )


def _say(message: str, code: int = EXIT_FAILED) -> int:
    """One line on stderr; a closed stderr cannot make it worse."""
    with contextlib.suppress(OSError, ValueError):
        print(message, file=sys.stderr, flush=True)
    return code


def _stdout_reader_gone() -> bool:
    """True when standard output is a pipe whose reading end has been closed."""
    import select

    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _silence_stdout(stream: Any) -> None:
    """Point the stdout file descriptor at /dev/null, as the Python docs advise after a
    BrokenPipeError, so the interpreter's own flush at exit has nothing left to fail on."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return  # not a real file (a test's capture): nothing flushes it at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
