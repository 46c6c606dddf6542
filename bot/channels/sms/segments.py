"""How many SMS parts a text costs, as a GSM network counts them.

A text goes as GSM-7 only when every character is in the GSM 03.38 basic set or its extension
table; one other character (an emoji, a smart quote, a no-break space, any Arabic letter) turns
the whole message into UCS-2, which fits less than half as much per part. A single message holds
160 septets or 70 UTF-16 code units; a concatenated one loses room in every part to the header
that joins the parts, leaving 153 septets or 67 code units each.
"""

from __future__ import annotations

from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet; 0x1B is left out because it is the escape to the extension table,
# not a character of its own.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each of these costs two septets: the escape and the character.
GSM_EXTENSION = frozenset("\f^{}\\[]~|€")

SINGLE_GSM, PART_GSM = 160, 153
SINGLE_UCS2, PART_UCS2 = 70, 67


def encoding(text: str) -> Encoding:
    """The encoding a network will use for the text."""
    if all(char in GSM_BASIC or char in GSM_EXTENSION for char in text):
        return "GSM-7"
    return "UCS-2"


def _costs(text: str, kind: Encoding) -> list[int]:
    if kind == "GSM-7":
        return [2 if char in GSM_EXTENSION else 1 for char in text]
    # characters outside the Basic Multilingual Plane take a surrogate pair
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def length(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    return sum(_costs(text, encoding(text)))


def segments(text: str) -> int:
    """How many SMS parts the text is sent as; an empty text still costs one."""
    kind = encoding(text)
    costs = _costs(text, kind)
    single, part = (SINGLE_GSM, PART_GSM) if kind == "GSM-7" else (SINGLE_UCS2, PART_UCS2)
    if sum(costs) <= single:
        return 1
    # Senders never split an escape sequence or a surrogate pair across two parts, so a part
    # may end one unit short; counting by packing rather than dividing gets that edge right.
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts
