"""The dense index of one segment (assistant/index/dense.py) on synthetic clustered vectors: no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index.dense import DenseIndex, DenseSettings, build_dense, dequantize_rows, quantize_rows, synthetic_vectors

DIM = 384
# SQ8 codes each component in 255 steps of its trained range: on unit vectors a component moves by
# at most about 0.001 (measured 0.0010 max), so 0.003 leaves room without hiding a broken decode.
SQ8_TOLERANCE = 0.003
IVF = DenseSettings(exact_below=1_000, nlist_max=64, nprobe=16)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """6,000 vectors and 100 queries mixed from 150 topic vectors; exact float32 top-10 per query."""
    topics = np.random.default_rng(0).standard_normal((150, DIM)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    x = synthetic_vectors(6_000, 1, topics)
    q = synthetic_vectors(100, 2, topics)
    truth = np.argsort(-(q @ x.T), axis=1)[:, :10]
    return x, q, truth


@pytest.fixture(scope="module")
def ivf(data) -> DenseIndex:
    return build_dense(data[0], IVF)


def recall_at_10(index: DenseIndex, q: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(index.search(v, 10)[0].tolist()) & set(t.tolist())) / 10 for v, t in zip(q, truth)]))


def test_approximate_index_above_threshold_keeps_recall(data, ivf):
    x, q, truth = data
    assert ivf.kind == "ivf-sq8" and ivf.ntotal == len(x)
    assert ivf.describe()["nlist"] == 64 and ivf.describe()["nprobe"] == 16
    assert recall_at_10(ivf, q, truth) >= 0.95


def test_exact_kind_below_threshold(data):
    x, q, truth = data
    flat = build_dense(x[:900], IVF)
    assert flat.kind == "flat-sq8" and flat.ntotal == 900
    rows, scores = flat.search(q[0], 5)
    assert len(rows) == 5 and rows.dtype == np.int64 and np.all(np.diff(scores) <= 1e-6)
    exact = np.argsort(-(x[:900] @ q[0]))[:5]
    assert rows[0] == exact[0]


def test_tiny_and_empty_segments_are_exact(tmp_path):
    few = synthetic_vectors(50, 3, np.eye(DIM, dtype=np.float32)[:20])
    small = build_dense(few, DenseSettings(exact_below=0))  # too few vectors to train lists on
    assert small.kind == "flat-sq8" and small.search(few[3], 1)[0].tolist() == [3]
    empty = build_dense(np.zeros((0, DIM), np.float32))
    assert empty.ntotal == 0 and empty.search(few[0], 10)[0].size == 0
    empty.save(tmp_path / "empty.faiss")
    assert DenseIndex.load(tmp_path / "empty.faiss").ntotal == 0


def test_settings_choose_lists_and_go_in_the_manifest():
    settings = DenseSettings()
    assert settings.nlist(1_000_000) == 2048 and settings.nlist(100_000) == 512
    assert settings.to_dict()["quantizer"] == "sq8"
    with pytest.raises(ValueError):
        DenseSettings(quantizer="lsh")


@pytest.mark.parametrize("approximate", [True, False])
def test_excluded_rows_never_come_back(data, ivf, approximate):
    x, q, truth = data
    index = ivf if approximate else build_dense(x, DenseSettings(exact_below=len(x) + 1))
    exclude = np.zeros(len(x), bool)
    exclude[truth[:, :5].ravel()] = True  # the five best of every query are deleted
    for v in q[:30]:
        rows, _ = index.search(v, 10, exclude=exclude)
        assert len(rows) > 0 and not exclude[rows].any() and np.all(rows >= 0)
    with pytest.raises(ValueError):
        index.search(q[0], 10, exclude=np.zeros(10, bool))


def test_reconstruct_gives_vectors_back_within_sq8_error(data, ivf):
    x = data[0]
    rows = np.array([0, 17, 5999, 3000])
    for index in (ivf, build_dense(x[:900], IVF)):
        back = index.reconstruct(rows[rows < index.ntotal])
        assert back.dtype == np.float32 and back.shape == (len(rows[rows < index.ntotal]), DIM)
        assert np.abs(back - x[rows[rows < index.ntotal]]).max() < SQ8_TOLERANCE
    with pytest.raises(IndexError):
        ivf.reconstruct(np.array([len(x)]))


@pytest.mark.parametrize("approximate", [True, False])
def test_save_load_round_trip(tmp_path, data, ivf, approximate):
    x, q, _ = data
    index = ivf if approximate else build_dense(x[:900], IVF)
    path = tmp_path / "dense.faiss"
    index.save(path)
    loaded = DenseIndex.load(path)
    assert (loaded.kind, loaded.ntotal, loaded.describe()) == (index.kind, index.ntotal, index.describe())
    for v in q[:10]:
        a, b = index.search(v, 10), loaded.search(v, 10)
        assert np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1])
    assert np.array_equal(loaded.reconstruct(np.arange(20)), index.reconstruct(np.arange(20)))
    assert np.array_equal(DenseIndex.load(path, mmap=False).search(q[0], 10)[0], index.search(q[0], 10)[0])


@pytest.mark.parametrize("approximate", [True, False])
def test_truncated_file_fails_to_load(tmp_path, data, ivf, approximate):
    index = ivf if approximate else build_dense(data[0][:900], IVF)
    path = tmp_path / "dense.faiss"
    index.save(path)
    whole = path.read_bytes()
    for size in (0, 40, len(whole) // 2, len(whole) - 1):
        path.write_bytes(whole[:size])
        with pytest.raises((RuntimeError, ValueError)):
            DenseIndex.load(path)


def test_save_error_is_oserror(tmp_path, ivf):
    with pytest.raises(OSError):
        ivf.save(tmp_path / "missing" / "dense.faiss")


def test_row_quantization_keeps_cosines(data):
    x, q, _ = data
    codes, scales = quantize_rows(x)
    assert codes.dtype == np.int8 and codes.shape == x.shape and scales.shape == (len(x),)
    back = dequantize_rows(codes, scales)
    assert np.abs(q @ back.T - q @ x.T).max() < 0.01
    zero_codes, zero_scales = quantize_rows(np.zeros((2, DIM), np.float32))
    assert not dequantize_rows(zero_codes, zero_scales).any()
