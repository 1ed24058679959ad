"""Command line: thin commands over the library, rich output for people, --json for scripts.

``main`` holds the top-level commands (index, ask, chat), ``evaluate`` the ``eval`` group, and
``common`` what both share (options, error printing, the sync progress bar).
"""

from assistant.cli.main import app

__all__ = ["app"]
