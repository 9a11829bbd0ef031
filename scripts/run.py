"""`make run`: the portal as in production, on the embedded defaults — gunicorn and a Huey
consumer (which also runs the outbox relay) — stopped together and cleanly by Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    port = os.environ.setdefault("PORT", "5000")
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    workers = os.environ.get("WEB_WORKERS", "2")
    commands = [
        [str(BIN / "gunicorn"), "-w", workers, "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5",
         "--access-logfile", "-", "webapp:create_app()"],
        [str(BIN / "huey_consumer"), "webapp.worker.huey", "-w", "2", "-k", "thread", "-q"],
    ]
    # Children in a process group of their own: Ctrl-C reaches only this launcher, which stops
    # them in order and waits, so nothing is left behind and the exit is clean.
    children = [subprocess.Popen(cmd, start_new_session=True) for cmd in commands]
    print(f"UMS Portal on {os.environ['PUBLIC_BASE_URL']} (demo logins in README.md); Ctrl-C stops it",
          flush=True)

    def stop(*_args) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                children[0].wait(timeout=1)
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    failed = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM)]
    print("UMS Portal stopped", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
