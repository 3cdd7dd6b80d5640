"""The ``equipoise`` parser and dispatch. Every error a user can cause ends in a clear message and a non-zero exit
status, never a traceback.

Building the parser imports only argparse and the command modules, which import ``core.service`` (and through it
scikit-learn, LightGBM, SQLAlchemy, ...) inside the command functions: ``equipoise --help`` stays fast, and each
command loads only what it uses.
"""

from __future__ import annotations

import argparse
import os
import sys

from .._errors import EquipoiseError
from . import _audit, _auth, _board, _federated, _log, _models, _predict, _quality, _scale, _serve, _training
from ._common import EXIT_BAD_INPUT

# One module per command group, each with ``add_commands(sub)``; the order here is the order in `equipoise --help`.
COMMAND_MODULES: list = [_models.add_commands, _predict.add_commands, _audit.add_commands, _serve.add_commands,
                         _log.add_commands, _scale.add_commands, _training.add_commands, _board.add_commands,
                         _quality.add_commands, _auth.add_commands, _federated.add_commands]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        from .. import service

        with service.log_context(None):  # a command's audit-log context (--log) ends with the command
            return args.func(args)
    except EquipoiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `equipoise predict ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug of ours: say so plainly; EQUIPOISE_DEBUG=1 shows the traceback
        if os.environ.get("EQUIPOISE_DEBUG"):
            raise
        print(f"internal error ({type(exc).__name__}): {exc}. Please report it; set EQUIPOISE_DEBUG=1 for details.",
              file=sys.stderr)
        return 3


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="equipoise", description="Decision support for choosing between treatments.")
    sub = p.add_subparsers(dest="command")
    for add_commands in COMMAND_MODULES:
        add_commands(sub)
    return p
