"""Every chart of the reports, drawn once for the screen (SVG) and the filed documents (PNG).

Each builder takes a :class:`~surveyapp.reports.model.Section` and returns a :class:`Chart`: the
figure and, from the same numbers, its table alternative. Nothing is computed here that the
report did not already compute (the funnel's curves excepted: they are the limits the report
uses, drawn at more sample sizes).

Uncertainty is drawn as uncertainty: a dot with its interval as one bar (forest plot), a line in
an interval band (trend), the control limits around the target (funnel). The verdict is told by
the marker's shape and a symbol as well as by its colour; the colours are Okabe and Ito's,
which readers with any common colour-vision deficiency tell apart.
"""
from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import matplotlib
import numpy as np
from flask_babel import gettext as _
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

import analysis

from .i18n import percent
from .reports.model import Row, Section, funnel_at
from .reports.verdicts import STATUS_LABELS

# Okabe & Ito (2008), "Color Universal Design".
BLUE, ORANGE, SKY, GREEN, VERMILLION, GREY = "#0072B2", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#6b6b6b"
# The verdict's colour, marker and symbol: readable in black and white by shape and symbol.
VERDICT_STYLE = {
    "met": (GREEN, "o", "✓"),
    "inconclusive": (ORANGE, "D", "?"),
    "not_met": (VERMILLION, "s", "✗"),
    "no_target": (GREY, "o", "–"),
    "no_data": (GREY, "o", "–"),
}
WIDTH_IN = 7.2  # 720 px at 100 dpi on screen; scaled to the text width in documents
LABEL_CHARS = 34
MAX_NAMED = 12  # outlying units named on a funnel plot

# Text stays text in the SVG (searchable, crisp, the page's font); labels are data, never math.
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "svg.fonttype": "none",
    "svg.hashsalt": "surveyapp",
    "text.parse_math": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#444444",
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "legend.frameon": False,
    "legend.fontsize": 9,
}


@dataclass
class Chart:
    """A figure and its table alternative, built from the same rows."""

    kind: str
    title: str
    header: list[str]
    rows: list[list[str]]
    summary: str  # the image's alt text: what it shows, in one sentence
    draw: Callable[[Figure, bool], None] = field(repr=False)
    height_in: float = 3.6
    width_in: float = WIDTH_IN
    # Constrained layout measures every text twice: the long forest plots set their margins
    # themselves instead.
    layout: str | None = "constrained"

    def _figure(self, titled: bool) -> Figure:
        fig = Figure(figsize=(self.width_in, self.height_in), dpi=100, layout=self.layout)
        self.draw(fig, titled)
        return fig

    def svg(self) -> bytes:
        """For the screen: the title drawn in the picture (the page's caption is for screen readers)."""
        with matplotlib.rc_context(RC):
            buf = io.BytesIO()
            self._figure(True).savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()

    def png(self, dpi: int = 200, titled: bool = False) -> bytes:
        """For documents: without the title, which the document's numbered caption carries."""
        with matplotlib.rc_context(RC):
            buf = io.BytesIO()
            self._figure(titled).savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        return buf.getvalue()


def _title(ax, text: str) -> None:
    # On the figure, not the axes: a long title may use the width the unit names take.
    ax.figure.suptitle(textwrap.fill(text, 90), x=0.01, ha="left", fontsize=11, fontweight="bold")


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _axis_pct(ax, axis: str, lang: str) -> None:
    fmt = FuncFormatter(lambda v, _pos: percent(v / 100, lang, 0))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _interval(row: Row, lang: str) -> str:
    e = row.estimate
    return f"{percent(e.low, lang)} – {percent(e.high, lang)}" if e.defined else "–"


def _verdict_text(row: Row) -> str:
    text = f"{VERDICT_STYLE[row.verdict.status][2]} {row.verdict.label}"
    if row.verdict.barred:
        text += " · ≤ 80%"
    return text


