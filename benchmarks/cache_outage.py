"""What a Redis outage costs a request's cache calls (attendance_app/cache.py, security Q-06).

    .venv/bin/python benchmarks/cache_outage.py [--calls 2000]

Starts a ``redis-server`` on a spare port and times ``DegradingRedisCache.get``/``set`` pairs:
with Redis up; after stopping it (the cache then skips Redis for ``RETRY_AFTER`` seconds);
stopped with that back-off turned off (every call tries to connect and is refused); and a
Redis that accepts connections but never answers (the 1 s socket timeout, then the back-off). Prints the
mean and the worst call of each. Needs ``redis-server`` on the PATH; no database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_app.settings.test")


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(cache: object, calls: int) -> tuple[float, float]:
    durations = []
    for n in range(calls):
        start = time.perf_counter()
        cache.set(f"bench:{n}", n)  # type: ignore[attr-defined]
        cache.get(f"bench:{n}")  # type: ignore[attr-defined]
        durations.append(time.perf_counter() - start)
    return statistics.mean(durations) * 1000, max(durations) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="set+get pairs per case")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from attendance_app.cache import DegradingRedisCache

    server = shutil.which("redis-server")
    if server is None:
        sys.exit("needs redis-server on the PATH")
    port = spare_port()
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [server, "--port", str(port), "--dir", directory, "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.5)

        def cache(location: str) -> DegradingRedisCache:
            return DegradingRedisCache(location, {"OPTIONS": settings.REDIS_CACHE_OPTIONS})

        up = cache(f"redis://127.0.0.1:{port}/0")
        rows = [("Redis up", *timed(up, args.calls))]
        process.terminate()
        process.wait(10)
        rows.append(("Redis stopped (back-off on)", *timed(up, args.calls)))
        no_backoff = cache(f"redis://127.0.0.1:{port}/0")
        no_backoff.RETRY_AFTER = 0.0
        rows.append(("Redis stopped, back-off off", *timed(no_backoff, args.calls)))
        # A hung Redis: the port accepts connections (the kernel's backlog) and never answers.
        with socket.create_server(("127.0.0.1", 0), backlog=128) as hung:
            silent = cache(f"redis://127.0.0.1:{hung.getsockname()[1]}/0")
            rows.append(("Hung Redis (back-off on)", *timed(silent, args.calls)))

    print(f"{args.calls} set+get pairs per case")
    for name, mean, worst in rows:
        print(f"  {name:<30} mean {mean:8.3f} ms   worst {worst:8.1f} ms")


if __name__ == "__main__":
    main()
