"""The site's door rules on the server: access groups, the doors each may open on a schedule, and the
holidays, as whole tables (a site has tens of rows) with the SQLite store's columns (``RULE_TABLES``):
an admin publishes them, each kiosk copies them."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from faceguard.site.connection import SiteConnection
from faceguard.store.door_rules_table import RULE_TABLES


def rule_rows(conn: SiteConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each rule table, as tuples of ``RULE_TABLES``' columns, in key order."""
    rows = {}
    for table, columns in RULE_TABLES.items():
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, columns[:2])),
        )
        rows[table] = [tuple(row[column] for column in columns) for row in conn.execute(query)]
    return rows


def publish_rules(conn: SiteConnection, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """Replace the server's rules by ``rows`` in one transaction."""
    with conn.transaction():
        for table in reversed(RULE_TABLES):
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        for table, columns in RULE_TABLES.items():
            if not rows.get(table):
                continue
            statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            )
            with conn.cursor() as cursor:
                cursor.executemany(statement, rows[table])
