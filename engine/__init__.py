"""pg-flux: the declarative PostgreSQL schema engine. Knows PostgreSQL, nothing of GitHub."""
