#!/usr/bin/env python
"""Django's command-line utility for Resync."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except Exception as exc:
        # An unreachable database is an operator's problem, not a bug: one line, no traceback
        # (--traceback still shows it), as Django does for a CommandError.
        from apps.core.db.postgresql.base import unreachable_reason

        reason = unreachable_reason(exc)
        if reason is None or "--traceback" in sys.argv:
            raise
        sys.exit(f"Error: {reason}")


if __name__ == "__main__":
    main()
