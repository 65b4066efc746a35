"""The sweep's cell cache: a bad entry is detected, reported in one line and recomputed."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from featcheck.numerics.exponents.cell_cache import Cache, run_cell
from featcheck.numerics.exponents.spherical_sgd import OnlineSGD

REPLICAS, MAX_STEPS = 4, 4000
CONFIG = OnlineSGD(d=20, eta=0.05, variant="plain", overlap="u", threshold=0.5)


def _run(cache: Cache):
    return run_cell(CONFIG, REPLICAS, MAX_STEPS, 11, [3], cache)


def _entry(root):
    (path,) = root.glob("*/*.npz")
    return path


def _save(path, hits, shape=None, digest=None):
    hits = np.asarray(hits)
    shape = hits.shape if shape is None else shape
    if digest is None:
        digest = hashlib.sha256(np.ascontiguousarray(hits).tobytes()).digest()
    with open(path, "wb") as handle:  # np.savez would add .npz to a path without it
        np.savez(
            handle,
            hits=hits,
            shape=np.asarray(shape, dtype=np.int64),
            sha256=np.frombuffer(digest, dtype=np.uint8),
        )


def _truncate(path, good):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path, good):
    path.write_bytes(np.random.default_rng(0).bytes(500))


def _wrong_shape(path, good):
    _save(path, good[:-1])


def _nan(path, good):
    _save(path, np.full(good.shape, np.nan))


def _negative(path, good):
    _save(path, np.full(good.shape, -7, dtype=np.int64))


def _beyond_budget(path, good):
    _save(path, np.full(good.shape, MAX_STEPS + 1, dtype=np.int64))


def _checksum(path, good):
    _save(path, good + 1, digest=hashlib.sha256(good.tobytes()).digest())


def _shape_field(path, good):
    _save(path, good, shape=(REPLICAS + 1,))


def _old_format(path, good):
    with open(path, "wb") as handle:
        np.savez(handle, hits=good)


def _pickled(path, good):
    with open(path, "wb") as handle:
        np.savez(handle, hits=np.array([object()], dtype=object))


CORRUPTIONS = [
    _truncate,
    _garbage,
    _wrong_shape,
    _nan,
    _negative,
    _beyond_budget,
    _checksum,
    _shape_field,
    _old_format,
    _pickled,
]


@pytest.fixture(scope="module")
def good_hits(tmp_path_factory):
    hits, cached = _run(Cache(tmp_path_factory.mktemp("reference")))
    assert not cached and hits.shape == (REPLICAS,)
    return hits


def test_a_good_entry_is_used(tmp_path, good_hits, capsys):
    cache = Cache(tmp_path)
    _run(cache)
    hits, cached = _run(cache)
    assert cached and np.array_equal(hits, good_hits)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__.strip("_"))
def test_a_bad_entry_is_reported_and_recomputed(tmp_path, good_hits, capsys, corrupt):
    cache = Cache(tmp_path)
    _run(cache)
    corrupt(_entry(tmp_path), good_hits)
    hits, cached = _run(cache)
    assert not cached and np.array_equal(hits, good_hits)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is bad" in err and "computing the cell again" in err
    hits, cached = _run(cache)  # the entry was rewritten
    assert cached and np.array_equal(hits, good_hits)
    assert capsys.readouterr().err == ""
