"""`write_report` regenerates docs/benchmarks.md from the measured sections and keeps
the sections written by hand."""

from __future__ import annotations

import json

import pytest

from demo.management.commands import bench_scores


@pytest.fixture
def docs(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_scores, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    return tmp_path / "docs"


def test_a_regenerated_page_keeps_the_sections_written_by_hand(docs):
    (docs / "benchmarks.json").write_text(
        json.dumps({"Scores": {"measured_at": "then", "dataset": "old", "table": []}})
    )
    (docs / "benchmarks.md").write_text(
        "# Benchmarks\n\n## Scores\n\nold figures\n\n"
        "## Mailbox sync\n\nby hand: 98 s\n\n"
        "## Design notes behind the numbers\n\nwhy COPY\n"
    )

    bench_scores.write_report(
        "Scores", {"dataset": "large"}, [("full score recomputation", "8 s", "≤ 10 s")]
    )

    page = (docs / "benchmarks.md").read_text()
    assert "| full score recomputation | 8 s | ≤ 10 s |" in page
    assert "old figures" not in page
    assert page.count("## Scores") == 1
    assert "## Mailbox sync\n\nby hand: 98 s" in page
    assert page.index("## Scores") < page.index("## Mailbox sync") < page.index("## Design notes")
    assert json.loads((docs / "benchmarks.json").read_text())["Scores"]["dataset"] == "large"


def test_regenerating_the_page_changes_nothing_written_by_hand(docs):
    (docs / "benchmarks.md").write_text(
        "# Benchmarks\n\n## Mailbox sync\n\nby hand: 98 s\n\n## Design notes\n\nwhy COPY\n"
    )
    bench_scores.write_report("Scores", {"dataset": "large"}, [("full", "8 s", "≤ 10 s")])
    once = (docs / "benchmarks.md").read_text()
    bench_scores.write_report("Scores", {"dataset": "large"}, [("full", "8 s", "≤ 10 s")])
    again = (docs / "benchmarks.md").read_text()
    assert again.replace(again.split("Measured ")[1].split(" on ")[0], "") == once.replace(
        once.split("Measured ")[1].split(" on ")[0], ""
    )
    assert "\n\n\n" not in again
