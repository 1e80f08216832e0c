"""Compile ``locale/*/LC_MESSAGES/*.po`` (the project's and each installed app's) into ``.mo`` with Babel: pure Python, so ``make``
builds the translations without GNU gettext (Django's ``compilemessages`` needs ``msgfmt``).
The ``.mo`` files are build output and stay out of git."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the project's .po files into .mo files (Babel; no GNU gettext needed)."

    def handle(self, *args: Any, **options: Any) -> None:
        compiled = 0
        # Django reads each installed app's own locale/ too; each app keeps its own catalogue.
        # Only our apps: installed packages ship their own compiled catalogues.
        app_dirs = [
            Path(config.path) / "locale"
            for config in apps.get_app_configs()
            if Path(config.path).parent == Path(settings.BASE_DIR)  # top-level apps
        ]
        for locale_dir in [*map(Path, settings.LOCALE_PATHS), *app_dirs]:
            for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                locale = po_path.parent.parent.name
                with po_path.open("rb") as po_file:
                    catalog = read_po(po_file, locale=locale)
                errors = [
                    (message.id, error) for message, errors in catalog.check() for error in errors
                ]
                if errors:
                    raise CommandError(f"{po_path}: {errors[:5]}")
                with mo_path.open("wb") as mo_file:
                    write_mo(mo_file, catalog)  # fuzzy entries are left out, as msgfmt does
                compiled += 1
                if options["verbosity"] >= 1:
                    self.stdout.write(f"compiled {mo_path}")
