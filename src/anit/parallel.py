"""Several runs at once, each in a process of its own with its share of the machine: cores / jobs CPU threads and,
where there are GPUs, one of them (round robin over the visible ones, so with more jobs than GPUs some share one).

:func:`slots` says what each worker gets, :func:`run_all` runs Python calls, each in a spawned worker of its own
(``anit compare --jobs``), and the benchmarks run their worker commands under the same slots.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection, wait
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


class RemoteTraceback(Exception):
    """The traceback of an error raised in a worker, set as that error's cause (as :mod:`concurrent.futures` does)."""

    def __str__(self) -> str:
        return self.args[0]


def _work(env: dict[str, str], fn: Callable[..., Any], args: tuple, sender: Connection) -> None:
    """A worker: takes its slot's environment (torch, imported later, reads its threads), runs ``fn(*args)``, and
    sends back None, or the error it raised with its traceback."""
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))     # Ctrl-C: stop quietly; the parent says so
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())    # not its default, a semaphore such an exit would leave (and warn of)
    os.environ.update(env)
    if "OMP_NUM_THREADS" in env and "torch" in sys.modules:      # imported already by the parent's main module
        sys.modules["torch"].set_num_threads(int(env["OMP_NUM_THREADS"]))
    try:
        fn(*args)
        sender.send(None)
    except BaseException as error:         # noqa: BLE001 - every failure goes back to the parent, which raises it
        trace = traceback.format_exc()
        try:
            sender.send((error, trace))
        except (pickle.PicklingError, TypeError, AttributeError):     # an error that does not pickle: its text
            sender.send((RuntimeError(f"{type(error).__name__}: {error}"), trace))


def _stop(workers: list[Any], grace: float) -> None:
    """Waits up to ``grace`` seconds for the workers to exit (a terminal's Ctrl-C reached them too), then stops
    those still running."""
    deadline = time.monotonic() + grace
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
            worker.join()


def run_all(calls: dict[str, tuple[Callable[..., Any], tuple]], jobs: int,
            ended: Callable[[str], None] = lambda label: None) -> None:
    """Runs each labelled call ``fn(*args)`` (a module-level function and picklable arguments) in a spawned worker
    process of its own, ``jobs`` at a time, each in a free slot (:func:`machine_slots`). ``ended(label)`` runs here
    as each call ends well; a call that fails does not stop the others, and once all have ended the failure of the
    first in ``calls``' order is raised, naming every call that failed. Ctrl-C, or an error here, stops the workers
    too."""
    context = multiprocessing.get_context("spawn")     # a fresh interpreter: no CUDA state or threads inherited
    free, waiting = machine_slots(jobs), list(calls.items())
    running: dict[Connection, tuple[str, Any, dict[str, str]]] = {}
    failed: list[tuple[str, BaseException]] = []
    before = set(multiprocessing.active_children())
    try:
        while waiting or running:
            while waiting and free:
                label, (fn, args) = waiting.pop(0)
                env, (receiver, sender) = free.pop(0), context.Pipe(duplex=False)
                worker = context.Process(target=_work, args=(env, fn, args, sender), name=label)
                worker.start()
                sender.close()
                running[receiver] = (label, worker, env)
            for receiver in wait(list(running)):
                label, worker, env = running.pop(receiver)
                try:
                    outcome = receiver.recv()
                except EOFError:               # it ended without a word: killed (out of memory?)
                    worker.join()
                    outcome = (RuntimeError(f"its worker process died (exit code {worker.exitcode})"), "")
                receiver.close()
                worker.join()
                free.append(env)
                if outcome is None:
                    ended(label)
                else:
                    error, trace = outcome
                    error.__cause__ = RemoteTraceback(trace) if trace else None
                    failed.append((label, error))
    except BaseException as stopped:
        # every worker started here, though the Ctrl-C came between its start and its entry in ``running``
        _stop([p for p in multiprocessing.active_children() if p not in before],
              5.0 if isinstance(stopped, KeyboardInterrupt) else 0.0)
        raise
    if failed:
        failed.sort(key=lambda pair: list(calls).index(pair[0]))        # in the order given, not the order ended
        label, error = failed[0]
        others = f" (also failed: {', '.join(name for name, _ in failed[1:])})" if failed[1:] else ""
        if isinstance(error, AnitError):
            raise AnitError(f"{label}: {error}{others}") from error
        raise RuntimeError(f"{label} failed{others}") from error
