"""A real PostgreSQL server in a temporary folder (initdb, loopback only, fsync off; run as user postgres
when we are root, since initdb refuses root), and a TCP forwarder between a kiosk and it that can be
unplugged. Used by the site tests' fixtures (``tests/site/conftest.py``) and by
``benchmarks/bench_site.py``."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
_RUN = {"check": True, "capture_output": True, "text": True, "timeout": 60}


class PostgresError(RuntimeError):
    """The server could not be started or stopped (the message has pg_ctl's output and the server's log)."""


@dataclass(frozen=True)
class PostgresServer:
    port: int
    password: str
    folder: Path
    bin_dir: Path

    def url(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{dbname}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "log"

    def start(self) -> None:
        """Start the server (again) and wait until it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg_ctl("-l", self.log, "-w", "-t", "30", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m mode`` (fast: connections are cut, what was committed stays), waiting for it."""
        self._pg_ctl("-m", mode, "-w", "stop")

    def _pg_ctl(self, *arguments: str | Path) -> None:
        try:
            subprocess.run(as_server_user(self.bin_dir / "pg_ctl", "-D", self.data, *arguments), **_RUN)
        except subprocess.CalledProcessError as error:
            details = (error.stdout or "") + (error.stderr or "")
            details += self.log.read_text() if self.log.exists() else ""
            raise PostgresError(f"pg_ctl {' '.join(map(str, arguments[-1:]))} failed: {details}") from None


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise PostgresError("The PostgreSQL server binaries (initdb, pg_ctl) are missing: run 'make system-deps'.")
    return Path(initdb).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_server_user(*command: str | Path) -> list[str]:
    """``command`` run as user postgres when we are root (initdb refuses root), else as ourselves."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return [*prefix, *map(str, command)]


def start_postgres(prefix: str = "faceguard-pg-") -> PostgresServer:
    """A new cluster in a new temporary folder (superuser ``postgres`` with a random password, SCRAM
    logins), started on a free loopback port. ``remove_postgres`` stops it and deletes the folder."""
    bin_dir = postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    password = secrets.token_urlsafe(16)
    (folder / "superuser").write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(folder / "superuser", "postgres", "postgres")
    server = PostgresServer(free_port(), password, folder, bin_dir)
    try:
        subprocess.run(
            as_server_user(
                bin_dir / "initdb", "-D", server.data, "-U", SUPERUSER, "--auth=scram-sha-256",
                f"--pwfile={folder / 'superuser'}", "-E", "UTF8", "--no-locale", "--no-sync",
            ),
            **_RUN,
        )  # fmt: skip
        server.start()
    except (subprocess.CalledProcessError, PostgresError) as error:
        details = str(error) if isinstance(error, PostgresError) else error.stderr
        shutil.rmtree(folder, ignore_errors=True)
        raise PostgresError(f"PostgreSQL did not start: {details}") from None
    return server


def remove_postgres(server: PostgresServer) -> None:
    """Stop the server (immediately; already stopped is fine) and delete its folder."""
    try:
        with contextlib.suppress(PostgresError):
            server.stop("immediate")
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)


class Cable:
    """A TCP forwarder between the kiosk and the server that can be unplugged (all connections cut,
    new ones refused) and plugged in again: the network, the one thing replaced here. A connection
    the server refuses (it is down) is closed on the kiosk's side, and the cable keeps working."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.plugged = threading.Event()
        self.plugged.set()
        self.frozen = threading.Event()
        self._lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.plugged.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                server.settimeout(None)
            except OSError:  # the server is down: the kiosk sees its connection refused
                client.close()
                continue
            with self._lock:
                if not self.plugged.is_set():  # unplugged while connecting
                    client.close()
                    server.close()
                    continue
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if not self.frozen.is_set():  # frozen: the bytes are lost, nothing is closed
                    sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def unplug(self) -> None:
        with self._lock:
            self.plugged.clear()
            for each in self.sockets:
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)  # each pipe then ends, and the socket with it
            self.sockets.clear()

    def plug(self) -> None:
        self.plugged.set()

    def freeze(self) -> None:
        """Go silent: every byte is dropped both ways, every connection stays open (a router gone, a
        firewall dropping packets), so only a timeout can tell."""
        self.frozen.set()

    def thaw(self) -> None:
        self.frozen.clear()

    def close(self) -> None:
        self.unplug()
        self.listener.close()
