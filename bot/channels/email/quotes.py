"""What a participant wrote in an e-mail reply, without the quoted original or a signature.

Pure text in, text out. Mail programs quote the message they answer in many ways; the reply
parser must see only the new words, or "Have you met again? 1 Yes 2 No" quoted below a "2" would
look like a "1".
"""

from __future__ import annotations

import re

# bidi marks that Gmail and Outlook put around an attribution line in Arabic and Persian
_BIDI = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
# "On Mon, 4 May 2026 … wrote:", "Den 4 maj 2026 … skrev:", "في … كتب:", "در … نوشت:",
# and Tigrinya "… ጸሓፈ:": the attribution above a quote ends with the verb and a colon
_ATTRIBUTION_END = re.compile(
    r"(wrote|skrev|schrieb|a écrit|كتب|كتبت|نوشت|نوشته است|ጸሓፈ|ጸሓፈት)\s*:?\s*$", re.IGNORECASE
)
_ATTRIBUTION_START = re.compile(r"^(on|den|am|le|في|در|ብ)\s", re.IGNORECASE)
# Outlook's block: "From: …" / "Från: …" / "من: …" / "از: …" and a separator line
_OUTLOOK_HEADER = re.compile(r"^\s*\*?(from|från|de|von|من|از|ካብ)\s*:\*?\s", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*-{2,}\s*(original message|ursprungligt meddelande|.*-{2,})\s*$", re.I)
_PHONE_FOOTER = re.compile(r"^(sent from my|skickat från min|envoyé de mon)\b", re.IGNORECASE)


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
