"""The bulletin as a document: sections of paragraphs, tables and charts, in the reader's words.

One model feeds every format: the web page, the Word document, the workbook (one sheet per table)
and the CSV files (one per table). Table values stay typed — counts as ``int``, shares and scores
as rounded ``Decimal`` — so the workbook holds numbers, not text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .charts import Chart

TableValue = str | int | Decimal | None


@dataclass(frozen=True, slots=True)
class Table:
    key: str  # stable file-friendly name: sheet and CSV file
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[TableValue, ...], ...]
    note: str = ""

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.key}: row of {len(row)} cells for {len(self.columns)} columns")


def show(value: TableValue) -> str:
    """A cell as a reader sees it."""
    if value is None:
        return "—"
    return str(value)


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    notices: tuple[str, ...] = ()  # warnings shown prominently (a rule not met)


@dataclass(frozen=True)
class Bulletin:
    kind: str  # weekly | monthly | annual | leader-day
    label: str  # 2026-10, 2026-W43, 2026
    title: str  # 12345热线月通报（2026年10月）
    period: str  # 2026年10月1日至10月31日
    issuer: str
    generated_at: datetime
    summary: tuple[str, ...]
    sections: tuple[Section, ...] = field(default=())

    @property
    def tables(self) -> tuple[Table, ...]:
        return tuple(t for s in self.sections for t in s.tables)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for s in self.sections for c in s.charts)
