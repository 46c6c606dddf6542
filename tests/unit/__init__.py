"""Pure tests: no database, no server, no subprocess; `make unit` runs them in seconds."""
