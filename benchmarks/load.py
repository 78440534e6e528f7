"""Load test of the web app's `ask` API: many concurrent clients, every request accounted for.

Usage: python benchmarks/load.py [--clients 20] [--questions 10] [--large 2] [--corpus corpus]

Builds an index of the corpus in a temporary folder (`assistant index`), starts the real
app (`python app.py`) on a free 127.0.0.1 port, then runs CLIENTS threads that each ask
QUESTIONS questions one after another through the Gradio HTTP API (POST /gradio_api/call/ask,
then read the event stream). Prints p50/p95/max latency and counts: answered, busy (HTTP 503,
queue full), failed, and lost (no reply, or a reply to another question). Exit code 1 if any
request did not get its answer. LARGE of the clients send the largest input the app accepts
whole (a 2,000-character question and 20 earlier questions of 2,000 characters, non-ASCII, a
request body just under the 256 KiB limit); the app's memory (VmRSS, and its peak VmHWM) is
printed before and after. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    client: int
    question: str
    outcome: str  # answered | busy | failed | lost
    seconds: float
    detail: str = ""
    large: bool = False


def largest_input(question: str) -> tuple[str, list[str]]:
    """The largest question and history used whole: 2,000 characters each, 20 earlier questions."""
    return (question + " " + "é" * 2000)[:2000], ["ü" * 2000] * 20


def memory(pid: int) -> str:
    """The app's resident memory now and at its peak, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return f"VmRSS {fields['VmRSS'].strip()}, peak VmHWM {fields['VmHWM'].strip()}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_questions(path: Path, n: int) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["question"] for row in rows][:n]


def start_app(index_dir: Path, port: int, log_path: Path, timeout: float) -> subprocess.Popen:
    """`python app.py` as a user runs it, on 127.0.0.1:port; returns once it answers HTTP."""
    env = dict(os.environ, ASSISTANT_INDEX=str(index_dir), GRADIO_SERVER_NAME="127.0.0.1",
               GRADIO_SERVER_PORT=str(port), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with {proc.returncode}; see {log_path}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"the app did not start within {timeout:.0f}s; see {log_path}")


def ask(client: httpx.Client, question: str, history: list[str] | None = None) -> tuple[str, str]:
    """One question through the public API; (outcome, detail)."""
    posted = client.post("/gradio_api/call/ask", json={"data": [question, history or [], 5]})
    if posted.status_code == 503:
        return "busy", posted.text[:120]
    if posted.status_code != 200:
        return "failed", f"HTTP {posted.status_code}: {posted.text[:120]}"
    stream = client.get(f"/gradio_api/call/ask/{posted.json()['event_id']}").text
    events = [dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
              for block in stream.split("\n\n") if block.strip()]
    last = next((e for e in reversed(events) if e.get("event") in ("complete", "error")), None)
    if last is None or last["event"] != "complete":
        return "failed", (last or {}).get("data", stream[-160:])[:160]
    data = last["data"]
    reply = json.loads(data.strip())[0]
    if reply.get("question") != question or not reply.get("answer"):
        return "lost", f"reply to {reply.get('question')!r}"
    return "answered", ""


def run_client(number: int, base: str, questions: list[str], count: int, deadline: float, out: list[Result],
               lock: threading.Lock, large: bool = False) -> None:
    with httpx.Client(base_url=base, timeout=httpx.Timeout(120.0)) as client:
        for i in range(count):
            question = questions[(number + i) % len(questions)]  # clients start at different questions
            history = None
            if large:
                question, history = largest_input(question)
            started = time.perf_counter()
            if time.monotonic() > deadline:
                outcome, detail = "lost", "not sent: the run's time limit passed"
            else:
                try:
                    outcome, detail = ask(client, question, history)
                except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
                    outcome, detail = "failed", f"{exc.__class__.__name__}: {exc}"
            with lock:
                out.append(Result(number, question, outcome, time.perf_counter() - started, detail, large))


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per client")
    parser.add_argument("--large", type=int, default=2, help="clients (of --clients) sending the largest inputs")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--eval", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds for the whole run")
    args = parser.parse_args()
    questions = load_questions(args.eval, 2 * args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        started = time.perf_counter()
        subprocess.run([Path(sys.executable).with_name("assistant"), "index", "--corpus", str(args.corpus),
                        "--index", str(index_dir), "--quiet"], check=True)
        print(f"index built in {time.perf_counter() - started:.1f}s")
        port = free_port()
        app = start_app(index_dir, port, Path(tmp) / "app.log", timeout=180)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120) as warm:  # one request first: load and cache
                ask(warm, questions[0])
            before = memory(app.pid)
            print(f"app memory before: {before}")
            results: list[Result] = []
            lock = threading.Lock()
            deadline = time.monotonic() + args.time_limit
            threads = [threading.Thread(target=run_client, args=(n, base, questions, args.questions, deadline,
                                                                 results, lock, n < args.large))
                       for n in range(args.clients)]
            wall = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - wall
            print(f"app memory after:  {memory(app.pid)}")
        finally:
            app.terminate()
            app.wait(timeout=30)
    expected = args.clients * args.questions
    counts = {k: sum(r.outcome == k for r in results) for k in ("answered", "busy", "failed", "lost")}
    counts["lost"] += expected - len(results)
    normal = [r for r in results if not r.large]
    large = [r for r in results if r.large]
    print(f"normal questions answered {sum(r.outcome == 'answered' for r in normal)}/"
          f"{(args.clients - min(args.large, args.clients)) * args.questions}; largest inputs answered "
          f"{sum(r.outcome == 'answered' for r in large)}/{min(args.large, args.clients) * args.questions}")
    if large:
        big = sorted(r.seconds for r in large if r.outcome == "answered")
        if big:
            print(f"largest inputs: p50 {percentile(big, 50):.2f}s  max {big[-1]:.2f}s")
    latencies = sorted(r.seconds for r in normal if r.outcome == "answered")
    print(f"{args.clients} clients x {args.questions} questions = {expected} requests in {wall:.1f}s "
          f"({len(latencies) / wall:.2f} answers/s)")
    print(" ".join(f"{k} {v}" for k, v in counts.items()))
    if latencies:
        print(f"latency p50 {percentile(latencies, 50):.2f}s  p95 {percentile(latencies, 95):.2f}s  "
              f"max {latencies[-1]:.2f}s  min {latencies[0]:.2f}s")
    for r in [r for r in results if r.outcome != "answered"][:10]:
        print(f"  client {r.client}: {r.outcome}: {r.detail}")
    return 0 if counts["answered"] == expected else 1


if __name__ == "__main__":
    sys.exit(main())
