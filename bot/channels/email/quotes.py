"""What a participant wrote in an e-mail reply, without the quoted original or a signature.

Pure text in, text out. Mail programs quote the message they answer in many ways; the reply
parser must see only the new words, or "Have you met again? 1 Yes 2 No" quoted below a "2" would
look like a "1".
"""

from __future__ import annotations

import re

from messages.languages import all_languages

# bidi marks that Gmail and Outlook put around an attribution line in Arabic and Persian
_BIDI = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def _words(group: str, *others: str) -> str:
    """One regex alternation of a mail header group's words, from every language's folder."""
    words = {word for lang in all_languages().values() for word in lang.mail[group]}
    return "|".join(re.escape(word) for word in sorted(words | set(others), key=len, reverse=True))


# The attribution above a quote ends with the verb and a colon: "On Mon, 4 May 2026 … wrote:",
# "Den 4 maj 2026 … skrev:", "في … كتب:". The words come from the language folders ([mail]);
# the German and French ones are for mail programs set to languages we do not write in.
_ATTRIBUTION_END = re.compile(
    rf"({_words('attribution_end', 'schrieb', 'a écrit')})\s*:?\s*$", re.IGNORECASE
)
_ATTRIBUTION_START = re.compile(rf"^({_words('attribution_start', 'am', 'le')})\s", re.I)
# Outlook's block: "From: …" / "Från: …" / "من: …" / "از: …" and a separator line
_OUTLOOK_HEADER = re.compile(
    rf"^\s*\*?({_words('from_header', 'de', 'von')})\s*:\*?\s", re.IGNORECASE
)
_SEPARATOR = re.compile(rf"^\s*-{{2,}}\s*({_words('separator')}|.*-{{2,}})\s*$", re.I)
_PHONE_FOOTER = re.compile(rf"^({_words('phone_footer', 'envoyé de mon')})\b", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """The new words of a reply: quoted lines, the attribution and signature removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, raw in enumerate(lines):
        line = raw.translate(_BIDI)
        bare = line.strip()
        if line.rstrip(" ") == "--" and raw.startswith("--"):
            break  # "-- " starts a signature (RFC 3676)
        if _SEPARATOR.match(bare) or _OUTLOOK_HEADER.match(bare) or _PHONE_FOOTER.match(bare):
            break
        if bare.startswith(">"):
            # everything from the first quoted line on is the original
            _drop_attribution(kept)
            break
        if _ATTRIBUTION_END.search(bare) and (
            _ATTRIBUTION_START.match(bare) or _ATTRIBUTION_START.match(_previous(kept))
        ):
            if not _ATTRIBUTION_START.match(bare):
                kept.pop()  # the attribution was wrapped over two lines
            break
        if _ATTRIBUTION_START.match(bare) and index + 1 < len(lines):
            following = lines[index + 1].translate(_BIDI).strip()
            if following.startswith(">"):
                break
        kept.append(line)
    return "\n".join(kept).strip()


def _previous(kept: list[str]) -> str:
    return kept[-1].strip() if kept else ""


def _drop_attribution(kept: list[str]) -> None:
    while kept and not kept[-1].strip():
        kept.pop()
    if kept and _ATTRIBUTION_END.search(kept[-1].strip()):
        kept.pop()
