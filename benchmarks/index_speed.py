"""Time a first build and an unchanged re-index of a 30-file corpus (the seed corpus six times).

Usage: python benchmarks/index_speed.py
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from assistant.embed.embedder import get_embedder
from assistant.ingest.indexer import build_index

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    embedder = get_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        for copy in range(6):
            shutil.copytree(ROOT / "corpus", corpus / f"set{copy}")
            for path in (corpus / f"set{copy}").iterdir():  # make each copy's bytes distinct
                path.write_text(path.read_text(encoding="utf-8") + f"\n\nCopy {copy}.\n", encoding="utf-8")
        index = Path(tmp) / "index"
        started = time.perf_counter()
        first = build_index(corpus, index, embedder=embedder)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = build_index(corpus, index, embedder=embedder)
        again_s = time.perf_counter() - started
        print(f"first build: {first.documents} files, {first.chunks} chunks, {first_s:.2f}s")
        print(f"unchanged re-index: {again.embedded} embedded, {again_s:.2f}s ({again_s / first_s:.1%} of the first)")


if __name__ == "__main__":
    main()
