"""The system libraries a one-folder bundle needs and does not carry, and the Debian packages holding them.

    python3 packaging/deb/system_libs.py BUNDLE_DIR [--packages]

Reads the libraries each ELF file of the bundle names directly (its NEEDED entries, ``readelf -d``), resolves
those the bundle does not carry with ``ldd`` the way the bundle's launcher runs them (its _internal folder
first on the library path) and lists each with the package that owns it (``dpkg -S``), then the libraries
found nowhere. Only direct needs count: what a system library needs in turn is its own package's Depends.
With ``--packages`` it prints only the package names, one a line; build_deb.sh compares them with the
Depends: it declares. A library opened only with dlopen() would not show here (none today: this Qt links
libdbus-1 directly).
"""

from __future__ import annotations

import os
import re
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


def direct_needs(path: Path) -> list[str]:
    """The sonames in ``path``'s NEEDED entries."""
    result = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=False)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", result.stdout)


def resolved(path: Path, env: dict[str, str]) -> dict[str, str | None]:
    """{soname: resolved path, or None when not found} for every library ldd reports for ``path``."""
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env, check=False)
    found: dict[str, str | None] = {}
    for line in result.stdout.splitlines():
        line = line.strip()
        if "=>" not in line:
            continue  # linux-vdso, the dynamic loader itself
        soname, _, rest = line.partition("=>")
        rest = rest.strip()
        found[soname.strip()] = None if rest.startswith("not found") else rest.split(" (")[0]
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
    files = sorted(p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))
    carried = {p.name for p in bundle.rglob("*") if p.is_file()}
    for path in files:
        # the dynamic loader is libc6's, and ldd names it without "=>"
        needs = [s for s in direct_needs(path) if s not in carried and not s.startswith("ld-linux")]
        if not needs:
            continue
        where = resolved(path, env)
        for soname in needs:
            location = where.get(soname)
            if location is None:
                missing[soname].add(str(path.relative_to(bundle)))
            elif not Path(location).resolve().is_relative_to(bundle):
                outside[location].add(str(path.relative_to(bundle)))
    packages: dict[str, list[str]] = defaultdict(list)
    for location in sorted(outside):
        packages[owner(location)].append(location)
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
