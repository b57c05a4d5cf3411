"""The enrollment store: people, face templates, the access log and settings in one SQLite file."""
