"""Renders a :class:`~.model.Bulletin`: a self-contained web page (Jinja2, charts as inline SVG),
a Word document (python-docx, charts as PNG), a workbook (openpyxl, one sheet per table) and CSV
files (one per table, UTF-8 with BOM so that spreadsheet programs read the Chinese)."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import jinja2
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import BaseStyle, CharacterStyle
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .charts import CJK_FONTS
from .model import Bulletin, TableValue, show

REPORT_KIND_ZH = {"weekly": "周分析", "monthly": "月通报", "annual": "年总结", "leader-day": "公告"}


def _cell_class(value: TableValue) -> str:
    if isinstance(value, int | Decimal):
        return "num"
    if value is None:
        return "empty"
    return "long" if len(value) > 24 else ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("minhu.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["b64"] = lambda text: base64.b64encode(text.encode("utf-8")).decode("ascii")
    env.filters["show"] = show
    env.filters["cell_class"] = _cell_class
    return env


def font_stack() -> str:
    return ", ".join(f'"{f}"' for f in CJK_FONTS) + ", sans-serif"


def render_html(b: Bulletin, downloads: Sequence[tuple[str, str]] = ()) -> str:
    template = _environment().get_template("bulletin.html")
    return template.render(
        b=b, downloads=list(downloads), font_stack=font_stack(), kind_zh=REPORT_KIND_ZH.get(b.kind, "报告")
    )


def _use_cjk_font(style: BaseStyle, name: str) -> None:
    """Sets the style's Latin and East Asian font (Word picks the w:eastAsia font for Chinese)."""
    rpr = style.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if isinstance(style, CharacterStyle):  # paragraph styles are character styles too
        style.font.name = name


def render_docx(b: Bulletin) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.left_margin = section.right_margin = Cm(2.2)
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        _use_cjk_font(doc.styles[name], CJK_FONTS[0])
    normal = doc.styles["Normal"]
    if isinstance(normal, CharacterStyle):
        normal.font.size = Pt(11)
    title = doc.add_heading(b.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in title.runs:
        run.font.color.rgb = RGBColor(0xB0, 0x3A, 0x2E)
    sub = doc.add_paragraph(f"统计期间：{b.period}\n{b.issuer}　{b.generated_at:%Y年%m月%d日}")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for p in b.summary:
        doc.add_paragraph(p)
    for s in b.sections:
        doc.add_heading(s.title, level=1)
        for n in s.notices:
            run = doc.add_paragraph().add_run(f"提示：{n}")
            run.bold = True
            run.font.color.rgb = RGBColor(0xB0, 0x3A, 0x2E)
        for p in s.paragraphs:
            doc.add_paragraph(p)
        for c in s.charts:
            doc.add_picture(io.BytesIO(c.png), width=Cm(16))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption = doc.add_paragraph(c.title)
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for t in s.tables:
            doc.add_heading(t.title, level=2)
            table = doc.add_table(rows=1, cols=len(t.columns))
            table.style = "Table Grid"
            for cell, col in zip(table.rows[0].cells, t.columns, strict=True):
                cell.text = col
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            if not t.rows:
                row = table.add_row().cells
                row[0].text = "无"
            for values in t.rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, values, strict=True):
                    cell.text = show(value)
                    if isinstance(value, int | Decimal):
                        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if t.note:
                note = doc.add_paragraph(t.note)
                for run in note.runs:
                    run.font.size = Pt(9)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _sheet_name(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", title)[:28] or "表"
    name, n = base, 2
    while name in used:
        name = f"{base[:26]}{n}"
        n += 1
    used.add(name)
    return name


def render_xlsx(b: Bulletin) -> bytes:
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    used: set[str] = set()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="F2F3F4")
    for t in b.tables:
        ws = wb.create_sheet(_sheet_name(t.title, used))
        ws.append([t.title])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(list(t.columns))
        for cell in ws[2]:
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for values in t.rows:
            ws.append([v if v is not None else None for v in values])
        if t.note:
            ws.append([])
            ws.append([t.note])
        for i, col in enumerate(t.columns, start=1):
            width = max([len(col), *(len(show(r[i - 1])) for r in t.rows)]) * 2 + 2
            ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
        ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def render_csv(columns: Sequence[str], rows: Sequence[Sequence[TableValue]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else str(v) for v in row])
    return "\ufeff" + buf.getvalue()


def write_bulletin(b: Bulletin, out_dir: Path) -> dict[str, Path]:
    """Writes every format into ``out_dir``; returns format → path (``csv`` is a directory)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{b.kind}-{b.label}"
    paths = {
        "html": out_dir / f"{stem}.html",
        "docx": out_dir / f"{stem}.docx",
        "xlsx": out_dir / f"{stem}.xlsx",
        "csv": out_dir / f"{stem}-csv",
    }
    downloads = [
        ("Word 文档", paths["docx"].name),
        ("Excel 表格", paths["xlsx"].name),
        ("CSV 数据", paths["csv"].name + "/"),
    ]
    paths["html"].write_text(render_html(b, downloads), encoding="utf-8")
    paths["docx"].write_bytes(render_docx(b))
    paths["xlsx"].write_bytes(render_xlsx(b))
    paths["csv"].mkdir(exist_ok=True)
    for i, t in enumerate(b.tables, start=1):
        (paths["csv"] / f"{i:02d}-{t.key}.csv").write_text(render_csv(t.columns, t.rows), encoding="utf-8")
    return paths