def _limits(rows: list[Row], section: Section) -> tuple[float, float]:
    """The value axis in percent: every interval and the target, with a little room."""
    values = [v for r in rows for v in (r.estimate.low, r.estimate.high) if v is not None]
    if section.target is not None:
        values.append(section.target.value)
    if not values:
        return 0.0, 100.0
    lo, hi = min(values) * 100, max(values) * 100
    return max(0.0, np.floor(lo / 5) * 5 - 2), min(100.0, np.ceil(hi / 5) * 5) + 2


def _target_handle(section: Section):
    return Line2D([], [], color="black", linestyle="--", linewidth=1.2,
                  label=_("Chỉ tiêu %(bar)s", bar=section.target.label))


def _verdict_handles(statuses: set[str]) -> list:
    return [Line2D([], [], color=VERDICT_STYLE[s][0], marker=VERDICT_STYLE[s][1], linestyle="none", markersize=7,
                   label=f"{VERDICT_STYLE[s][2]} {STATUS_LABELS[s]}")
            for s in ("met", "inconclusive", "not_met", "no_target") if s in statuses]


# ---------------------------------------------------------------------------------------------
# Forest plots: units, aspects (ranked), channels


def _forest(kind: str, title: str, first_col: str, rows: list[Row], section: Section, lang: str,
            with_verdict: bool, summary: str) -> Chart:
    header = [first_col, _("Chỉ số"), _("Khoảng tin cậy 95%"), _("Số người trả lời")]
    if with_verdict:
        header += [_("Chỉ tiêu"), _("Đánh giá")]
    table = []
    for r in rows:
        line = [r.label, percent(r.estimate.estimate, lang), _interval(r, lang), str(r.estimate.n)]
        if with_verdict:
            target = r.target or section.target
            line += [target.label if target else "–", _verdict_text(r)]
        table.append(line)
    shown = [r for r in rows if r.estimate.defined]

    def draw(fig: Figure, titled: bool = True) -> None:
        ax = fig.add_subplot()
        if titled:
            _title(ax, title)
        y = np.arange(len(shown))[::-1]
        lo, hi = _limits(shown, section)
        statuses: dict[str, list[int]] = {}
        own: list[tuple[float, float]] = []
        for i, r in enumerate(shown):
            statuses.setdefault(r.verdict.status if with_verdict else "no_target", []).append(i)
        # One artist per verdict for the bars and one for the dots: drawing stays fast with many units.
        for status, idx in statuses.items():
            colour, marker, _symbol = VERDICT_STYLE[status]
            rows = [shown[i].estimate for i in idx]
            ax.hlines(y[idx], [e.low * 100 for e in rows], [e.high * 100 for e in rows], color=colour, linewidth=2.2)
            ax.plot([e.estimate * 100 for e in rows], y[idx], marker=marker, color=colour, markersize=7,
                    markeredgecolor="black", markeredgewidth=0.6, linestyle="none")
        for yi, r in zip(y, shown):
            e = r.estimate
            right = e.high * 100
            target = r.target or section.target
            if with_verdict and target is not None and section.target is not None and target.value != section.target.value:
                own.append((target.value * 100, yi))
                right = max(right, target.value * 100)
            symbol = VERDICT_STYLE[r.verdict.status][2]
            ax.text(right, yi, "  " + percent(e.estimate, lang) + (f" {symbol}" if with_verdict else ""),
                    va="center", fontsize=8.5)
        own_targets = bool(own)
        if own:
            ax.plot(*zip(*own), marker="|", color="black", markersize=14, markeredgewidth=1.6, linestyle="none")
        handles = []
        if section.target is not None:
            ax.axvline(section.target.value * 100, color="black", linestyle="--", linewidth=1.2)
            handles.append(_target_handle(section))
        if own_targets:
            handles.append(Line2D([], [], color="black", marker="|", markersize=12, markeredgewidth=1.6,
                                  linestyle="none", label=_("Chỉ tiêu riêng của đơn vị")))
        if with_verdict:
            handles += _verdict_handles(set(statuses))
        ax.set_yticks(y, [_short(r.label) for r in shown])
        ax.set_ylim(-0.7, len(shown) - 0.3)
        ax.set_xlim(lo, hi + (hi - lo) * 0.14)
        ax.set_xticks([t for t in ax.get_xticks() if lo <= t <= 100])
        _axis_pct(ax, "x", lang)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel(_("Chỉ số (dấu chấm) và khoảng tin cậy 95% (thanh ngang)"))
        legend_rows = -(-len(handles) // 3)
        if handles:
            fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 3))
        # Margins in inches: the longest name on the left, the title above, axis label and legend below.
        longest = max((len(_short(r.label)) for r in shown), default=10)
        left = min(0.46, (0.25 + 0.085 * longest) / WIDTH_IN)
        top_in, bottom_in = (0.5 if titled else 0.15), 0.75 + 0.22 * legend_rows
        fig.subplots_adjust(left=left, right=0.95, top=1 - top_in / height, bottom=bottom_in / height)

    rows_in = 0.3 * max(len(shown), 2)
    height = rows_in + 0.5 + 0.75 + 0.22 * 2 + 0.1
    return Chart(kind, title, header, table, summary, draw, height, layout=None)


