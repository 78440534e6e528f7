"""Indexing on a two-node Ray cluster started on this machine (`ray start --head` and a second
`ray start --address`, one CPU each), into a Milvus Lite store: the commit streams rows in batches.

Every Ray process of the cluster is started in its own session by this module and stopped by its
process group in teardown (never `ray stop`, which would end every Ray on the machine).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import CORPUS, free_port, stop_process

RAY = Path(sys.executable).with_name("ray")
# Ray's token authentication, one token for the nodes and every client of this cluster (SECURITY.md)
AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0"}


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(RAY), "start", "--block", "--num-cpus=1", "--node-ip-address=127.0.0.1",
                             "--disable-usage-stats", f"--node-manager-port={free_port()}",
                             f"--object-manager-port={free_port()}", f"--metrics-export-port={free_port()}",
                             f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
                             f"--runtime-env-agent-port={free_port()}", *args],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, **AUTH})


@pytest.fixture(scope="module")
def two_nodes():
    pytest.importorskip("ray")
    ray_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    port = free_port()
    head = _start(["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={ray_dir}",
                   f"--ray-client-server-port={free_port()}"], ray_dir / "head.log")
    nodes = [head]
    try:
        address = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while b"Ray runtime started" not in (ray_dir / "head.log").read_bytes():
            assert head.poll() is None and time.monotonic() < deadline, (ray_dir / "head.log").read_text()[-2000:]
            time.sleep(0.5)
        nodes.append(_start([f"--address={address}"], ray_dir / "worker.log"))
        check = ("import ray, time, sys\nray.init(address=sys.argv[1], log_to_driver=False)\n"
                 "for _ in range(120):\n    if len([n for n in ray.nodes() if n['Alive']]) == 2: break\n"
                 "    time.sleep(0.5)\nprint(len([n for n in ray.nodes() if n['Alive']]))")
        alive = subprocess.run([sys.executable, "-c", check, address], capture_output=True, text=True, timeout=180,
                               env={**os.environ, **AUTH})
        assert alive.stdout.strip().endswith("2"), alive.stderr[-2000:]
        yield address
    finally:
        for process in reversed(nodes):
            stop_process(process)
        shutil.rmtree(ray_dir, ignore_errors=True)


@pytest.mark.slow
def test_index_on_two_ray_nodes_into_milvus(two_nodes, tmp_path, bot):
    from assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in sorted(p.name for p in CORPUS.iterdir())[:3]:
        shutil.copy(CORPUS / name, corpus / name)
    location = f"milvus-lite:{tmp_path}/ray.db/docs"
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "--corpus", str(corpus), "--store", location,
                           "--ray", two_nodes, "--ray-actors", "2", "--quiet"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **AUTH, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("indexed 3 files,")
    app = Assistant.open(location, warm=False)
    assert sorted(s.source for s in app.sources()) == sorted(p.name for p in corpus.iterdir())
    question = "How many GP practices are there in Cambridgeshire?"
    reply, local = app.ask(question), bot.ask(question)
    assert reply.confident and (reply.answer_source, reply.answer_start) == (local.answer_source, local.answer_start)
