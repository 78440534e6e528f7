"""Session fixtures: the real model is loaded once, the seed index is built once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
EVAL = ROOT / "eval" / "questions.jsonl"


@pytest.fixture(scope="session")
def embedder():
    from assistant.embed.embedder import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory, embedder) -> Path:
    """An index of the seed corpus, built with the real model (read-only for tests)."""
    from assistant.ingest.indexer import build_index

    index_dir = tmp_path_factory.mktemp("seed") / "index"
    build_index(CORPUS, index_dir, embedder=embedder)
    return index_dir


@pytest.fixture(scope="session")
def bot(seed_index_dir, embedder):
    from assistant import Assistant

    return Assistant.open(seed_index_dir, embedder=embedder)


@pytest.fixture
def live_copy(seed_index_dir, tmp_path, embedder) -> tuple[Path, Path]:
    """A writable corpus and an up-to-date index of it."""
    from helpers import writable_index

    return writable_index(seed_index_dir, tmp_path, embedder)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the seed corpus for tests that change files."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """A real standalone Milvus 2.3.5 (the `milvus` wheel of the cluster extra) on a free port, started
    once. Its gRPC ports listen on every interface (its config names only the advertised address),
    so the proxy port is a random free one and the server lives only as long as the session."""
    from helpers import start_milvus_server, stop_process

    process, port = start_milvus_server(tmp_path_factory.mktemp("milvus-server"))
    yield port
    stop_process(process)
