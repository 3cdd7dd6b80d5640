"""The ``equipoise`` command line. Every error a user can cause ends in a clear message and a non-zero exit status,
never a traceback.

Building the parser imports no computation (``equipoise --help`` is fast): each command imports ``core.service``
and what else it needs inside its function. One module per command group, each with ``add_commands(sub)``, listed
in :data:`COMMAND_MODULES` (``_main.py``).
"""

from __future__ import annotations

from ._common import EXIT_BAD_INPUT, EXIT_REFUSED_ROWS
from ._log import EXIT_LOG_BROKEN
from ._main import COMMAND_MODULES, build_parser, main

__all__ = ["COMMAND_MODULES", "EXIT_BAD_INPUT", "EXIT_LOG_BROKEN", "EXIT_REFUSED_ROWS", "build_parser", "main"]
