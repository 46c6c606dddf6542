"""The SMS cost table of the README, computed from the catalogue as it is.

    python -m tests.support.sms_cost

For every message kind and language: the most SMS parts any realistic rendering takes (long names,
every question, with and without links — the variants tests/unit/test_messages.py checks), and the
encoding. tests/unit/test_sms_cost.py checks that the README's table says the same.
"""

from __future__ import annotations

from bot.channels.sms.segments import encoding, segments
from messages.render import KINDS, LANGUAGES, default_catalogue
from tests.unit.test_messages import _variants


def cost_table() -> dict[str, dict[str, tuple[int, str]]]:
    """language → kind → (most parts, encoding)."""
    catalogue = default_catalogue()
    table: dict[str, dict[str, tuple[int, str]]] = {}
    for language in LANGUAGES:
        row: dict[str, tuple[int, str]] = {}
        for kind in KINDS:
            texts = [
                catalogue.render(kind, language, "sms", **params).text
                for params in _variants(kind, language)
            ]
            encodings = {encoding(text) for text in texts}
            row[kind] = (max(segments(text) for text in texts), "/".join(sorted(encodings)))
        table[language] = row
    return table


def markdown(table: dict[str, dict[str, tuple[int, str]]]) -> str:
    """One row per kind, one column per language; the last row says the encoding."""
    languages = list(table)
    lines = [
        "| message | " + " | ".join(languages) + " |",
        "|---|" + "---|" * len(languages),
    ]
    for kind in KINDS:
        lines.append(
            f"| `{kind}` | " + " | ".join(str(table[lang][kind][0]) for lang in languages) + " |"
        )
    encodings = ["/".join(sorted({enc for _n, enc in table[lang].values()})) for lang in languages]
    lines.append("| encoding | " + " | ".join(encodings) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(cost_table()))
