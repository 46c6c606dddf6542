"""What is remembered: models, sessions, migrations and the queries on them."""
