"""pgflux-ci: the GitHub layer around the pg-flux engine."""
