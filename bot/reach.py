"""Which channel and address reach a participant: their preferred channel, then the ladder."""

from __future__ import annotations

from store.models import Participant
from store.vocabulary import CHANNELS


def address_for(participant: Participant, channel: str) -> str | None:
    if channel == "telegram":
        return participant.telegram_chat_id
    if channel == "sms":
        return participant.phone
    if channel == "email":
        return participant.email
    return None


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
