"""CI's dependency audit: pip-audit over the installed (pinned) environment, against PyPI's own
vulnerability data (`--vulnerability-service pypi`, the JSON API).

A known vulnerability in any installed package fails (exit 1). Advisory data that cannot be
reached (no network, an index mirror without the JSON API, a timeout) is said plainly and does
not fail: a machine that can only reach a package mirror must still be able to run CI, and the
line says how many packages went unaudited so nobody mistakes it for a clean audit.

    python scripts/audit.py [--timeout SECONDS] [--from-json FILE]

`--from-json` reads a saved `pip-audit --format json` report instead of running it (to check this
script's verdicts without the network).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def verdict(report: dict[str, object]) -> tuple[int, str]:
    """Exit code and the line to print for one pip-audit JSON report."""
    deps = report.get("dependencies")
    if not isinstance(deps, list):
        return 0, "pip-audit: no report (advisory data unreachable?); NOT audited, not failing"
    vulnerable: list[str] = []
    skipped = 0
    for dep in deps:
        if not isinstance(dep, dict):
            continue
        if dep.get("skip_reason"):
            skipped += 1
            continue
        vulns = dep.get("vulns") or []
        if isinstance(vulns, list) and vulns:
            ids = ", ".join(str(v.get("id")) for v in vulns if isinstance(v, dict))
            vulnerable.append(f"{dep.get('name')} {dep.get('version')}: {ids}")
    audited = len(deps) - skipped
    if vulnerable:
        return 1, "pip-audit: KNOWN VULNERABILITIES\n  " + "\n  ".join(vulnerable)
    if audited == 0:
        return 0, (
            f"pip-audit: advisory data unreachable from here: 0 of {len(deps)} packages "
            "audited (PyPI's JSON API not reachable); NOT audited, not failing"
        )
    note = f" ({skipped} not found on the index, not audited)" if skipped else ""
    return 0, f"pip-audit: {audited} packages audited, no known vulnerabilities{note}"


def run(timeout: float) -> dict[str, object]:
    command = [
        str(Path(sys.executable).with_name("pip-audit")),
        "--skip-editable",
        "--vulnerability-service",
        "pypi",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        "15",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"pip-audit: no answer within {timeout:.0f} s", file=sys.stderr)
        return {}
    try:
        parsed = json.loads(done.stdout)
    except json.JSONDecodeError:
        # pip-audit failed before writing a report: show why (its stderr has no secrets)
        print(done.stderr.strip()[-2000:], file=sys.stderr)
        return {}
    return parsed if isinstance(parsed, dict) else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--from-json", type=Path)
    args = parser.parse_args()
    report = json.loads(args.from_json.read_text()) if args.from_json else run(args.timeout)
    code, line = verdict(report)
    print(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
