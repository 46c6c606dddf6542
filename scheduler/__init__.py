"""When things happen: passes that are functions of `now`, and the wiring that triggers them."""