def units_forest(section: Section, lang: str) -> Chart:
    """Each unit's index as a dot with its 95% interval as a bar, against the target line."""
    rows = sorted(section.units, key=lambda r: (r.estimate.estimate is None, -(r.estimate.estimate or 0)))
    return _forest("units", _("%(title)s: chỉ số các đơn vị so với chỉ tiêu", title=section.title), _("Đơn vị"),
                   rows, section, lang, True,
                   _("Biểu đồ: chỉ số và khoảng tin cậy của từng đơn vị so với chỉ tiêu; số liệu ở bảng kèm theo."))


def aspects_ranked(section: Section, lang: str) -> Chart:
    """The aspects from the best to the weakest, each with its interval."""
    rows = sorted(section.aspects, key=lambda r: (r.estimate.estimate is None, -(r.estimate.estimate or 0)))
    return _forest("aspects", _("Các khía cạnh, xếp từ cao đến thấp"), _("Khía cạnh"), rows, section, lang, False,
                   _("Biểu đồ: các khía cạnh xếp từ cao đến thấp, mỗi khía cạnh với khoảng tin cậy; "
                     "số liệu ở bảng kèm theo."))


def channels_forest(section: Section, lang: str) -> Chart:
    return _forest("channels", _("Chỉ số theo kênh"), _("Kênh"), list(section.channels), section, lang, False,
                   _("Biểu đồ: chỉ số theo kênh với khoảng tin cậy; số liệu ở bảng kèm theo."))


# ---------------------------------------------------------------------------------------------
# Trend: a line in its interval band


def _trend_table(section: Section, lang: str) -> tuple[list[str], list[list[str]]]:
    header = [_("Tháng"), _("Chỉ số"), _("Khoảng tin cậy 95%"), _("Số người trả lời"), _("Đánh giá")]
    return header, [[r.label, percent(r.estimate.estimate, lang), _interval(r, lang), str(r.estimate.n),
                     _verdict_text(r)] for r in section.trend]


def _draw_trend(ax, section: Section, lang: str, small: bool) -> list:
    rows = section.trend
    x = np.arange(len(rows))
    est = np.array([np.nan if r.estimate.estimate is None else r.estimate.estimate * 100 for r in rows])
    low = np.array([np.nan if r.estimate.low is None else r.estimate.low * 100 for r in rows])
    high = np.array([np.nan if r.estimate.high is None else r.estimate.high * 100 for r in rows])
    band = ax.fill_between(x, low, high, color=SKY, alpha=0.35, linewidth=0, label=_("Khoảng tin cậy 95%"))
    (line,) = ax.plot(x, est, color=BLUE, linewidth=2 if not small else 1.6, marker="o",
                      markersize=4 if not small else 2.5, label=_("Chỉ số"))
    handles = [line, band]
    if section.target is not None:
        ax.axhline(section.target.value * 100, color="black", linestyle="--", linewidth=1.1)
        handles.append(_target_handle(section))
    lo, hi = _limits(rows, section)
    ax.set_ylim(lo, hi)
    _axis_pct(ax, "y", lang)
    return handles


