"""A door's password as PostgreSQL's SCRAM-SHA-256 verifier (RFC 5802/7677), made here: the
``CREATE ROLE`` sent to the server then never holds the password itself, so no statement log or
``pg_stat_activity`` view can show it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

#: PostgreSQL's default iteration count (``scram_iterations``).
ITERATIONS = 4096
SALT_BYTES = 16


def scram_verifier(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``, as pg_authid stores it. The
    password must be ASCII (SASLprep leaves it as is): FaceGuard's are ``secrets.token_urlsafe``."""
    if not password.isascii():
        raise ValueError("A door password is ASCII (token_urlsafe); SASLprep is not implemented here.")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"
