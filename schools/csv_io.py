"""Reading the CSV files schools arrive with: one reader, one error format, for every import.

Pure Python (no ORM). The importers (``schools.csv_calendar``, ``schools.csv_pupils``,
``registers.csv_marks``) read a file with ``csv_read`` (or row by row with ``CsvStream``, for
files that grow with a school's history), check every row, and raise ``CsvInvalid`` with *all*
the errors, so a file is imported whole or not at all.

The file rules, shared by every import:
- UTF-8, with or without a byte-order mark (Excel writes one);
- the first line is the header; header names are matched case-insensitively;
- whitespace around every value and header is trimmed; blank lines are skipped;
- a required column that is missing, an unknown column or a repeated column is an error;
- errors read ``line N, column NAME: message``, counting the header as line 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass(frozen=True, order=True)
class CsvError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


# A file wrong on every line would otherwise keep a message per line, so memory would grow with
# the file even as it fails: the first this many errors found are kept, the rest only counted.
ERRORS_KEPT = 1000


class CsvInvalid(Exception):  # noqa: N818 - names the outcome, like Django's ValidationError
    """The file cannot be imported; ``errors`` lists the problems found, in line order, and
    ``count`` says how many there were (more than are listed past ``ERRORS_KEPT``)."""

    def __init__(self, errors: Sequence[CsvError], *, count: int | None = None) -> None:
        self.errors = sorted(errors)
        self.count = len(self.errors) if count is None else count
        super().__init__(f"{self.count} errors")


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        """The trimmed value, or "" when the (optional) column is absent."""
        return self.values.get(column, "")


@dataclass
class CsvTable:
    """The rows of one file, keyed by header name. ``errors`` holds row-shape problems
    (a row with more or fewer fields than the header) so they are reported with the rest."""

    name: str
    columns: tuple[str, ...]
    rows: list[CsvRow]
    errors: list[CsvError] = field(default_factory=list)

    def has(self, column: str) -> bool:
        return column in self.columns


class RowErrors:
    """Collects the errors of one file; ``add`` returns ``None`` so parsers can
    ``return errors.add(...)`` for a value they could not read."""

    def __init__(self, table: CsvTable | CsvStream) -> None:
        # A stream's row-shape errors arrive while it is read: share its list rather than copy.
        self._stream = table if isinstance(table, CsvStream) else None
        self.errors: list[CsvError] = table.errors if self._stream else list(table.errors)
        self._added = 0 if self._stream else len(self.errors)

    def add(self, row: CsvRow | int, column: str | None, message: str) -> None:
        line = row if isinstance(row, int) else row.line
        self._added += 1
        if len(self.errors) < ERRORS_KEPT:
            # Messages from shared validators end in a full stop; ours read as clauses after
            # "line N:".
            self.errors.append(CsvError(line, column, message.rstrip(".")))

    def raise_if_any(self) -> None:
        if len(self):
            raise CsvInvalid(self.errors, count=len(self))

    def __len__(self) -> int:
        """Every error found so far, kept or only counted."""
        return self._added + (self._stream.error_count if self._stream else 0)


def csv_read(path: Path, *, required: Sequence[str], optional: Sequence[str] = ()) -> CsvTable:
    """Read ``path`` into rows keyed by column name.

    Raises ``CsvInvalid`` for problems that make the rows meaningless (not UTF-8, empty, a
    missing, unknown or repeated column); a row with the wrong number of fields is recorded in
    ``CsvTable.errors`` instead, so it is reported together with the importer's own checks.
    ``OSError`` propagates when the file cannot be read.
    """
    return csv_parse(path.read_bytes(), name=path.name, required=required, optional=optional)


def csv_parse(
    data: bytes, *, name: str, required: Sequence[str], optional: Sequence[str] = ()
) -> CsvTable:
    """``csv_read`` for bytes already in memory (the same rules and errors)."""
    stream = CsvStream(io.BytesIO(data), name=name, required=required, optional=optional)
    return CsvTable(name=name, columns=stream.columns, rows=list(stream), errors=stream.errors)


class CsvStream:
    """The rows of one file, read one at a time: the same rules and errors as ``csv_read``
    without holding the file or its rows in memory, for imports that grow with a school's
    history (``import_marks``). Iterate once; ``errors`` collects the row-shape problems met
    so far. A line that is not UTF-8 raises ``CsvInvalid`` when it is reached: the rest of the
    file cannot be trusted.

    The header is read on construction, so a missing or unknown column raises ``CsvInvalid``
    before any row is looked at.
    """

    def __init__(
        self,
        source: IO[bytes],
        *,
        name: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.errors: list[CsvError] = []  # the first ERRORS_KEPT (shared with RowErrors)
        self.error_count = 0  # row-shape errors found, kept or not
        self._reader = csv.reader(self._lines(source), strict=True)
        try:
            header = next(self._reader, None)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(self._reader, None)  # leading blank lines
        except _NotUtf8 as exc:
            raise CsvInvalid([exc.error]) from exc
        except csv.Error as exc:
            raise CsvInvalid(
                [CsvError(self._reader.line_num, None, f"unreadable CSV: {exc}")]
            ) from exc
        if header is None:
            raise CsvInvalid([CsvError(1, None, "the file is empty; expected a header line")])
        self.columns = tuple(cell.strip().lower() for cell in header)
        _check_header(self.columns, self._reader.line_num, required=required, optional=optional)

    def _lines(self, source: IO[bytes]) -> Iterator[str]:
        # Decode line by line (not the whole file at once) and say on which line the bytes
        # stop being UTF-8; a BOM is allowed on the first line only, as Excel writes it.
        for number, raw in enumerate(source, start=1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise _NotUtf8(CsvError(number, None, "the file is not UTF-8 text")) from exc

    def has(self, column: str) -> bool:
        return column in self.columns

    def __iter__(self) -> Iterator[CsvRow]:
        reader, width, columns = self._reader, len(self.columns), self.columns
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except _NotUtf8 as exc:
                raise CsvInvalid([exc.error]) from exc
            except csv.Error as exc:
                self._error(CsvError(reader.line_num, None, f"unreadable CSV: {exc}"))
                return  # the reader cannot resynchronise after a broken quote
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != width:
                self._error(
                    CsvError(reader.line_num, None, f"expected {width} fields, found {len(cells)}")
                )
                continue
            values = {column: cell.strip() for column, cell in zip(columns, cells, strict=True)}
            yield CsvRow(reader.line_num, values)

    def _error(self, error: CsvError) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(error)


class _NotUtf8(Exception):  # noqa: N818 - carries the error out of the line generator
    def __init__(self, error: CsvError) -> None:
        super().__init__(str(error))
        self.error = error


def _check_header(
    columns: tuple[str, ...], line: int, *, required: Sequence[str], optional: Sequence[str]
) -> None:
    errors: list[CsvError] = []
    known = (*required, *optional)
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            errors.append(CsvError(line, column or "(blank)", "this column appears twice"))
        elif column not in known:
            errors.append(
                CsvError(
                    line,
                    column or "(blank)",
                    f"unknown column; the columns are {', '.join(known)}",
                )
            )
        seen.add(column)
    errors += [
        CsvError(line, column, "required column is missing")
        for column in required
        if column not in seen
    ]
    if errors:
        raise CsvInvalid(errors)


# --- Values ---------------------------------------------------------------------------------


def parse_date(value: str) -> dt.date | None:
    """An ISO date (``2024-09-02``), or ``None`` if ``value`` is not one.

    Only ISO: ``03/04/2025`` means 3 April in Britain and 4 March elsewhere, and an import
    must not guess.
    """
    if len(value) != 10:  # fromisoformat also takes 20240902 and week dates; we do not
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


DATE_HELP = "use an ISO date such as 2024-09-02"


def parse_yes_no(value: str) -> bool | None:
    """``Y`` → True, ``N`` → False (either case); anything else → ``None``."""
    return {"Y": True, "N": False}.get(value.upper())


@dataclass
class ImportCounts:
    """What an import did to one kind of row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"
