"""What sign-in costs: a password check (scrypt), a token check, a session check, per request.

Run: PYTHONPATH=. python benchmarks/auth_cost.py [--n 200]. In-process, on a fresh auth.sqlite
with 100 users and 1,000 tokens; prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

from assistant.apps.api.accounts import UserStore
from assistant.apps.api.auth import SESSION_COOKIE, Auth


def timed(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """(median, p95) in milliseconds over n calls."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = UserStore(folder)
        for i in range(100):
            store.add(f"user{i}", ("hr", "shared"), password="a long enough password" if i == 0 else None)
        tokens = [store.create_token(f"user{i % 100}") for i in range(1000)]
        auth = Auth(store)
        session = auth.sessions.start("user0")
        rows = [
            ("password check (scrypt N=2^14, r=8, p=1)", timed(lambda: store.check_password("user0", "wrong one"),
                                                             max(20, args.n // 10))),
            ("is sign-in on (any user?)", timed(auth.enabled, args.n)),
            ("bearer token -> user", timed(lambda: auth.from_headers({"authorization": f"Bearer {tokens[500]}"}),
                                           args.n)),
            ("session cookie -> user", timed(lambda: auth.from_headers({"cookie": f"{SESSION_COOKIE}={session}"}),
                                             args.n)),
        ]
    print("| check | median ms | p95 ms |\n|---|---|---|")
    for name, (median, p95) in rows:
        print(f"| {name} | {median:.3f} | {p95:.3f} |")


if __name__ == "__main__":
    main()