def trend_band(section: Section, lang: str) -> Chart:
    """The index month by month as a line, its 95% interval as a band, the target as a line."""
    header, rows = _trend_table(section, lang)
    title = _("%(title)s: diễn biến theo tháng", title=section.title)

    def draw(fig: Figure, titled: bool = True) -> None:
        ax = fig.add_subplot()
        if titled:
            _title(ax, title)
        handles = _draw_trend(ax, section, lang, small=False)
        labels = [r.label for r in section.trend]
        step = max(1, len(labels) // 12)
        ax.set_xticks(np.arange(len(labels))[::step], labels[::step], rotation=30 if len(labels) > 6 else 0,
                      ha="right" if len(labels) > 6 else "center")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        fig.legend(handles=handles, loc="outside lower center", ncol=3)

    return Chart("trend", title, header, rows,
                 _("Biểu đồ: chỉ số theo tháng (đường) trong khoảng tin cậy 95% (dải) so với chỉ tiêu; "
                   "số liệu ở bảng kèm theo."), draw, 3.4)


def trend_spark(section: Section, lang: str) -> Chart:
    """The headline card's small trend: the same line and band, no legend."""
    header, rows = _trend_table(section, lang)
    if section.trend:
        first, last = section.trend[0], section.trend[-1]
        summary = _("Diễn biến theo tháng: %(a)s %(va)s, %(b)s %(vb)s.", a=first.label,
                    va=percent(first.estimate.estimate, lang), b=last.label, vb=percent(last.estimate.estimate, lang))
    else:
        summary = _("Chưa có số liệu theo tháng.")

    def draw(fig: Figure, titled: bool = True) -> None:
        ax = fig.add_subplot()
        _draw_trend(ax, section, lang, small=True)
        ax.set_xticks([])
        ax.tick_params(axis="y", labelsize=8, length=2, pad=1)
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3))

    return Chart("spark", section.title, header, rows, summary, draw, 0.75, 2.6)


# ---------------------------------------------------------------------------------------------
# Funnel plot: units against limits that narrow as the sample grows; outliers labelled


def _funnel_position(r: Row, limits: tuple[float, float, float, float]) -> str:
    lo95, hi95, lo998, hi998 = limits
    v = r.estimate.estimate
    if v < lo998:
        return "below998"
    if v < lo95:
        return "below95"
    if v > hi998:
        return "above998"
    if v > hi95:
        return "above95"
    return "inside"


