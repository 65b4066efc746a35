"""A content-hashed store of finished sweep cells, so that an interrupted sweep resumes.

A *cell* is one call of the reduced simulator: one configuration of online SGD
(dimension, step size, spike, link, ...), a number of replicas, a step budget and a
seed.  Its hitting steps are stored under the SHA-256 of these inputs (with the
simulator version) as ``<hash>.npz``, beside ``<hash>.json`` holding the inputs in
readable form; nothing is pickled.  The data file is written last, by an atomic
rename, so its presence means the cell finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from featcheck.numerics.exponents.overlap_chain import SIMULATOR_VERSION, simulate
from featcheck.numerics.exponents.spherical_sgd import OnlineSGD


def cell_key(inputs: dict) -> str:
    """SHA-256 of the canonical JSON of a cell's inputs."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """Plain-data store of finished cells (``.npz`` + ``.json``); inert when ``root`` is None."""

    def __init__(self, root: Path | str | None):
        self.root = None if root is None else Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        assert self.root is not None
        folder = self.root / key[:2]
        return folder / f"{key}.npz", folder / f"{key}.json"

    def load(self, key: str) -> np.ndarray | None:
        """The stored hitting steps of a cell, or None when it is not (yet) stored."""
        if self.root is None:
            return None
        data_path, _ = self._paths(key)
        if not data_path.exists():
            return None
        with np.load(data_path, allow_pickle=False) as data:
            return np.array(data["hits"], dtype=np.int64)

    def store(self, key: str, inputs: dict, hits: np.ndarray) -> None:
        if self.root is None:
            return
        data_path, meta_path = self._paths(key)
        data_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = data_path.with_name(f".{key}.{os.getpid()}.tmp.npz")
        np.savez(tmp, hits=np.asarray(hits, dtype=np.int64))
        meta_tmp = meta_path.with_name(f".{key}.{os.getpid()}.tmp.json")
        meta_tmp.write_text(json.dumps(inputs, sort_keys=True, indent=1))
        os.replace(meta_tmp, meta_path)
        os.replace(tmp, data_path)  # the data file last: its presence means "finished"

    def __len__(self) -> int:
        return 0 if self.root is None else len(list(self.root.glob("*/*.npz")))


def run_cell(
    config: OnlineSGD, replicas: int, max_steps: int, entropy: int, key: list[int], cache: Cache
) -> tuple[np.ndarray, bool]:
    """Hitting steps of one cell, from the cache when present; returns ``(hits, cached)``.

    The replicas' seeds come from ``SeedSequence(entropy, spawn_key=key)``.
    """
    inputs = {
        "config": config.to_json(),
        "replicas": int(replicas),
        "max_steps": int(max_steps),
        "seed": {"entropy": int(entropy), "spawn_key": [int(k) for k in key]},
        "simulator": SIMULATOR_VERSION,
    }
    digest = cell_key(inputs)
    hits = cache.load(digest)
    if hits is not None:
        return hits, True
    sequence = np.random.SeedSequence(entropy, spawn_key=tuple(key))
    hits = simulate(config, replicas, max_steps, sequence).hits
    cache.store(digest, inputs, hits)
    return hits, False
