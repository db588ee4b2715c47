"""manage.py permission_matrix: every API operation, its permission, and who gets in."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.security.selectors import permission_matrix

UNDECLARED_FOUND = "{count} operation(s) declare no permission (refused to everyone)."


class Command(BaseCommand):
    help = "Print the role x endpoint x method matrix as a Markdown table (from the URLconf)."

    def handle(self, *args, **options) -> None:
        header, rows = permission_matrix()
        self.stdout.write("| " + " | ".join(header) + " |")
        self.stdout.write("|" + "---|" * len(header))
        for row in rows:
            cells = [f"`{cell}`" if index < 3 else cell for index, cell in enumerate(row)]
            self.stdout.write("| " + " | ".join(cells) + " |")
        undeclared = sum(1 for row in rows if row[2] == "UNDECLARED")
        if undeclared:
            raise CommandError(UNDECLARED_FOUND.format(count=undeclared))
