# `make run`: set up, then the end-to-end demo on the embedded default model.
# `make test`: set up, then the test suite.
.PHONY: setup run test bench clean

setup: .venv/.setup-done

.venv/.setup-done: pyproject.toml constraints.txt scripts/setup.sh
	bash scripts/setup.sh
	touch $@

run: setup
	.venv/bin/anit demo

test: setup
	.venv/bin/ruff check src tests bench
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python bench/run_all.py

clean:
	rm -rf .venv runs .pytest_cache
