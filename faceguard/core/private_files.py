"""Files that hold personal data (the database, backups, exports) readable by their owner only.

On POSIX, files are created 0600 and folders 0700 with explicit modes rather than by changing the
process umask, which other libraries (Qt) rely on too; a umask can only make them stricter. An existing
file or folder can be tightened (group and other permissions removed). On Windows nothing is done:
the modes do not map to ACLs, and the user's profile folders, where FaceGuard keeps its data, are
already private to the user.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

#: Whether permission bits mean anything here (not on Windows).
POSIX = os.name == "posix"
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create ``path`` and any missing parents 0700 (``Path.mkdir(parents=True)`` would give the
    parents the default mode); folders that exist are left as they are."""
    missing = []
    folder = Path(path)
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=PRIVATE_FOLDER_MODE)
    return Path(path)


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty and 0600 unless it exists, for a program that opens it next (SQLite);
    whether it was created."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        return False
    return True


def private_opener(path: str | os.PathLike[str], flags: int) -> int:
    """``open(path, "w", opener=private_opener)``: a new file is created 0600 and an existing one it
    overwrites is tightened first, so its new content is never readable by others."""
    descriptor = os.open(path, flags, PRIVATE_FILE_MODE)
    if POSIX:
        try:
            mode = stat.S_IMODE(os.fstat(descriptor).st_mode)
            if mode & 0o077:
                os.fchmod(descriptor, mode & 0o700)
        except OSError:  # another user's file: refused rather than written readable by others
            os.close(descriptor)
            raise
    return descriptor


def tighten(path: Path) -> bool:
    """Remove group and other permissions from an existing file or folder (0644 becomes 0600, 0755
    becomes 0700); whether it changed. A missing path, or one FaceGuard may not change (another
    user's, on a read-only disk), is left as it is."""
    if not POSIX:
        return False
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if not mode & 0o077:
            return False
        path.chmod(mode & 0o700)
    except OSError:
        return False
    return True
