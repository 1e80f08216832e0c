"""The Python side of ``templates/_components``: values a view builds for the table component.

``Column`` describes a table column; ``Cell`` is a table cell that needs more than its text (a
sort key, numeric alignment). A plain value works as a cell too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    text: str
    sortable: bool = True
    numeric: bool = False


@dataclass(frozen=True)
class Cell:
    value: object
    sort_value: object | None = None
    numeric: bool = False
    is_cell: bool = True  # how the template tells a Cell from a plain value
