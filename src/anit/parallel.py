"""Several runs at once, each in a process of its own with its share of the machine: cores / jobs CPU threads and,
where there are GPUs, one of them (round robin over the visible ones, so with more jobs than GPUs some share one).

:func:`slots` says what each worker gets, :func:`run_all` runs Python calls in spawned workers (``anit compare
--jobs``), and the benchmarks run their worker commands under the same slots.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence

from anit.errors import AnitError


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES names them (CUDA stops at the first ``-1``)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        import torch

        return [str(k) for k in range(torch.cuda.device_count())]
    names = []
    for name in (part.strip() for part in listed.split(",")):
        if not name or name == "-1":
            break
        names.append(name)
    return names


def cpu_threads(cores: int, jobs: int) -> int:
    """The CPU threads each of ``jobs`` workers gets on a machine of ``cores``."""
    return max(1, cores // jobs)


def slots(jobs: int, gpus: Sequence[str], cores: int) -> list[dict[str, str]]:
    """The environment each of ``jobs`` workers runs in: ``cores // jobs`` CPU threads (at least one), and a GPU of its
    own, round robin, where there are ``gpus``."""
    if jobs < 1:
        raise AnitError(f"jobs: {jobs}; run at least one at a time")
    threads = str(cpu_threads(cores, jobs))
    return [{"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
             **({"CUDA_VISIBLE_DEVICES": gpus[k % len(gpus)]} if gpus else {})} for k in range(jobs)]


def machine_slots(jobs: int) -> list[dict[str, str]]:
    """:func:`slots` on this machine."""
    return slots(jobs, visible_gpus(), os.cpu_count() or 1)


def _take(queue: Any) -> None:
    """A worker's first act: it takes one slot's environment for good (torch, imported later, reads its threads)."""
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))     # Ctrl-C: stop quietly; the parent says so
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())    # not its default, a semaphore such an exit would leave (and warn of)
    env = queue.get()
    os.environ.update(env)
    if "OMP_NUM_THREADS" in env and "torch" in sys.modules:      # imported already by the parent's main module
        sys.modules["torch"].set_num_threads(int(env["OMP_NUM_THREADS"]))


def run_all(calls: dict[str, tuple[Callable[..., Any], tuple]], jobs: int,
            ended: Callable[[str], None] = lambda label: None) -> None:
    """Runs each labelled call ``fn(*args)`` (a module-level function and picklable arguments), ``jobs`` at a time in
    spawned worker processes, each in its slot (:func:`machine_slots`). ``ended(label)`` runs here as each call ends
    well; a call that fails does not stop the others, and once all have ended the failure of the first in ``calls``'
    order is raised, naming every call that failed. Ctrl-C stops the workers too."""
    context = multiprocessing.get_context("spawn")     # a fresh interpreter: no CUDA state or threads inherited
    queue = context.Queue()
    for env in machine_slots(jobs):
        queue.put(env)
    failed: list[tuple[str, BaseException]] = []
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_take, initargs=(queue,))
    try:
        futures = {pool.submit(fn, *args): label for label, (fn, args) in calls.items()}
        for future in as_completed(futures):
            error = future.exception()
            if error is None:
                ended(futures[future])
            else:
                failed.append((futures[future], error))
    except KeyboardInterrupt:           # the workers stop too, though the Ctrl-C reached this process alone
        workers, deadline = list((pool._processes or {}).values()), time.monotonic() + 5
        for worker in workers:          # a terminal's Ctrl-C reached them too: they exit on their own
            worker.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:          # else they are stopped (Python 3.14: pool.terminate_workers())
            if worker.is_alive():
                worker.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    if failed:
        failed.sort(key=lambda pair: list(calls).index(pair[0]))        # in the order given, not the order ended
        label, error = failed[0]
        others = f" (also failed: {', '.join(name for name, _ in failed[1:])})" if failed[1:] else ""
        if isinstance(error, AnitError):
            raise AnitError(f"{label}: {error}{others}") from error
        raise RuntimeError(f"{label} failed{others}") from error
