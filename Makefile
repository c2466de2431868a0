# `make run`: set up, then the end-to-end demo on the embedded default model.
# `make test`: set up (with the vLLM virtualenv), then the test suite.
# `make serve-env`: the vLLM virtualenv (.venv-vllm) that serves models for `anit eval --backend openai` and its tests.
.PHONY: setup run test bench clean serve-env

setup: .venv/.setup-done

.venv/.setup-done: pyproject.toml constraints.txt scripts/setup.sh
	bash scripts/setup.sh
	touch $@

run: setup
	.venv/bin/anit demo

test: setup serve-env
	.venv/bin/ruff check src tests bench
	ANIT_REQUIRE_VLLM=1 .venv/bin/python -m pytest -q

serve-env: .venv-vllm/.setup-done

.venv-vllm/.setup-done: scripts/serve-env.sh
	bash scripts/serve-env.sh
	touch $@

bench: setup
	.venv/bin/python -m bench.run_all

clean:
	rm -rf .venv .venv-vllm runs .pytest_cache
