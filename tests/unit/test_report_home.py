"""The funder report's home is `reports/`, below the composition root: the coordinators' web app
and the command line both make the report from there, and nothing below `fikafollow/` imports
the composition root's package at run time."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_channel_packages import _runtime_imports

ROOT = Path(__file__).resolve().parents[2]
BELOW = ("bot", "scheduler", "store", "messages", "coordinator", "reports")


def test_nothing_below_the_composition_root_imports_it() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {module}"
        for folder in BELOW
        for path in sorted((ROOT / folder).rglob("*.py"))
        for module in _runtime_imports(path)
        if module == "fikafollow" or module.startswith("fikafollow.")
    ]
    assert wrong == []


def test_the_web_app_and_the_command_make_the_report_from_reports() -> None:
    for path in (ROOT / "coordinator" / "web.py", ROOT / "fikafollow" / "commands" / "report.py"):
        modules = set(_runtime_imports(path))
        assert {"reports.funder"} <= modules or "reports" in modules, path
    assert not (ROOT / "fikafollow" / "report.py").exists()
