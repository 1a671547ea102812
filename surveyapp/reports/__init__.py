"""Reports: indices with confidence intervals and target verdicts for an organisation's subtree.

One path serves the dashboard, the exports and ``flask report``, module by module:

- :mod:`.filters`: what a report describes (period, sector, channel, survey, flagged) and the
  SQL clauses that select it, applied by every query below;
- :mod:`.queries`: the SQL (respondents folded into bit masks, volumes, a question's
  distribution, comments, the anonymised answer export);
- :mod:`.rollups`: moment cells of complete months and days, and :func:`.rollups.fetch_respondents`,
  which reads a report's data from them and from the raw answers;
- :mod:`.estimates`: moment cells and the estimates ``analysis`` computes from them;
- :mod:`.verdicts`: which target applies, where it comes from, and the verdict;
- :mod:`.model`: the report view model and :func:`.model.build_report`;
- :mod:`.exports`: CSV, XLSX and PDF, every value made inert;
- :mod:`.cli`: the ``report`` and ``report-refresh`` commands.
"""
