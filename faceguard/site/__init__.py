"""Site mode: one central PostgreSQL server for many doors.

The server holds the people, their sealed face templates and the settings, and receives every door's
access events; each kiosk keeps an SQLite replica it copies rows into one to one. ``SiteServer`` is the
one entry point: the admin's writes, a door's replication reads and its event delivery.
"""
