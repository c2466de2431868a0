"""Served versus in-process: the same records scored through a vLLM server (`anit eval --backend openai`) and through
anit's own batched HF path, examples per second and whether the answers agree.

    python -m bench.served [--records 64] [--work runs/bench-served]

The embedded SmolLM2 is written out as safetensors (what vLLM serves), the server is started from .venv-vllm
(`make serve-env`) and stopped afterwards; the server's start-up is timed apart from the scoring.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.common import ROOT, run_benchmark, save

VLLM = ROOT / ".venv-vllm" / "bin" / "python"


def write_model(folder: Path) -> None:
    from anit.models import load_model, load_tokenizer

    if not (folder / "config.json").exists():
        load_model("smollm2-135m").save_pretrained(folder, safe_serialization=True)
        load_tokenizer("smollm2-135m").save_pretrained(folder)


def start(folder: Path, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    command = [str(VLLM), "-m", "vllm.entrypoints.openai.api_server", "--model", str(folder), "--host", "127.0.0.1",
               "--port", str(port), "--served-model-name", "smollm2", "--dtype", "float32", "--max-model-len", "1024"]
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT,
                              env={**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2"})
    while True:
        if server.poll() is not None:
            raise SystemExit(f"vLLM exited: see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=5):
                return server, time.perf_counter() - started
        except OSError:
            time.sleep(2)


def timed_eval(records, out: Path, backend: dict) -> tuple[float, list[str]]:
    from anit.evaluation.config import EvalConfig, open_model
    from anit.evaluation.run import EvalOptions, evaluate

    cfg = EvalConfig(**backend)
    model, tokenizer, style, _ = open_model(cfg)
    started = time.perf_counter()
    evaluate(model, tokenizer, records, ["raw"], out, EvalOptions(16, None, "generate", prompt_style=style))
    seconds = time.perf_counter() - started
    rows = (out / "raw.predictions.jsonl").read_text().splitlines()
    return seconds, [json.loads(line)["generation"] for line in rows]


def main() -> None:
    from anit.data import default_data_dir
    from anit.data.prepare import prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=64)
    parser.add_argument("--work", type=Path, default=Path("runs/bench-served"))
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    records = prepare("sst2", "dev", args.records, 5, data_dir=default_data_dir())[0]
    folder = args.work / "smollm2"
    write_model(folder)
    hf_s, hf = timed_eval(records, args.work / "hf", {"model": str(folder)})
    server, startup = start(folder, args.port, args.work / "server.log")
    try:
        served_s, served = timed_eval(records, args.work / "served", {
            "backend": "openai", "base_url": f"http://127.0.0.1:{args.port}/v1", "served_model": "smollm2",
            "model": str(folder), "concurrency": 16})
    finally:
        server.terminate()
        server.wait(timeout=60)
    same = sum(a == b for a, b in zip(hf, served))
    rows = [{"path": "anit in-process (HF, batch 16)", "examples": len(records), "examples/s": len(records) / hf_s,
             "same answers": f"{same}/{len(records)}"},
            {"path": "vLLM 0.32 CPU server (16 in flight)", "examples": len(records),
             "examples/s": len(records) / served_s, "same answers": f"{same}/{len(records)}",
             "server start-up s": startup}]
    save("served", "Served model versus in-process", [(f"SST-2 dev, {len(records)} records, generation", rows)],
         ["vLLM's CPU build keeps one of the machine's cores for its API server, so on a 2-core machine the served "
          "path has one core for the model against the in-process path's two: read the ratio as this machine's, "
          "not vLLM's. Start-up (weights, compile) is timed apart and not in examples/s."])


if __name__ == "__main__":
    run_benchmark(main)
