"""Which channel and address reach a participant: their preferred channel, then the ladder."""

from __future__ import annotations

from store.models import Participant
from store.participants import ADDRESS_COLUMNS
from store.vocabulary import CHANNELS


def address_for(participant: Participant, channel: str) -> str | None:
    column = ADDRESS_COLUMNS.get(channel)
    return None if column is None else getattr(participant, column.key)


def ladder(participant: Participant) -> list[tuple[str, str]]:
    """(channel, address) in the order to try: the preferred one first, then the others."""
    order = [participant.channel, *(c for c in CHANNELS if c != participant.channel)]
    steps = []
    for channel in order:
        if participant.is_dead(channel):
            continue
        address = address_for(participant, channel)
        if address:
            steps.append((channel, address))
    return steps
