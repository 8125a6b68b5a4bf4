"""The ``hybrid`` command line.

Each sub-command lives in its own module under :mod:`hybrid.cli` and exposes
``add_parser(subparsers)`` and ``handle(args) -> int``. Errors derived from
:class:`hybrid.errors.HybridError` end as one line on stderr and their exit code.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from hybrid.errors import HybridError, UsageError

#: sub-command modules, in the order ``hybrid --help`` lists them
COMMANDS = (
    "run",
    "graph",
    "scenes",
    "compare",
    "record",
    "serve",
    "cache",
    "plot",
    "backends",
    "describe",
)


class _DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the text already names it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text.lower()
            or default is None
            or default is argparse.SUPPRESS
            or isinstance(default, bool)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors raise instead of printing usage and exiting; the help
    shows every default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        # main() prefixes "hybrid: error: "; name the sub-command only
        command = self.prog.removeprefix("hybrid").strip()
        where = f"{command}: " if command else ""
        raise _ArgumentError(f"{where}{message} (see '{self.prog} --help')")


class _ArgumentError(UsageError):
    """A command line argparse refuses (exit 2)."""


def _command_modules() -> list[ModuleType]:
    modules = []
    for name in COMMANDS:
        try:
            modules.append(importlib.import_module(f"hybrid.cli.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"hybrid.cli.{name}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hybrid",
        description="One openEO process graph for Sentinel-2 NDVI, run locally, "
        "against a local openEO emulator, or on Copernicus - and compared.",
    )
    from hybrid import __version__

    parser.add_argument("--version", action="version", version=f"hybrid {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _command_modules():
        module.add_parser(subparsers)
    return parser


#: set by SIGTERM: the command's run is cancelled (hybrid.cancellation) besides the
#: SystemExit the handler raises, which Python only prints when it lands inside a
#: ``__del__`` or a weakref callback; and the exit code the signal gives
_TERMINATION = threading.Event()
_TERMINATED: list[int] = [0]


def _terminate(signum: int, _frame: object) -> None:
    _TERMINATED[0] = 128 + signum
    _TERMINATION.set()
    raise SystemExit(128 + signum)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Our own warnings as one line, ``hybrid: warning: ...``; others as Python shows them."""
    import warnings

    from hybrid.errors import HybridWarning

    if issubclass(category, HybridWarning):
        print(f"hybrid: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def subparser(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser:
    """The parser of sub-command ``command`` (``parser`` itself for none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]
    return parser


def given_options(sub: argparse.ArgumentParser, command: str, argv: list[str]) -> set[str]:
    """The destinations of the options ``argv`` (the command line) gives the
    sub-command ``command`` whose parser is ``sub`` (an option given with its default
    value too, which the parsed values cannot tell). Parsed again only where asked."""
    rest = argv[argv.index(command) + 1 :] if command in argv else argv
    defaults = {action: action.default for action in sub._actions}
    try:
        for action in sub._actions:
            action.default = argparse.SUPPRESS
        given, _extras = sub.parse_known_args(rest)
    finally:
        for action, default in defaults.items():
            action.default = default
    return set(vars(given))


def _unrecognized(parser: argparse.ArgumentParser, command: str | None, extras: list[str]) -> str:
    """The error for arguments no parser took, naming the sub-command's help and the
    option meant when a given one is a near miss (``--perod`` -> ``--period``)."""
    import difflib

    sub = subparser(parser, command)
    options = list(sub._option_string_actions)
    guesses = [
        match
        for extra in extras
        if extra.startswith("--")
        for match in difflib.get_close_matches(extra.split("=")[0], options, n=1)
    ]
    hint = f"; did you mean {', '.join(guesses)}?" if guesses else ""
    where = f"{command}: " if command else ""
    return f"{where}unrecognized arguments: {' '.join(extras)}{hint} (see '{sub.prog} --help')"


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    # odc-geo warps empty windows of other-CRS tiles as bare arrays; rasterio then warns
    warnings.filterwarnings("ignore", message="Dataset has no geotransform")
    # third-party deprecation notes are for their maintainers, not for our users
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"openeo_processes_dask\.")
    # openeo-pg-parser-networkx parsing a date of filter_temporal: nothing to act on
    warnings.filterwarnings("ignore", message="no explicit representation of timezones")
    warnings.showwarning = _show_warning
    import signal

    if threading.current_thread() is threading.main_thread():
        # SIGTERM unwinds like Ctrl-C, so temporary folders and files are removed
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            raise _ArgumentError(_unrecognized(parser, args.command, extras))
    except _ArgumentError as exc:
        print(f"hybrid: error: {exc}", file=sys.stderr)
        return 2
    if args.command is None:
        parser.print_help()
        return 2
    args._argv = list(sys.argv[1:] if argv is None else argv)  # for given_options
    from hybrid.cancellation import cancellable

    try:
        with cancellable(_TERMINATION):
            code = int(args.handle(args))
        return _TERMINATED[0] or code
    except HybridError as exc:
        if _TERMINATED[0]:
            return _TERMINATED[0]
        print(f"hybrid: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hybrid: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of stdout went away (``hybrid run | head``): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a path the system refuses (too long, not allowed, full disk)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"hybrid: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2 if exc.errno in _PATH_ERRORS else 1


#: errors of a path the user gave (exit 2, like any usage error)
_PATH_ERRORS = frozenset(
    {errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR,
     errno.EISDIR, errno.ELOOP, errno.EROFS, errno.EEXIST}
)  # fmt: skip

#: the command's young-generation threshold of the garbage collector (Python's is 700):
#: importing the science stack and building dask's graphs allocate millions of
#: long-lived objects, which the older generations' collections walk again and again;
#: with fewer young collections there are fewer of those. Cycles are still collected,
#: in larger steps.
GC_YOUNG_THRESHOLD = 10_000


def console() -> NoReturn:
    """The ``hybrid`` command: :func:`main` with fewer garbage collections, then an exit
    without the collector's last passes over every object the command leaves (the
    science stack's modules, dask's graphs), which took about a second of an
    18 x 1536^2 ``hybrid run`` (benchmarks/README.md, "hybrid run end to end")."""
    import gc

    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
