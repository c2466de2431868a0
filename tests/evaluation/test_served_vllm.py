"""anit eval through a real vLLM server (its CPU build, from .venv-vllm, which `make serve-env` builds) gives the
in-process path's answers: the exported model by generation and by choice, and a served LoRA adapter."""

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from anit.cli import main

ROOT = Path(__file__).resolve().parents[2]
VLLM = ROOT / ".venv-vllm" / "bin" / "python"
SAMPLE = ROOT / "src" / "anit" / "resources" / "sample_data"
FIXTURES = ROOT / "tests" / "fixtures" / "data"
PORT = 8766


def anit(*args):
    old = sys.argv
    sys.argv = ["anit", *map(str, args)]
    try:
        main()
    except SystemExit as done:
        assert not done.code, f"anit {' '.join(map(str, args))} exited {done.code}"
    finally:
        sys.argv = old


def _last_lines(log: Path, n: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-n:]) if log.exists() else "(no log)"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """Records, an adapter trained 2 steps on the embedded model, and the model `anit export` merges from it."""
    if not VLLM.exists():
        if os.environ.get("ANIT_REQUIRE_VLLM") == "1":
            pytest.fail(f"{VLLM} not found: `make serve-env` builds it (CI requires it)")
        pytest.skip(f"{VLLM} not found: `make serve-env` builds the vLLM virtualenv")
    from anit.data.prepare import prepare

    work = tmp_path_factory.mktemp("vllm")
    sst2, _ = prepare("sst2", "dev", 8, 0, data_dir=SAMPLE)
    conll, _ = prepare("conll2003", "train", None, 0, data_dir=FIXTURES)
    train, _ = prepare("sst2", "train", 8, 0, data_dir=SAMPLE)
    for name, records in (("sst2.jsonl", sst2), ("mixed.jsonl", sst2[:4] + conll), ("train.jsonl", train)):
        (work / name).write_text("".join(json.dumps(r) + "\n" for r in records))
    anit("train", "--method", "it", "--data", work / "train.jsonl", "--max-steps", "2", "--output-dir",
         work / "adapter", "--set", "report_to=[none]", "--set", "max_length=192", "--set", "lr=0.01")
    anit("export", "--adapter", work / "adapter", "--out", work / "merged")
    return work


@contextlib.contextmanager
def vllm_server(work: Path, name: str, port: int, *extra: str):
    """A vLLM server of the exported model on 127.0.0.1, stopped on exit; a failed start fails the test with the
    server's last log lines."""
    log = work / f"{name}.log"
    command = [str(VLLM), "-m", "vllm.entrypoints.openai.api_server", "--model", str(work / "merged"), "--host",
               "127.0.0.1", "--port", str(port), "--served-model-name", "merged", "--dtype", "float32",
               "--max-model-len", "1024", *extra]
    with log.open("w") as handle:
        server = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT,
                                  env={**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 900
        while True:
            if server.poll() is not None:
                pytest.fail(f"the vLLM server exited ({server.returncode}):\n{_last_lines(log)}")
            if time.time() > deadline:
                pytest.fail(f"the vLLM server did not answer within 900 s:\n{_last_lines(log)}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def served(artifacts):
    with vllm_server(artifacts, "server", PORT) as url:
        yield url, artifacts


def _rows(folder: Path, condition: str = "raw"):
    return [(r["id"], r["generation"], r["parsed"]) for r in
            (json.loads(line) for line in (folder / f"{condition}.predictions.jsonl").read_text().splitlines())]


@pytest.mark.slow
@pytest.mark.parametrize("scoring,data", [("generate", "mixed.jsonl"), ("choice", "sst2.jsonl")])
def test_the_served_export_answers_as_the_in_process_model(served, scoring, data):
    url, work = served
    common = ["--data", work / data, "--scoring", scoring, "--max-new-tokens", "24", "--instructions", "raw",
              "--instructions", "unseen"]
    anit("eval", "--model", work / "merged", "--out", work / f"hf-{scoring}", *common)
    anit("eval", "--backend", "openai", "--base-url", url, "--served-model", "merged", "--model", work / "merged",
         "--out", work / f"served-{scoring}", *common)
    for condition in ("raw", "unseen"):
        assert _rows(work / f"served-{scoring}", condition) == _rows(work / f"hf-{scoring}", condition)
    assert (json.loads((work / f"served-{scoring}" / "metrics.json").read_text())["conditions"]
            == json.loads((work / f"hf-{scoring}" / "metrics.json").read_text())["conditions"])


@pytest.mark.slow
def test_a_served_lora_adapter_answers_as_the_in_process_adapter(artifacts):
    """A second server, with --enable-lora: vLLM 0.32's CPU build fails on prompt log-probabilities once LoRA is
    enabled (an einsum shape error in punica_cpu's add_lora_logits), so choice scoring is checked on the first."""
    work = artifacts
    with vllm_server(work, "lora-server", PORT + 1, "--enable-lora", "--max-lora-rank", "16", "--lora-modules",
                     f"lora={work / 'adapter'}") as url:
        _served_lora(url, work)


def _served_lora(url, work):
    common = ["--data", work / "sst2.jsonl", "--max-new-tokens", "8"]
    anit("eval", "--model", work / "merged", "--adapter", work / "adapter", "--out", work / "hf-lora", *common)
    anit("eval", "--backend", "openai", "--base-url", url, "--served-model", "lora", "--model", work / "merged",
         "--out", work / "served-lora", *common)
    assert _rows(work / "served-lora") == _rows(work / "hf-lora")
