"""Indexing on a Ray cluster: reading, chunking and embedding as Ray Data datasets.

`assistant index --ray [ADDRESS]` builds the same index as the local path: the rules (which
files changed, which vectors are reused by content, the chunk ids) and the atomic commit stay
in assistant/ingest/indexer.py; this module only moves the work. Files are read and chunked by Ray
tasks, and the texts that need a vector are embedded by `map_batches` over a fixed pool of
encoder actors, each holding one encoder session for the whole run.

Everything crossing Ray is plain columns: strings, integers and float32 vectors; a document
and its chunks travel as JSON text, so our code never serializes Python objects. On a real cluster
every node needs this package installed, and the corpus folder at the same path (a shared
filesystem): a node that cannot see it stops the run instead of skipping files.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..embed.base import DIMENSION
from ..errors import AssistantError
from ..types import Chunk, Document, Skipped
from .chunker import ChunkSettings, chunks_within_limit
from .indexer import Prepared
from .sandbox import Sandbox

BLOCK_TEXTS = 256  # most texts per dataset block (a block is one actor task)
BATCH_TEXTS = 128  # texts per encoder call (the local path's slice)


def require_ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the [data] extra (pyarrow, pandas)
    except ImportError:
        raise AssistantError("--ray needs Ray: pip install 'assistant[cluster]'") from None
    return ray


@contextmanager
def ray_session(address: str | None) -> Iterator[None]:
    """Ray connected for the run: to `address` (`auto`, `ray://HOST:10001`), else a local Ray started here.

    A Ray already connected in this process (tests, notebooks) is used as it is and left running.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield
        return
    try:
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise AssistantError(f"could not connect to Ray at {address or 'a new local Ray'}: "
                             f"{str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}") from None
    try:
        yield
    finally:
        ray.shutdown()


