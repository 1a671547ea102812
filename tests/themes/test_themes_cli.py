"""``flask comments themes FILE --format json``: one JSON object per comment line."""
from __future__ import annotations

import json


def test_themes_of_a_file(runner, tmp_path):
    path = tmp_path / "comments.txt"
    path.write_text("cho doi lau qua\nCán bộ không thân thiện\n\nBác sĩ khám kỹ, cảm ơn\n", encoding="utf-8")
    result = runner.invoke(args=["comments", "themes", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 4  # the empty line too: line n of the output is line n of the file
    assert all(set(row) == {"themes", "polarity", "flags"} for row in rows)
    assert rows[0] == {"themes": ["waiting"], "polarity": "complaint", "flags": []}
    assert rows[1]["themes"] == ["attitude"] and rows[1]["polarity"] == "complaint"
    assert rows[2] == {"themes": [], "polarity": "neutral", "flags": []}
    assert rows[3]["themes"] == ["care"] and rows[3]["polarity"] == "praise"


def test_themes_from_standard_input(runner):
    result = runner.invoke(args=["comments", "themes", "-", "--format", "json"],
                           input="Có người dọa đánh tôi ở cửa\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["flags"] == ["urgent"]


def test_a_missing_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["comments", "themes", str(tmp_path / "none.txt")])
    assert result.exit_code != 0 and "none.txt" in result.output
