"""Where the key that encrypts the face data lives: outside the database, which records only its id.

A key is 32 random bytes, written as one base64 line. New databases use this computer's current key
(made on first need): in the OS keyring where a real one works (service "faceguard", the key id as
user name), else in ``<config>/keys/<key id>.key``, a 0600 file in a 0700 folder; ``keys/current``
names it. So every database on the computer (the site's, the demo, kiosks sharing one file) opens
with the same key, and a database file copied away alone reveals no face.

``$FACEGUARD_KEY_FILE`` names a key file to use first: a key copied from another computer, or one
for tests. With it set, that file's key is the current one (made there if the file is missing).

A key a database needs is looked for in ``$FACEGUARD_KEY_FILE``, then the keys folder, then the OS
keyring. ``faceguard db rotate-key`` retires the key it replaces: ``<key id>.key.retired`` (or the
keyring name ``<key id>.retired``), kept so older backups can still be opened after renaming it back.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from faceguard.core.errors import FaceDataKeyError
from faceguard.core.paths import config_dir
from faceguard.core.private_files import private_folder, private_opener
from faceguard.store.sealing import KEY_BYTES, key_id

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

#: Environment variable naming a key file to use before the keys folder and the OS keyring.
KEY_ENV = "FACEGUARD_KEY_FILE"
#: The OS keyring's service name for FaceGuard's keys.
KEYRING_SERVICE = "faceguard"
RETIRED = ".retired"


def key_folder() -> Path:
    """The folder of key files: ``keys`` in FaceGuard's config folder (e.g. ~/.config/faceguard/keys)."""
    return config_dir() / "keys"


def key_file(key_id_: str) -> Path:
    return key_folder() / f"{key_id_}.key"


def current_key() -> bytes:
    """The key new databases are encrypted with: ``$FACEGUARD_KEY_FILE``'s, else the one
    ``keys/current`` names, else a new one made now."""
    override = _override()
    if override is not None:
        if not override.exists():
            _write_key_file(override, _new_key())
        return _read_key_file(override)
    pointer = key_folder() / "current"
    if pointer.exists():
        return find_key(pointer.read_text(encoding="ascii").strip(), "new databases")
    return new_current_key()


def new_current_key() -> bytes:
    """Make a new key, store it (OS keyring, else a key file) and make it the current one."""
    key = _new_key()
    if not _keyring_set(key_id(key), key):
        _write_key_file(key_file(key_id(key)), key)
    _write_private(key_folder() / "current", key_id(key) + "\n")
    return key


def find_key(wanted: str, needed_by: object) -> bytes:
    """The key whose id is ``wanted`` (``needed_by``: the database, for the message), or a
    FaceDataKeyError saying where it was looked for and how to get it back."""
    override = _override()
    if override is not None and override.exists():
        key = _read_key_file(override)
        if key_id(key) == wanted:
            return key
    if key_file(wanted).exists():
        return _read_key_file(key_file(wanted))
    in_keyring = _keyring_get(wanted)
    if in_keyring is not None:
        return in_keyring
    raise FaceDataKeyError(_missing(wanted, needed_by, override))


def location(key_id_: str) -> str:
    """Where the key ``key_id_`` is kept, for the backup reminder."""
    override = _override()
    if override is not None and override.exists() and key_id(_read_key_file(override)) == key_id_:
        return str(override)
    if key_file(key_id_).exists():
        return str(key_file(key_id_))
    return f"the OS keyring (service {KEYRING_SERVICE!r}, name {key_id_!r})"


def retire(key_id_: str) -> str:
    """Retire the key ``key_id_`` after a rotation: rename its file (``$FACEGUARD_KEY_FILE``'s or the
    keys folder's) to ``….retired``, or its keyring entry to ``<id>.retired``; where it went."""
    override = _override()
    for path in (override, key_file(key_id_)):
        if path is not None and path.exists() and key_id(_read_key_file(path)) == key_id_:
            retired = path.with_name(path.name + RETIRED)
            path.replace(retired)
            return str(retired)
    key = _keyring_get(key_id_)
    backend = _keyring()
    if backend is not None and key is not None and _keyring_set(key_id_ + RETIRED, key):
        backend.delete_password(KEYRING_SERVICE, key_id_)
        return f"the OS keyring (service {KEYRING_SERVICE!r}, name {key_id_ + RETIRED!r})"
    return "nowhere: it was not found"


def _missing(wanted: str, needed_by: object, override: Path | None) -> str:
    path = key_file(wanted)
    message = (
        f"The face data of {needed_by} is encrypted with key {wanted}, which is not on this computer: "
        f"the key file {path} is missing (nor is it in the OS keyring). Restore it from your backup, "
        f"or point ${KEY_ENV} at a copy of it."
    )
    if override is not None:
        held = key_id(_read_key_file(override)) if override.exists() else "no key: the file does not exist"
        message += f" ${KEY_ENV} names {override}, which holds {held}."
    retired = path.with_name(path.name + RETIRED)
    if retired.exists():
        message += f" 'faceguard db rotate-key' retired this key as {retired}: rename it back to open this older copy."
    return message


def _new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _override() -> Path | None:
    value = os.environ.get(KEY_ENV)
    return Path(value).expanduser() if value else None


def _read_key_file(path: Path) -> bytes:
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (OSError, binascii.Error) as error:
        raise FaceDataKeyError(f"Cannot read the face data key file {path}: {error}.") from None
    if len(key) != KEY_BYTES:
        raise FaceDataKeyError(f"{path} is not a FaceGuard key file (it holds {len(key)} bytes, not {KEY_BYTES}).")
    return key


def _write_key_file(path: Path, key: bytes) -> None:
    _write_private(path, base64.b64encode(key).decode("ascii") + "\n")
    log.info("Made the face data key %s in %s; back it up apart from the database.", key_id(key), path)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (0600 in 0700 folders) whole: a partial file never takes its name."""
    private_folder(path.parent)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        with open(partial, "x", encoding="ascii", opener=private_opener) as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise FaceDataKeyError(f"Cannot write the face data key file {path}: {error.strerror or error}.") from None


def _keyring() -> KeyringBackend | None:
    """The OS keyring, or None where none works (a headless kiosk without a Secret Service, or only
    a plain-text or failing backend): then keys are files."""
    try:
        import keyring  # imported on need: the key files are found first
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if backend.priority <= 0 or type(backend).__module__.startswith("keyrings.alt"):
        return None
    return backend


def _keyring_get(name: str) -> bytes | None:
    backend = _keyring()
    if backend is None:
        return None
    from keyring.errors import KeyringError

    try:
        value = backend.get_password(KEYRING_SERVICE, name)
    except KeyringError as error:
        log.warning("The OS keyring could not be read (%s).", error)
        return None
    return None if value is None else base64.b64decode(value)


def _keyring_set(name: str, key: bytes) -> bool:
    """Store ``key`` in the OS keyring under ``name``; False where there is none or it refuses."""
    backend = _keyring()
    if backend is None:
        return False
    from keyring.errors import KeyringError

    try:
        backend.set_password(KEYRING_SERVICE, name, base64.b64encode(key).decode("ascii"))
    except KeyringError as error:
        log.warning("The OS keyring refused the face data key (%s); it is kept in a file instead.", error)
        return False
    return True
