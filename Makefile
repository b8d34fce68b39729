# The development loop. `make help` lists the targets; `make all` is exactly
# what CI (.ci/run) runs. Every target uses the virtual environment in .venv,
# which `make setup` (scripts/setup.sh) creates.
.DEFAULT_GOAL := help
SHELL := bash
VENV := .venv
PY := $(VENV)/bin/python
export MATURIN_NO_INSTALL_RUST := 1

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: setup
setup: ## .venv with the release wheel installed, its test and lint tools, Prometheus
	scripts/setup.sh

# maturin develop writes the extension over the old file in place, which would
# change the code under a process that has it loaded (a test run, a demo):
# unlinked first, the old file lives on for them and the new one is a new file.
.PHONY: dev
dev: ## rebuild the Rust core into .venv in place (maturin develop, release profile)
	rm -f python/thanos_rs/_core*.so
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --release --locked

.PHONY: lint
lint: lint-rust lint-python ## every lint below

.PHONY: lint-rust
lint-rust: ## cargo fmt --check and clippy with warnings as errors
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

# stubtest checks the installed package's stub against its extension (.venv's
# wheel, or `make dev`'s build); tests/test_core_stubs.py runs the same check
# within the suite. Names possibly unbound (mypy's possibly-undefined, which
# ruff lacks) are checked by their test, which keeps only those error codes.
.PHONY: lint-python
lint-python: ## ruff, _core.pyi against the installed extension (mypy's stubtest), no possibly unbound names
	$(VENV)/bin/ruff check python tests benches scripts
	$(PY) -m mypy.stubtest thanos_rs._core
	$(PY) -m pytest -q -p no:cacheprovider tests/test_bound_names.py

.PHONY: test-fast
test-fast: ## the Python suite without the Prometheus and the slow tests (under a minute)
	$(PY) -m pytest -q -m 'not prometheus and not slow'

.PHONY: test
test: ## every test: cargo test, the fuzzers for 20 s each, the whole Python suite
	scripts/test.sh

.PHONY: sdist
sdist: ## build the sdist and check that its Rust sources compile
	scripts/check_sdist.sh

.PHONY: smoke
smoke: ## the wheel in fresh CPython 3.11, 3.12 and 3.13 environments without Rust
	scripts/smoke_wheel.sh

.PHONY: all
all: setup lint test sdist smoke ## what CI runs
