"""The admin window: people, the access log and the kiosk's settings, on one database file."""
