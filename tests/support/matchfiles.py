"""Generated match files for tests that need many rows."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
)
LANGUAGES = ("sv", "en", "ar", "ti", "fa")


def many_matches(
    path: Path, count: int, matched_on: str = "2026-05-04", channel: str | None = None
) -> Path:
    """`count` matches of two, across languages, all on SMS or e-mail so every one is reachable
    (each on `channel` when given, else SMS and e-mail by turns)."""
    lines = [HEADER]
    for i in range(count):
        for j, role in enumerate(("newcomer", "established")):
            n = 2 * i + j
            language = LANGUAGES[n % 5]
            chosen = channel or ("sms" if n % 2 == 0 else "email")
            phone = f"+46701{n:06d}"
            lines.append(
                f"M{i:04d},{matched_on},individual,P{n:05d},Person{n},{role},{language},"
                f"{chosen},{phone},p{n}@example.org,{'woman' if n % 3 else 'man'}\n"
            )
    path.write_text("".join(lines), encoding="utf-8")
    return path
