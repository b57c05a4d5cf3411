"""The site's face data key: the one key file every admin PC and kiosk of the site shares. The server
records only its id (as the SQLite store does), set by the first enrollment."""

from __future__ import annotations

from faceguard.site.connection import SiteConnection
from faceguard.store import keys
from faceguard.store.sealing import Sealer, key_id


def site_key_id(conn: SiteConnection) -> str | None:
    """The id of the key the site's face data is sealed with (None before the first enrollment)."""
    row = conn.execute("SELECT key_id FROM face_data_key WHERE id = 1").fetchone()
    return None if row is None else str(row["key_id"])


def site_sealer(conn: SiteConnection) -> Sealer:
    """The sealer of the site's key (in the caller's transaction): this computer's current key for the
    site's first face, else the key the site records, found as the SQLite store finds one (a
    FaceDataKeyError says where to put it when this computer lacks it)."""
    recorded = site_key_id(conn)
    if recorded is None:
        key = keys.current_key()
        conn.execute("INSERT INTO face_data_key (id, key_id) VALUES (1, %s) ON CONFLICT (id) DO NOTHING", [key_id(key)])
        recorded = site_key_id(conn)
        if recorded == key_id(key):
            return Sealer(key)
    return Sealer(keys.find_key(str(recorded), f"the site database {conn.info.dbname}"))
