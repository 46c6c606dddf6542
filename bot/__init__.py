"""Everything that talks with participants: channels, reply parser, dialogue, web endpoints."""