def funnel(section: Section, lang: str) -> Chart:
    """Each unit's index by its effective number of responses, inside the 95% and 99.8% limits
    around the target: a point outside is unlikely to be noise, and is labelled."""
    # Every unit against the section's target, the one the curves are drawn around.
    limits = {id(u): funnel_at(u.estimate, section.target) for u in section.units}
    units = [u for u in section.units if limits[id(u)]]
    where = {
        "below998": _("dưới giới hạn 99,8%"), "below95": _("dưới giới hạn 95%"), "inside": _("trong giới hạn"),
        "above95": _("trên giới hạn 95%"), "above998": _("trên giới hạn 99,8%"),
    }
    header = [_("Đơn vị"), _("Số phiếu hiệu dụng"), _("Chỉ số"), _("Giới hạn 95%"), _("Giới hạn 99,8%"), _("Vị trí")]
    rows = [[u.label, str(int(round(u.estimate.n_eff or u.estimate.n))), percent(u.estimate.estimate, lang),
             f"{percent(limits[id(u)][0], lang)} – {percent(limits[id(u)][1], lang)}",
             f"{percent(limits[id(u)][2], lang)} – {percent(limits[id(u)][3], lang)}",
             str(where[_funnel_position(u, limits[id(u)])])]
            for u in units]
    title = _("%(title)s: biểu đồ phễu", title=section.title)
    style = {"below998": (VERMILLION, "s"), "below95": (ORANGE, "D"), "inside": (GREY, "o"),
             "above95": (SKY, "^"), "above998": (BLUE, "^")}

    def draw(fig: Figure, titled: bool = True) -> None:
        ax = fig.add_subplot()
        if titled:
            _title(ax, title)
        if not units or section.target is None:
            return
        n = np.array([max(u.estimate.n_eff or u.estimate.n, 1) for u in units], dtype=float)
        top = max(n.max() * 1.3, 20)
        ns = np.unique(np.round(np.geomspace(5, top, 60)))
        lim = analysis.funnel_limits(ns, section.target.value, levels=(0.95, 0.998))
        lo95, hi95 = lim.limits[0.95]
        lo998, hi998 = lim.limits[0.998]
        ax.plot(ns, lo95 * 100, color="black", linestyle="--", linewidth=1)
        ax.plot(ns, hi95 * 100, color="black", linestyle="--", linewidth=1)
        ax.plot(ns, lo998 * 100, color="black", linestyle=":", linewidth=1.2)
        ax.plot(ns, hi998 * 100, color="black", linestyle=":", linewidth=1.2)
        ax.axhline(section.target.value * 100, color="black", linewidth=1.2)
        positions = [_funnel_position(u, limits[id(u)]) for u in units]
        ys = np.array([u.estimate.estimate * 100 for u in units])
        for pos, (colour, marker) in style.items():
            mask = np.array([p == pos for p in positions])
            if mask.any():
                ax.plot(n[mask], ys[mask], marker=marker, color=colour, markeredgecolor="black", markeredgewidth=0.5,
                        markersize=7, linestyle="none")
        middle = (np.log(4) + np.log(top)) / 2
        # The farthest outliers are named (outside 99.8% first), a dozen at most: the table names all.
        rank = {"below998": 0, "above998": 0, "below95": 1, "above95": 1}
        named = sorted((i for i, p in enumerate(positions) if p != "inside"),
                       key=lambda i: (rank[positions[i]], -abs(ys[i] - section.target.value * 100) * np.sqrt(n[i])))
        for i in named[:MAX_NAMED]:
            left = np.log(n[i]) > middle  # labels point inwards, so that they stay inside the axes
            ax.annotate(_short(units[i].label), (n[i], ys[i]), xytext=(-6 if left else 6, 0), textcoords="offset points",
                        fontsize=8, va="center", ha="right" if left else "left")
        ax.set_xscale("log")
        ax.set_xlim(4, top)
        ax.set_ylim(max(0, min(list(ys) + list(lo998[ns >= n.min()] * 100)) - 3), 100.5)
        _axis_pct(ax, "y", lang)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.set_xlabel(_("Số phiếu hiệu dụng (thang log)"))
        ax.grid(color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)
        handles = [
            Line2D([], [], color="black", linewidth=1.2, label=_("Chỉ tiêu %(bar)s", bar=section.target.label)),
            Line2D([], [], color="black", linestyle="--", linewidth=1, label=_("Giới hạn 95%")),
            Line2D([], [], color="black", linestyle=":", linewidth=1.2, label=_("Giới hạn 99,8%")),
        ] + [Line2D([], [], color=style[p][0], marker=style[p][1], markeredgecolor="black", markeredgewidth=0.5,
                    linestyle="none", label=str(where[p]))
                    for p in style if any(_funnel_position(u, limits[id(u)]) == p for u in units)]
        fig.legend(handles=handles, loc="lower center", ncol=3)
        fig.subplots_adjust(left=0.09, right=0.97, top=1 - (0.5 if titled else 0.15) / 4.4, bottom=1.25 / 4.4)

    return Chart("funnel", title, header, rows,
                 _("Biểu đồ phễu: chỉ số các đơn vị theo số phiếu, với giới hạn 95% và 99,8% quanh chỉ tiêu; "
                   "đơn vị nằm ngoài giới hạn được ghi tên; số liệu ở bảng kèm theo."), draw, 4.4, layout=None)


BUILDERS: dict[str, Callable[[Section, str], Chart]] = {
    "units": units_forest,
    "aspects": aspects_ranked,
    "channels": channels_forest,
    "trend": trend_band,
    "spark": trend_spark,
    "funnel": funnel,
}


def build(kind: str, section: Section, lang: str) -> Chart:
    """The chart ``kind`` of ``section``; KeyError for an unknown kind."""
    return BUILDERS[kind](section, lang)
