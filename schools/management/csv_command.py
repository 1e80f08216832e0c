"""The shared shape of the CSV import commands: ``--school SLUG FILE``, read, check, write.

Management commands run with no school scope; ``handle`` resolves the school once and runs the
subclass's ``run`` inside ``school_scope(school)``. A file with any error prints every error
(``line N, column NAME: message``; past ``csv_io.ERRORS_KEPT``, how many more) and exits non-zero
with nothing imported.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from schools.csv_io import CsvInvalid, CsvTable, csv_read
from schools.models import School
from schools.scoping import school_scope


def school_get(slug: str) -> School:
    """The school at ``slug``, or ``CommandError``. School is the tenant root: not scoped."""
    school = School.objects.filter(slug=slug).first()
    if school is None:
        raise CommandError(f"No school with the slug {slug!r}.")
    return school


@contextmanager
def no_sql_log() -> Iterator[None]:
    """Keep no SQL log for the block when ``DEBUG`` is on (the local settings). Django then keeps
    the SQL of the last 9,000 queries, and an import's batches (inserts of 1,000 rows, lookups of
    900 keys) made that log, and the command's memory, grow with the file: about 20 MiB per
    50,000 marks. A test's ``CaptureQueriesContext`` (``force_debug_cursor``) still sees them."""
    if not settings.DEBUG or connection.force_debug_cursor:
        yield
        return
    kept = connection.queries_log
    connection.queries_log = deque(maxlen=0)
    try:
        yield
    finally:
        connection.queries_log = kept


class CsvImportCommand(BaseCommand):
    required_columns: Sequence[str] = ()
    optional_columns: Sequence[str] = ()

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", required=True, metavar="SLUG", help="The school's slug.")
        parser.add_argument("file", metavar="FILE", help="The CSV file (UTF-8).")

    def handle(self, *args: Any, **options: Any) -> None:
        with no_sql_log():
            self._import(options)

    def _import(self, options: dict[str, Any]) -> None:
        school = school_get(options["school"])
        path = Path(options["file"])
        started = time.perf_counter()
        try:
            self.import_file(school=school, path=path)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        except CsvInvalid as invalid:
            for error in invalid.errors:
                self.stderr.write(str(error))
            count = invalid.count
            if count > len(invalid.errors):
                self.stderr.write(f"... and {count - len(invalid.errors)} more errors not listed")
            raise CommandError(
                f"{count} error{'s' if count != 1 else ''} in {path.name}; nothing was imported."
            ) from invalid
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f} s.")

    def import_file(self, *, school: School, path: Path) -> None:
        """Read the whole file, then ``run`` it; an import that streams overrides this."""
        table = csv_read(path, required=self.required_columns, optional=self.optional_columns)
        with school_scope(school):
            self.run(school=school, table=table)

    def run(self, *, school: School, table: CsvTable) -> None:
        """Check ``table`` (raising ``CsvInvalid``), write it and print the counts."""
        raise NotImplementedError
