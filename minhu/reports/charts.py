"""Charts of the bulletins, drawn with matplotlib (no pyplot state: one Figure per chart) in a CJK
font, as SVG for the web page and PNG for the Word document."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure

from .errors import ReportError

# The fonts tried in order; scripts/ensure-browser.sh installs fonts-noto-cjk on Debian.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC")
_PALETTE = ("#c0392b", "#2471a3", "#d68910", "#229954", "#7d3c98", "#17a589", "#5d6d7e", "#a04000")


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    svg: str
    png: bytes
    alt: str  # what the chart shows, in words (for readers who cannot see it)


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The first installed CJK font family, or a :class:`ReportError` saying how to install one."""
    for attempt in range(2):
        installed = {f.name for f in font_manager.fontManager.ttflist}
        for name in CJK_FONTS:
            if name in installed:
                return name
        if attempt == 0:
            # matplotlib caches the font list when first imported; a font installed since then
            # (fonts-noto-cjk after an earlier run) is only found by looking at the system again.
            known = {f.fname for f in font_manager.fontManager.ttflist}
            for path in font_manager.findSystemFonts():
                if path not in known:
                    try:
                        font_manager.fontManager.addfont(path)
                    except (OSError, RuntimeError, ValueError):
                        continue  # a font file matplotlib cannot read is not one we can use
    raise ReportError(
        "report-no-cjk-font",
        "未找到中文字体，图表无法显示汉字：请安装 fonts-noto-cjk（scripts/ensure-browser.sh）",
    )


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _render(fig: Figure, key: str, title: str, alt: str) -> Chart:
    with matplotlib.rc_context(
        {"font.family": [cjk_font()], "svg.hashsalt": key, "axes.unicode_minus": False}
    ):
        svg_buf = io.StringIO()
        fig.savefig(svg_buf, format="svg", metadata={"Date": None})
        png_buf = io.BytesIO()
        fig.savefig(png_buf, format="png", dpi=150)
    return Chart(key, title, svg_buf.getvalue(), png_buf.getvalue(), alt)


def _font() -> font_manager.FontProperties:
    return font_manager.FontProperties(family=cjk_font())


def bar_chart(
    key: str, title: str, labels: Sequence[str], values: Sequence[int | Decimal], *, unit: str = "件"
) -> Chart:
    """Horizontal bars, largest on top."""
    font = _font()
    height = max(2.4, 0.42 * len(labels) + 1.2)
    fig = _figure(7.2, height)
    ax = fig.add_subplot()
    ys = list(range(len(labels)))[::-1]
    bars = ax.barh(ys, [float(v) for v in values], color=_PALETTE[1])
    ax.set_yticks(ys, list(labels), fontproperties=font)
    ax.bar_label(bars, [f"{v}{unit}" for v in values], padding=3, fontproperties=font, fontsize=9)
    ax.set_title(title, fontproperties=font, fontsize=13)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xmargin(0.15)
    for tick in ax.get_xticklabels():
        tick.set_fontproperties(font)
    alt = "；".join(f"{label}{v}{unit}" for label, v in zip(labels, values, strict=True))
    return _render(fig, key, title, f"{title}：{alt}")


def line_chart(
    key: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | None]]],
    *,
    y_label: str = "占比（%）",
) -> Chart:
    """One line per series over the windows (shares in per cent)."""
    font = _font()
    fig = _figure(7.2, 3.8)
    ax = fig.add_subplot()
    xs = list(range(len(x_labels)))
    for i, (name, values) in enumerate(series):
        ys = [float(v) if v is not None else float("nan") for v in values]
        ax.plot(xs, ys, marker="o", color=_PALETTE[i % len(_PALETTE)], label=name, linewidth=2)
        for x, v in zip(xs, values, strict=True):
            if v is not None and i == 0:  # the values of the leading series only, for legibility
                ax.annotate(
                    f"{v}%",
                    (x, float(v)),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=8,
                    fontproperties=font,
                )
    ax.set_xticks(xs, list(x_labels), fontproperties=font)
    ax.set_ylabel(y_label, fontproperties=font)
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontproperties=font, fontsize=13)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(prop=font, fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    alt = "；".join(
        f"{name}："
        + "、".join(f"{x}{'—' if v is None else f'{v}%'}" for x, v in zip(x_labels, values, strict=True))
        for name, values in series
    )
    return _render(fig, key, title, f"{title}。{alt}")
