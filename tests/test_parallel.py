"""Several runs at once (:mod:`anit.parallel`): what each worker gets, and running calls in spawned workers."""

import json
import os
from pathlib import Path

import pytest

from anit.errors import AnitError, DataError
from anit.parallel import cpu_threads, run_all, slots, visible_gpus


def test_each_worker_gets_a_gpu_of_its_own_round_robin_or_its_share_of_the_cores():
    assert slots(3, ["0", "1", "2", "3"], 2) == [{"CUDA_VISIBLE_DEVICES": g, "OMP_NUM_THREADS": "1",
                                                  "MKL_NUM_THREADS": "1"} for g in ("0", "1", "2")]
    assert [s["CUDA_VISIBLE_DEVICES"] for s in slots(5, ["4", "6"], 64)] == ["4", "6", "4", "6", "4"]
    assert {s["OMP_NUM_THREADS"] for s in slots(8, ["0"], 16)} == {"2"}    # eight runs on one GPU: 16 cores shared
    assert slots(2, [], 16) == [{"OMP_NUM_THREADS": "8", "MKL_NUM_THREADS": "8"}] * 2
    assert slots(3, [], 2)[0]["OMP_NUM_THREADS"] == "1" and cpu_threads(16, 3) == 5
    with pytest.raises(AnitError, match="jobs: 0"):
        slots(0, [], 2)


@pytest.mark.parametrize("listed, gpus", [("0,2", ["0", "2"]), ("", []), ("3, 1,-1,2", ["3", "1"]),
                                          ("GPU-5f1e,GPU-aa", ["GPU-5f1e", "GPU-aa"])])
def test_the_visible_gpus_are_those_cuda_visible_devices_names_up_to_the_first_invalid_one(monkeypatch, listed,
                                                                                           gpus):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", listed)
    assert visible_gpus() == gpus


def note(path: str, label: str) -> None:
    """A worker's call: where it ran, with what environment, and when."""
    import time

    begun = time.time()
    time.sleep(0.3)
    Path(path, label).write_text(json.dumps({"pid": os.getpid(), "threads": os.environ.get("OMP_NUM_THREADS"),
                                             "span": [begun, time.time()]}))


def fail(label: str) -> None:
    if label == "data":
        raise DataError("train.jsonl", 3, "no instruction")
    raise ValueError(label)


def test_calls_run_in_spawned_workers_each_with_its_slot_and_failures_are_named_once_all_have_ended(
        tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr("anit.parallel.visible_gpus", lambda: [])
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    ended = []
    run_all({k: (note, (str(tmp_path), k)) for k in "abcd"}, 2, ended=ended.append)
    ran = {k: json.loads((tmp_path / k).read_text()) for k in "abcd"}
    assert sorted(ended) == list("abcd")
    assert {r["threads"] for r in ran.values()} == {"2"}
    assert len({r["pid"] for r in ran.values()} - {os.getpid()}) == 4        # each call in a process of its own
    spans = [r["span"] for r in ran.values()]
    assert max(sum(start <= at < end for start, end in spans) for at, _ in spans) == 2        # two at a time
    # a failing call does not stop the others; the user's error comes back as one line naming the run
    with pytest.raises(AnitError, match=r"^data: train.jsonl:3: no instruction \(also failed: boom\)$"):
        run_all({"data": (fail, ("data",)), "fine": (note, (str(tmp_path), "fine")), "boom": (fail, ("boom",))}, 2)
    assert (tmp_path / "fine").exists()
    with pytest.raises(RuntimeError, match="boom failed") as raised:
        run_all({"boom": (fail, ("boom",))}, 2)
    assert isinstance(raised.value.__cause__, ValueError)
    assert "in fail" in str(raised.value.__cause__.__cause__)            # the worker's traceback comes back too


def locked() -> None:
    import threading

    raise ValueError(threading.Lock())          # an error that does not pickle


def test_an_error_that_does_not_pickle_comes_back_as_its_text():
    with pytest.raises(RuntimeError, match="locked failed") as raised:
        run_all({"locked": (locked, ())}, 1)
    assert str(raised.value.__cause__).startswith("ValueError: <unlocked _thread.lock object")
    assert "in locked" in str(raised.value.__cause__.__cause__)            # with the worker's traceback


def die(code: int) -> None:
    os._exit(code)


def test_a_worker_that_dies_without_a_word_is_named_and_an_error_here_stops_the_others(tmp_path):
    import time

    with pytest.raises(RuntimeError, match="killed failed") as raised:
        run_all({"killed": (die, (9,)), "fine": (note, (str(tmp_path), "fine"))}, 2)
    assert "exit code 9" in str(raised.value.__cause__) and (tmp_path / "fine").exists()
    begun = time.monotonic()

    def broken(label: str) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):      # the report after a run failed: the sleeper is not waited for
        run_all({"fast": (note, (str(tmp_path), "fast")), "slow": (time.sleep, (60,))}, 2, ended=broken)
    assert time.monotonic() - begun < 30


def test_ctrl_c_stops_the_workers_too_though_it_reached_the_parent_alone(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    # each worker says it is sleeping (a Ctrl-C while torch is being imported can hang the interpreter: not ours)
    sleep = "import pathlib, time; pathlib.Path({!r}).touch(); time.sleep(120)"
    # Ctrl-C live in the parent, though this test runs in the background (where a shell starts it ignoring SIGINT,
    # and the parent would inherit that)
    code = ("import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "from anit.parallel import run_all\n"
            f"run_all({{k: (exec, ({sleep!r}.format(r'{tmp_path}/' + k),)) for k in 'ab'}}, 2)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)     # a session of its own: ps below lists all of it
    waited = time.monotonic()
    while not ((tmp_path / "a").exists() and (tmp_path / "b").exists()) and time.monotonic() - waited < 60:
        time.sleep(0.1)
    parent.send_signal(signal.SIGINT)
    begun = time.monotonic()
    try:
        _, err = parent.communicate(timeout=60)
    except subprocess.TimeoutExpired:                      # what each process was doing, for the failure's message
        left = subprocess.run(f"ps -o pid,ppid,stat,wchan:20,args -s {parent.pid}", shell=True,
                              capture_output=True, text=True).stdout
        parent.kill()
        raise AssertionError(f"no exit 60 s after the Ctrl-C; sleeping: {sorted(p.name for p in tmp_path.iterdir())}"
                             f"\n{left}") from None
    assert time.monotonic() - begun < 30 and "KeyboardInterrupt" in err    # not after the two minutes' sleep
