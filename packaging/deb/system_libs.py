"""The system libraries a one-folder bundle needs and does not carry, and the Debian packages holding them.

    python3 packaging/deb/system_libs.py BUNDLE_DIR [--packages]

Runs ``ldd`` on every ELF file in the bundle the way the bundle's launcher runs them (its _internal
folder first on the library path) and lists each library found outside the bundle with the package
that owns it (``dpkg -S``), then the libraries found nowhere. With ``--packages`` it prints only the
package names, one a line. build_deb.sh compares them with the Depends: it declares.
Libraries Qt opens with dlopen() (libdbus-1) never show here; build_deb.sh lists those itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed(path: Path, env: dict[str, str]) -> list[tuple[str, str | None]]:
    """(soname, resolved path or None) for each library ldd reports; [] for a static or non-loadable file."""
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env, check=False)
    found: list[tuple[str, str | None]] = []
    for line in result.stdout.splitlines():
        line = line.strip()
        if "=>" not in line:
            continue  # linux-vdso, the dynamic loader itself
        soname, _, rest = line.partition("=>")
        rest = rest.strip()
        found.append((soname.strip(), None if rest.startswith("not found") else rest.split(" (")[0]))
    return found


def owner(path: str) -> str:
    """The Debian package owning ``path`` (tried as given and resolved: /lib is /usr/lib on merged-/usr)."""
    for candidate in dict.fromkeys([path, os.path.realpath(path), path.replace("/usr/lib/", "/lib/", 1)]):
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return result.stdout.split(":")[0].strip()
    return "?"


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    bundle = Path(argv[0]).resolve()
    internal = bundle / "_internal"
    env = dict(os.environ, LD_LIBRARY_PATH=str(internal if internal.is_dir() else bundle))
    outside: dict[str, set[str]] = defaultdict(set)  # resolved path -> files of the bundle needing it
    missing: dict[str, set[str]] = defaultdict(set)
    for path in sorted(p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)):
        for soname, resolved in needed(path, env):
            if resolved is None:
                missing[soname].add(str(path.relative_to(bundle)))
            elif not Path(resolved).resolve().is_relative_to(bundle):
                outside[resolved].add(str(path.relative_to(bundle)))
    packages: dict[str, list[str]] = defaultdict(list)
    for resolved in sorted(outside):
        packages[owner(resolved)].append(resolved)
    if "--packages" in argv:
        print("\n".join(sorted(packages)))
        return 0
    for package, paths in sorted(packages.items()):
        print(f"{package}: {' '.join(Path(p).name for p in paths)}")
    for soname, users in sorted(missing.items()):
        print(f"NOT FOUND {soname}: needed by {', '.join(sorted(users)[:3])}{' …' if len(users) > 3 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
