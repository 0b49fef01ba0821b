"""Add a schemathesis run's figures to the reliability report (docs/reliability.json).

Usage: reliability_fuzz_figures.py SCHEMATHESIS_REPORT.json RELIABILITY.json SERVER_500S EXIT_STATUS
"""

import json
import sys
from pathlib import Path


def main(report_path: str, reliability_path: str, server_errors: str, status: str) -> None:
    report = json.loads(Path(report_path).read_text())
    target = Path(reliability_path)
    figures = json.loads(target.read_text()) if target.exists() else {}
    figures["api_fuzzing"] = {
        "tool": f"schemathesis {report['schemathesis_version']}",
        "operations_tested": report["operations"]["tested"],
        "test_cases_generated": report["test_cases"]["generated"],
        "test_cases_failing": report["test_cases"]["with_failures"],
        "server_errors_logged": int(server_errors or 0),
        "phases": sorted(
            name for name, phase in report["phases"].items() if phase["status"] == "success"
        ),
        "max_examples_per_operation": 25,
        "seed": report["seed"],
        "seconds": round(report["running_time"], 1),
        "passed": status == "0",
    }
    target.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])
