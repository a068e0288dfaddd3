"""``minhu report`` on the seeded demo city, end to end on a scratch SQLite file: the monthly
bulletin (and the weekly analysis and annual summary) written as HTML, DOCX, XLSX and CSV; the
HTML rendered in headless Chromium and checked for what a reader sees; the leaders' hotline days.

The demo seed fills the last full month before today (``minhu.demo_bulletin``), so the month the
test reports on is that one (October 2026 when run in November 2026).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image
from typer.testing import CliRunner

from minhu.cli import app
from minhu.demo_bulletin import last_full_month
from workorders.analysis import Window
from workorders.clock import SHANGHAI

from ..agent_desktop.browser_rig import CHROMIUM, CHROMIUM_FLAGS, require_browser

runner = CliRunner()


@pytest.fixture(scope="module")
def month() -> Window:
    return last_full_month(datetime.now(SHANGHAI))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A migrated, seeded demo city; yields the directory holding it."""
    root = tmp_path_factory.mktemp("report-city")
    patch = pytest.MonkeyPatch()
    patch.setenv("MINHU_DATABASE_URL", f"sqlite+aiosqlite:///{root}/city.db")
    patch.setenv("MINHU_LOG_LEVEL", "WARNING")
    try:
        upgraded = runner.invoke(app, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        seeded = runner.invoke(app, ["seed-demo"])
        assert seeded.exit_code == 0, seeded.output
        yield root
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def monthly(city: Path, month: Window) -> dict[str, Path]:
    patch = pytest.MonkeyPatch()
    patch.setenv("MINHU_DATABASE_URL", f"sqlite+aiosqlite:///{city}/city.db")
    patch.setenv("MINHU_LOG_LEVEL", "WARNING")
    try:
        result = runner.invoke(app, ["report", "monthly", month.label, "--out", str(city / "out")])
    finally:
        patch.undo()
    assert result.exit_code == 0, result.output
    paths = {}
    for line in result.output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("html", "docx", "xlsx", "csv"):
            paths[parts[0]] = Path(parts[1])
    assert set(paths) == {"html", "docx", "xlsx", "csv"}, result.output
    return paths


def test_given_the_demo_city_when_the_monthly_bulletin_is_made_then_every_format_is_written(
    monthly: dict[str, Path], month: Window
) -> None:
    assert monthly["html"].name == f"monthly-{month.label}.html"
    for fmt in ("html", "docx", "xlsx"):
        assert monthly[fmt].is_file() and monthly[fmt].stat().st_size > 5_000, fmt
    csv_files = sorted(p.name for p in monthly["csv"].iterdir())
    for key in (
        "category_shares",
        "top_topics",
        "difficult",
        "ranking_district",
        "interviews",
        "leader_days",
    ):
        assert any(name.endswith(f"-{key}.csv") for name in csv_files), (key, csv_files)
    html = monthly["html"].read_text(encoding="utf-8")
    assert f"12345民呼必应热线月通报（{month.label_zh}）" in html


def _csv(monthly: dict[str, Path], key: str) -> list[list[str]]:
    path = next(p for p in monthly["csv"].iterdir() if p.name.endswith(f"-{key}.csv"))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff"), "spreadsheet programs need the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_given_the_demo_month_when_analysed_then_the_bulletin_says_something(
    monthly: dict[str, Path],
) -> None:
    shares = _csv(monthly, "category_shares")
    assert shares[0] == ["分类", "件数", "占比（%）", "上期占比（%）", "变化（百分点）"]
    categories = {row[0]: (int(row[1]), row[2]) for row in shares[1:]}
    assert "城市管理类" in categories and categories["城市管理类"][0] > 20
    # The sewer at 光明小区 comes back every week of the month: a difficult request.
    difficult = _csv(monthly, "difficult")
    assert any(row[0] == "市政管网" and "光明小区" in row[1] and int(row[2]) >= 3 for row in difficult[1:]), (
        difficult
    )
    clusters = {row[0] for row in _csv(monthly, "clusters")[1:]}
    assert {"光明小区", "锦华小区", "建设路"} <= clusters
    ranking = _csv(monthly, "ranking_district")
    assert [row[1] for row in ranking[1:]] and ranking[1][0] == "1"
    leader = _csv(monthly, "leader_days")
    assert any("李建华" in row for row in leader[1:]) and any("王立新" in row for row in leader[1:])


def test_given_the_bulletin_when_opened_as_docx_and_xlsx_then_the_tables_and_charts_are_there(
    monthly: dict[str, Path], month: Window
) -> None:
    doc = Document(str(monthly["docx"]))
    texts = [p.text for p in doc.paragraphs]
    assert f"12345民呼必应热线月通报（{month.label_zh}）" in texts
    assert any("城市管理类" in t for t in texts)
    csv_count = len(list(monthly["csv"].iterdir()))
    assert len(doc.tables) == csv_count
    header_rows = [[c.text for c in t.rows[0].cells] for t in doc.tables]
    assert ["分类", "件数", "占比（%）", "上期占比（%）", "变化（百分点）"] in header_rows
    assert len(doc.inline_shapes) >= 4, "the charts are pictures in the document"

    book = load_workbook(monthly["xlsx"], read_only=True)
    assert len(book.sheetnames) == csv_count
    sheet = book["诉求分类占比（与2026年9月比较）" if month.label == "2026-10" else book.sheetnames[3]]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("分类", "件数", "占比（%）", "上期占比（%）", "变化（百分点）")
    first = rows[2]
    assert isinstance(first[1], int) and isinstance(first[2], float | int), "numbers, not text"
    total = sum(r[1] for r in rows[2:] if r and isinstance(r[1], int))
    assert total > 100


async def test_given_the_html_bulletin_when_rendered_in_chromium_then_a_reader_sees_charts_chinese_and_tables(
    monthly: dict[str, Path], tmp_path: Path
) -> None:
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
            await page.goto(monthly["html"].as_uri())
            await page.wait_for_load_state("load")

            # Charts: every image decoded with a real size, and ink on it.
            charts = page.locator("img.chart")
            n = await charts.count()
            assert n >= 4
            sizes = await page.evaluate(
                "() => [...document.querySelectorAll('img.chart')].map(i => "
                "[i.complete, i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width])"
            )
            assert all(ok and w > 300 and h > 150 and shown > 300 for ok, w, h, shown in sizes), sizes
            for i in range(n):
                shot = Image.open(io.BytesIO(await charts.nth(i).screenshot())).convert("L")
                dark = sum(shot.histogram()[:200])
                assert dark > 500, f"chart {i} is blank"

            # Chinese text drawn with a CJK font, not boxes: the font Chromium actually used for the
            # title, and distinct characters drawing distinct glyphs.
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("DOM.enable")
            await cdp.send("CSS.enable")
            doc = await cdp.send("DOM.getDocument")
            node = await cdp.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": "h1"})
            fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
            used = {f["familyName"]: f["glyphCount"] for f in fonts["fonts"]}
            assert any("CJK" in name and count > 5 for name, count in used.items()), used
            glyphs = await page.evaluate(
                """() => {
                  const font = getComputedStyle(document.querySelector('h1')).font;
                  return ['城', '市', '管', '理', '\\uE000'].map(ch => {
                    const c = document.createElement('canvas'); c.width = 64; c.height = 64;
                    const g = c.getContext('2d'); g.font = font.replace(/\\d+px/, '40px');
                    g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
                    g.fillStyle = '#000'; g.fillText(ch, 4, 48);
                    return c.toDataURL();
                  });
                }"""
            )
            cjk, tofu = glyphs[:4], glyphs[4]
            assert len(set(cjk)) == 4, "distinct characters drew the same glyph (tofu)"
            assert tofu not in cjk

            # Tables a reader can read: headers and rows, in Chinese.
            for key in ("category_shares", "top_topics", "ranking_district", "interviews", "leader_days"):
                table = page.locator(f"table[data-table='{key}']")
                assert await table.is_visible(), key
            rows = await page.locator("table[data-table='category_shares'] tbody tr").count()
            assert rows >= 5
            headline = await page.locator("h1").inner_text()
            assert headline.startswith("12345民呼必应热线月通报")
            await page.screenshot(path=str(tmp_path / "bulletin.png"), full_page=True)
        finally:
            await browser.close()


def _invoke(city: Path, *args: str) -> tuple[int, str]:
    patch = pytest.MonkeyPatch()
    patch.setenv("MINHU_DATABASE_URL", f"sqlite+aiosqlite:///{city}/city.db")
    patch.setenv("MINHU_LOG_LEVEL", "WARNING")
    try:
        result = runner.invoke(app, list(args))
    finally:
        patch.undo()
    return result.exit_code, result.output


def test_given_the_demo_city_when_weekly_and_annual_reports_are_made_then_they_are_written(
    city: Path, month: Window
) -> None:
    iso = (month.start + timedelta(days=14)).isocalendar()
    code, output = _invoke(city, "report", "weekly", f"{iso.year}-W{iso.week:02d}", "--out", str(city / "w"))
    assert code == 0, output
    assert (city / "w" / f"weekly-{iso.year}-W{iso.week:02d}.docx").is_file()
    code, output = _invoke(city, "report", "annual", str(month.start.year), "--out", str(city / "y"))
    assert code == 0, output
    annual = (city / "y" / f"annual-{month.start.year}.html").read_text(encoding="utf-8")
    assert "年度考核" in annual and "年度得分" in annual
    code, output = _invoke(city, "report", "monthly", "2020-01", "--out", str(city / "empty"))
    assert code == 0, output
    empty = (city / "empty" / "monthly-2020-01.html").read_text(encoding="utf-8")
    assert "共接收群众诉求0件" in empty and "<img" not in empty, "no chart without data"
    code, output = _invoke(city, "report", "monthly", "2026-13")
    assert code == 2 and "月份须在1到12之间" in output
    code, output = _invoke(city, "report", "monthly", "2026/10")
    assert code == 2 and "应写作如 2026-10" in output


def test_given_a_leader_day_when_scheduled_and_published_then_the_rules_of_article_6_are_checked(
    city: Path,
) -> None:
    now = datetime.now(SHANGHAI)
    later = (now + timedelta(days=40)).replace(hour=9, minute=0, second=0, microsecond=0)
    label = f"{later.year:04d}-{later.month:02d}"
    code, output = _invoke(
        city,
        "report",
        "leader-day",
        "add",
        "--start",
        later.strftime("%Y-%m-%dT%H:%M"),
        "--leader",
        "赵刚",
        "--title",
        "市住房和城乡建设局局长",
        "--minutes",
        "90",
    )
    assert code == 1 and "不少于2小时" in output
    code, output = _invoke(
        city,
        "report",
        "leader-day",
        "add",
        "--start",
        later.strftime("%Y-%m-%dT%H:%M"),
        "--leader",
        "赵刚",
        "--title",
        "市住房和城乡建设局局长",
        "--focus",
        "物业服务",
    )
    assert code == 0, output
    code, output = _invoke(city, "report", "leader-day", "list", label)
    assert code == 0 and "赵刚" in output and "未公布" in output
    code, output = _invoke(city, "report", "leader-day", "publish", label, "--out", str(city / "notice"))
    assert code == 0, output
    notice = (city / "notice" / f"leader-day-{label}.html").read_text(encoding="utf-8")
    assert "赵刚" in notice and "市住房和城乡建设局局长" in notice and "未公布" not in notice
    code, output = _invoke(city, "report", "leader-day", "list", label)
    assert "已公布" in output
