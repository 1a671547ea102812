"""The chart module on its own: names are data (never markup, never math), the verdict reads in
black and white, the funnel names its outliers, the document's PNG is a real picture."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from surveyapp import charts, create_app
from surveyapp.reports.estimates import Estimate
from surveyapp.reports.model import Row, Section
from surveyapp.reports.verdicts import TargetRef, judge

from tests.conftest import base_config

TARGET = TargetRef(0.9, False, "Nghị quyết 76/NQ-CP")


@pytest.fixture
def plain_app():
    """No database: charts draw from a Section alone."""
    app = create_app(base_config("sqlite://"))
    with app.test_request_context():
        yield app


def row(label: str, k: int, n: int, key: int = 0) -> Row:
    from analysis import proportion_ci

    lo, hi = proportion_ci(k, n)
    e = Estimate(k / n, float(lo), float(hi), n, n_eff=float(n), dissatisfied=n - k)
    return Row(key, label, e, judge(e, TARGET), kind="organisation", target=TARGET)


def section(units: list[Row]) -> Section:
    head = row("all", 900, 1000)
    trend = [row(f"2026-{m:02d}", 80 + m, 100, m) for m in range(1, 7)]
    return Section(1, "Khảo sát thử", "quick", "Chỉ số đánh giá nhanh", "administrative", head.estimate, TARGET,
                   head.verdict, True, None, None, [], trend, units, [])


def test_names_stay_text_in_the_svg(plain_app):
    units = [row("UBND <script>alert(1)</script> & co", 95, 100, 1), row("Quầy $x^2$ số 1", 60, 100, 2),
             row("Xã Đông Hòa", 88, 100, 3)]
    svg = charts.build("units", section(units), "vi").svg()
    root = ET.fromstring(svg)  # well-formed: the names were escaped
    assert "<script" not in svg.decode()
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Quầy $x^2$ số 1" in texts  # not typeset as mathematics
    assert charts._short("UBND <script>alert(1)</script> & co") == "UBND <script>alert(1)</script> &…"
    assert "UBND <script>alert(1)</script> &…" in texts


def test_verdict_reads_without_colour(plain_app):
    units = [row("Đạt", 990, 1000, 1), row("Không đạt", 600, 1000, 2), row("Chưa rõ", 18, 20, 3)]
    chart = charts.build("units", section(units), "vi")
    assert {u.verdict.status for u in units} == {"met", "not_met", "inconclusive"}
    # Each verdict has its own marker shape and symbol, and the table says it in words.
    shapes = {charts.VERDICT_STYLE[s][1] for s in ("met", "not_met", "inconclusive")}
    symbols = {charts.VERDICT_STYLE[s][2] for s in ("met", "not_met", "inconclusive")}
    assert len(shapes) == len(symbols) == 3
    verdicts = {r[0]: r[-1] for r in chart.rows}
    assert verdicts == {"Đạt": "✓ Đạt", "Không đạt": "✗ Không đạt · ≤ 80%", "Chưa rõ": "? Chưa đủ căn cứ"}
    svg = chart.svg().decode()
    for text in ("99,0% ✓", "60,0% ✗", "90,0% ?"):
        assert text in svg
    # The colours are Okabe–Ito's; the shapes and symbols above carry the verdict without them.
    assert {charts.VERDICT_STYLE[s][0] for s in ("met", "not_met", "inconclusive")} == {
        charts.GREEN, charts.VERMILLION, charts.ORANGE}


def test_funnel_names_only_the_outliers(plain_app):
    units = [row("Xã Giữa", 900, 1000, 1), row("Xã Thấp", 700, 1000, 2), row("Xã Nhỏ", 17, 20, 3)]
    chart = charts.build("funnel", section(units), "vi")
    where = {r[0]: r[-1] for r in chart.rows}
    assert where == {"Xã Giữa": "trong giới hạn", "Xã Thấp": "dưới giới hạn 99,8%", "Xã Nhỏ": "trong giới hạn"}
    svg = chart.svg().decode()
    assert "Xã Thấp" in svg and "Xã Giữa" not in svg and "Xã Nhỏ" not in svg


def test_trend_band_and_document_png(plain_app):
    chart = charts.build("trend", section([]), "vi")
    assert [r[0] for r in chart.rows] == [f"2026-{m:02d}" for m in range(1, 7)]
    svg = chart.svg().decode()
    assert "Khoảng tin cậy 95%" in svg  # the band is in the legend, named
    png = Image.open(io.BytesIO(chart.png(dpi=150)))
    assert png.format == "PNG" and png.size == (int(charts.WIDTH_IN * 150), int(3.4 * 150))
    with pytest.raises(KeyError):
        charts.build("pie", section([]), "vi")
