"""A content-hashed store of finished sweep cells, so that an interrupted sweep resumes.

A *cell* is one call of the reduced simulator: one configuration of online SGD
(dimension, step size, spike, link, ...), a number of replicas, a step budget and a
seed.  Its hitting steps are stored under the SHA-256 of these inputs (with the
simulator version) as ``<hash>.npz``, beside ``<hash>.json`` holding the inputs in
readable form; nothing is pickled.  The data file is written last, by an atomic
rename, so its presence means the cell finished.

Each data file also holds the shape of the hitting steps and their SHA-256.  A rerun
checks an entry before using it: a file that does not load (truncated, garbage), a
missing or wrong checksum, a shape other than the cell's replicas, steps that are not
integers, or a step that is neither ``-1`` (censored) nor in ``[0, max_steps]`` make the
entry *bad*: one line on standard error says so and the cell is computed again.

:func:`pool_map` runs cells in local worker processes that ignore Ctrl-C: the parent
alone handles the interrupt, ends the workers and leaves the finished cells stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

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

    def load(
        self, key: str, replicas: int | None = None, max_steps: int | None = None
    ) -> np.ndarray | None:
        """The stored hitting steps of a cell, or None when it is not stored or is bad.

        A bad entry (see the module docstring) is reported on standard error in one line
        and ignored, so that the caller computes the cell again and overwrites it.
        """
        if self.root is None:
            return None
        data_path, _ = self._paths(key)
        if not data_path.exists():
            return None
        hits, problem = _read_entry(data_path)
        if hits is not None:
            problem = _check_hits(hits, replicas, max_steps)
        if problem:
            sys.stderr.write(
                f"featcheck: cache entry {data_path} is bad ({problem}); computing the cell again\n"
            )
            return None
        return hits

    def store(self, key: str, inputs: dict, hits: np.ndarray) -> None:
        if self.root is None:
            return
        data_path, meta_path = self._paths(key)
        data_path.parent.mkdir(parents=True, exist_ok=True)
        hits = np.ascontiguousarray(hits, dtype=np.int64)
        tmp = data_path.with_name(f".{key}.{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            hits=hits,
            shape=np.asarray(hits.shape, dtype=np.int64),
            sha256=np.frombuffer(_digest(hits), dtype=np.uint8),
        )
        meta_tmp = meta_path.with_name(f".{key}.{os.getpid()}.tmp.json")
        meta_tmp.write_text(json.dumps(inputs, sort_keys=True, indent=1))
        os.replace(meta_tmp, meta_path)
        os.replace(tmp, data_path)  # the data file last: its presence means "finished"

    def __len__(self) -> int:
        return 0 if self.root is None else len(list(self.root.glob("*/*.npz")))


def _digest(hits: np.ndarray) -> bytes:
    """SHA-256 of the little-endian int64 bytes of ``hits``."""
    return hashlib.sha256(np.ascontiguousarray(hits, dtype="<i8").tobytes()).digest()


def _read_entry(path: Path) -> tuple[np.ndarray | None, str]:
    """``(hits, "")`` when the file loads with a matching shape and checksum, else
    ``(None, what is wrong)``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            names = set(data.files)
            if not {"hits", "shape", "sha256"} <= names:
                return None, "no checksum: written by an older featcheck or damaged"
            hits, shape, digest = data["hits"], data["shape"], data["sha256"]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        return None, f"unreadable: {type(exc).__name__}"
    if hits.dtype.kind not in "iu":
        return None, f"hitting steps of type {hits.dtype}, not integers"
    if tuple(int(v) for v in np.ravel(shape)) != hits.shape:
        return None, f"shape {hits.shape} differs from the stored {tuple(np.ravel(shape))}"
    if digest.dtype != np.uint8 or digest.tobytes() != _digest(hits):
        return None, "checksum mismatch"
    return np.array(hits, dtype=np.int64), ""


def _check_hits(hits: np.ndarray, replicas: int | None, max_steps: int | None) -> str:
    """What is wrong with checksummed hitting steps for this cell ("" when nothing)."""
    if hits.ndim != 1 or (replicas is not None and hits.shape != (int(replicas),)):
        return f"shape {hits.shape}, expected ({replicas},)"
    valid = hits >= 0 if max_steps is None else (hits >= 0) & (hits <= max_steps)
    if not np.all(valid | (hits == -1)):
        return "a hitting step outside [0, max_steps] other than -1 (censored)"
    return ""


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
    hits = cache.load(digest, replicas, max_steps)
    if hits is not None:
        return hits, True
    sequence = np.random.SeedSequence(entropy, spawn_key=tuple(key))
    hits = simulate(config, replicas, max_steps, sequence).hits
    cache.store(digest, inputs, hits)
    return hits, False


def ignore_interrupts() -> None:
    """Initializer of the worker processes: Ctrl-C is the parent's to handle.

    Without it every worker would print its own traceback for the one interrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(task: tuple[Callable[..., Any], tuple]) -> Any:
    function, args = task
    return function(*args)


def pool_map(
    function: Callable[..., Any], arguments: Sequence[tuple], workers: int
) -> Iterator[Any]:
    """``function(*args)`` for every ``args`` in ``workers`` spawned processes, in the order
    they finish.

    The workers ignore SIGINT (:func:`ignore_interrupts`, and already while they start);
    on Ctrl-C, or any error, in the parent the pool is terminated at once, and the
    interrupt propagates as one :class:`KeyboardInterrupt`.  Cells the workers finished
    are in the cache already.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no fork after numba threads started
    interrupt = signal.getsignal(signal.SIGINT)
    main_thread = interrupt is not None and _in_main_thread()
    if main_thread:  # the children start with SIGINT ignored
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool = context.Pool(workers, initializer=ignore_interrupts)
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, interrupt)
    finished = False
    try:
        yield from pool.imap_unordered(_call, [(function, tuple(a)) for a in arguments])
        finished = True
    finally:
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
