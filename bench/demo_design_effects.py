"""Design effects of the demo province: how correlated one demo respondent's answers are.

    python bench/demo_design_effects.py [--seed 2026] [--responses 20000] [--today 2026-06-30]

Seeds the demo into a temporary SQLite database (as `flask seed-demo` does, with a fixed date
so that the figures repeat), then, per full questionnaire, prints:

* the mean correlation between two items' answers of one respondent, on the 1-5 values and on
  the 0/1 satisfied indicators (pairs of answered items);
* the design effect of the headline index (the composite; the overall rate for health) per
  service point, with the respondent as cluster: median and range over the service points;
* the same for the whole province (service points as strata).

The design effect is (linearised SE / SE as if every answer were independent)², the `deff`
of `analysis.composite_index` and `analysis.overall_rate`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def mean_pairwise_correlation(x: np.ndarray) -> float:
    """Mean over item pairs of the correlation of two items' answers (respondents answering both)."""
    cors = []
    for j in range(x.shape[1]):
        for k in range(j + 1, x.shape[1]):
            both = ~np.isnan(x[:, j]) & ~np.isnan(x[:, k])
            a, b = x[both, j], x[both, k]
            if both.sum() > 2 and a.std() > 0 and b.std() > 0:
                cors.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(cors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 6, 30))
    args = parser.parse_args()

    import sqlalchemy as sa

    import analysis
    from surveyapp import create_app
    from surveyapp.cli import upgrade_to_head
    from surveyapp.extensions import db
    from surveyapp.models import Answer, Aspect, Question, Questionnaire, Response
    from surveyapp.seed import seed_demo

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'demo.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade_to_head()
        summary = seed_demo(seed=args.seed, n_responses=args.responses, today=args.today)
        print(f"demo seed={args.seed}, today={args.today}: {summary}")
        rows = db.session.execute(
            sa.select(Questionnaire.family, Questionnaire.indicator, Response.service_point_id, Answer.response_id,
                      Question.id, Aspect.code, Answer.value, Answer.satisfied)
            .join(Question, Question.id == Answer.question_id)
            .join(Questionnaire, Questionnaire.id == Question.questionnaire_id)
            .join(Aspect, Aspect.id == Question.aspect_id)
            .join(Response, Response.id == Answer.response_id)
            .where(Question.counts_in_index)
        ).all()
    print(f"\n{'questionnaire':<20}{'resp.':>7}{'r values':>10}{'r 0/1':>8}"
          f"{'deff per point: median (range)':>34}{'deff province':>15}")
    for family in sorted({r[0] for r in rows}):
        fam = [r for r in rows if r[0] == family]
        indicator = fam[0][1]
        questions = sorted({r[4] for r in fam})
        aspect_of = {r[4]: r[5] for r in fam}
        respondents = sorted({r[3] for r in fam})
        row_of = {rid: i for i, rid in enumerate(respondents)}
        col_of = {q: j for j, q in enumerate(questions)}
        values = np.full((len(respondents), len(questions)), np.nan)
        sat = np.zeros_like(values)
        ans = np.zeros_like(values)
        point = np.zeros(len(respondents), dtype=np.int64)
        for _f, _i, sp, rid, qid, _a, value, satisfied in fam:
            i, j = row_of[rid], col_of[qid]
            point[i] = sp
            if satisfied is not None:  # "no opinion" counts in no denominator
                values[i, j] = value
                sat[i, j] = satisfied
                ans[i, j] = 1.0
        sat01 = np.where(ans > 0, sat, np.nan)
        aspects = [aspect_of[q] for q in questions]

        def deff(mask: np.ndarray, strata: np.ndarray | None = None) -> float:
            if indicator == "overall_rate":
                est = analysis.overall_rate(sat[mask], ans[mask], strata=strata)
            else:
                est = analysis.composite_index(sat[mask], ans[mask], aspects, strata=strata)
            return float(est.deff)

        per_point = [deff(point == sp) for sp in np.unique(point)]
        whole = deff(np.ones(len(respondents), dtype=bool), strata=point)
        print(f"{family:<20}{len(respondents):>7}{mean_pairwise_correlation(values):>10.2f}"
              f"{mean_pairwise_correlation(sat01):>8.2f}"
              f"{f'{np.median(per_point):.1f} ({min(per_point):.1f}-{max(per_point):.1f})':>34}{whole:>15.1f}")


if __name__ == "__main__":
    main()