class RayEngine:
    """The indexer's `engine` on the connected Ray: `actors` encoder actors (default: one per CPU)."""

    def __init__(self, actors: int | None = None, cpus_per_actor: int = 1) -> None:
        ray = require_ray()
        if not ray.is_initialized():
            raise AssistantError("Ray is not connected: use RayEngine inside ray_session()")
        self.cpus = int(ray.cluster_resources().get("CPU", 1))
        self.cpus_per_actor = cpus_per_actor
        self.actors = actors or max(1, self.cpus // cpus_per_actor)
        self.encoder_seconds = 0.0  # CPU time the actors spent encoding, summed (for benchmarks)

    def read_and_chunk(self, corpus: Path, files: list[tuple[str, Path | None, str | None]], keep: dict[str, str],
                       settings: ChunkSettings, allow_hard_links: bool, notify: Callable[[Skipped], None],
                       progress: bool) -> Prepared:
        """Read the files and chunk the changed ones as Ray tasks; results come back in folder order."""
        import ray.data

        _quiet(progress)
        corpus = Path(os.path.abspath(corpus))  # workers have their own working folder
        walked = list(files)
        items = [{"i": i, "source": source, "path": os.path.abspath(path), "known": keep.get(source, "")}
                 for i, (source, path, _) in enumerate(walked) if path is not None]
        rows: dict[int, dict] = {}
        if items:
            dataset = ray.data.from_items(items, override_num_blocks=min(len(items), 4 * self.cpus))
            dataset = dataset.map(_read_and_chunk, fn_kwargs={"corpus": str(corpus), "settings": settings,
                                                              "allow_hard_links": allow_hard_links})
            for row in dataset.iter_rows():
                if row["missing"]:
                    raise AssistantError(f"Ray node {row['missing']} cannot see the corpus folder {corpus}: on a "
                                         "cluster it must be on a filesystem every node mounts at the same path")
                rows[int(row["i"])] = row
        documents, skipped, chunks, cut = [], [], [], []
        for i, (source, path, reason) in enumerate(walked):
            if path is None:
                skipped.append(Skipped(source, reason or "skipped"))
                continue
            row = rows[i]
            if row["skipped"]:
                skipped.append(Skipped(source, row["skipped"]))
                continue
            documents.append(Document.from_row(json.loads(row["document"])))
            chunks += [Chunk.from_row(c) for c in json.loads(row["chunks"])]
            if row["cut"]:
                note = Skipped(source, row["cut"])
                cut.append(note)
                notify(note)
        return Prepared(documents, skipped, chunks, cut)

    def embed(self, variant: str, chunk_texts: list[str], sentences: list[str],
              progress: bool) -> tuple[np.ndarray, str | None]:
        """Vectors of the chunk texts then the sentences, by the actor pool; and the encoder's SHA-256."""
        import pyarrow as pa
        import ray.data

        _quiet(progress)
        texts = chunk_texts + sentences
        if not texts:
            return np.empty((0, DIMENSION), dtype=np.float32), None
        out = _spill((len(texts), DIMENSION))
        # Sorted by length, so every batch pads little (as the local path does); `i` puts rows back.
        order = np.argsort(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), kind="stable")
        # At least four blocks per actor, so the pool shares the work out evenly to the end.
        size = max(16, min(BLOCK_TEXTS, -(-len(texts) // (4 * self.actors))))
        blocks = [pa.table({"i": order[lo : lo + size], "text": [texts[i] for i in order[lo : lo + size]]})
                  for lo in range(0, len(order), size)]
        dataset = ray.data.from_arrow(blocks).map_batches(
            ENCODERS[variant], batch_size=BATCH_TEXTS, batch_format="numpy", num_cpus=self.cpus_per_actor,
            compute=ray.data.ActorPoolStrategy(size=min(self.actors, len(blocks))))
        made_by: set[str] = set()
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            out[batch["i"]] = batch["vector"]
            self.encoder_seconds += float(batch["cpu"].sum())
            made_by.update(str(s) for s in np.unique(batch["sha256"]))
        if len(made_by) > 1:
            raise AssistantError(f"the Ray nodes' encoders differ ({', '.join(sorted(s[:12] for s in made_by))}): "
                                 "install the same assistant and model version on every node")
        return out, made_by.pop()


def _spill(shape: tuple[int, int]) -> np.ndarray:
    """A float32 array backed by an unlinked temporary file, not by the driver's memory: a first build
    of millions of texts brings back ~1.5 kB a text from the actors, which the page cache may drop
    and read again as the commit sends them on in batches. The space is freed with the array."""
    import tempfile

    handle, path = tempfile.mkstemp(prefix="assistant-vectors-", suffix=".npy")
    os.close(handle)
    try:
        return np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    finally:
        os.unlink(path)


class Encode:
    """One encoder session per actor, loaded once and kept for every batch it is given.

    One class per encoder variant (below), so the actor needs no constructor arguments; its
    encoder gets as many threads as the CPUs Ray gave the actor.
    """

    variant = "fp32"

    def __init__(self) -> None:
        import ray

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if self.variant == "torch":
            from ..embed.registry import get_encoder

            self.encoder = get_encoder(self.variant)
        else:
            from ..embed.onnx_encoder import OnnxEncoder

            threads = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)) or 1
            self.encoder = OnnxEncoder(self.variant, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        started = time.process_time()
        vectors = self.encoder.encode([str(t) for t in batch["text"]])
        cpu = (time.process_time() - started) / max(len(vectors), 1)  # per row, so the rows sum to the batch's
        return {"i": batch["i"], "vector": vectors, "cpu": np.full(len(vectors), cpu),
                "sha256": np.full(len(vectors), self.encoder.sha256 or "", dtype=object)}


class EncodeInt8(Encode):
    variant = "int8"


class EncodeTorch(Encode):
    variant = "torch"


ENCODERS = {"fp32": Encode, "int8": EncodeInt8, "torch": EncodeTorch}


_SANDBOX: Sandbox | None = None


def _sandbox() -> Sandbox:
    """One reader worker per Ray worker process: files are parsed under the same limits as on one machine."""
    global _SANDBOX
    if _SANDBOX is None:
        _SANDBOX = Sandbox()
    return _SANDBOX


def _read_and_chunk(row: dict, corpus: str, settings: ChunkSettings, allow_hard_links: bool) -> dict:
    """One file, read on a Ray worker; chunked unless its bytes are the indexed ones (`known`)."""
    out = {"i": row["i"], "missing": "", "skipped": "", "document": "", "chunks": "[]", "cut": ""}
    if not os.path.isdir(corpus):
        return {**out, "missing": socket.gethostname()}
    doc = _sandbox().read(Path(row["path"]), row["source"], allow_hard_links)
    if isinstance(doc, Skipped):
        return {**out, "skipped": doc.reason}
    # JSON (ASCII, so any text survives Arrow's UTF-8) rather than Python objects Ray would serialize itself.
    out["document"] = json.dumps(doc.to_row())
    if doc.sha256 != row["known"]:
        cut: list[Skipped] = []
        out["chunks"] = json.dumps([c.to_dict() for c in chunks_within_limit(doc, settings, lambda note: None, cut)])
        out["cut"] = cut[0].reason if cut else ""
    return out


def _quiet(progress: bool) -> None:
    """Ray Data's progress bars only when the run shows its own."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = progress
    context.print_on_execution_start = progress
    logging.getLogger("ray.data").setLevel(logging.INFO if progress else logging.ERROR)
