# One entry point for humans and CI. `make run` and `make test` create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rtserver serve --demo

NODE_DEPS := tests/node/node_modules/.package-lock.json

# Node's socket.io-client for the interop test; skipped (outside CI) when npm is absent.
$(NODE_DEPS): tests/node/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/node --no-audit --no-fund; \
	else echo "npm not found: the Node interop test will be skipped"; fi

E2EE_DEPS := web/e2ee/node_modules/.package-lock.json

# The console's E2EE bundle (browser tests build their own copy; skipped outside CI without npm).
$(E2EE_DEPS): web/e2ee/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix web/e2ee --no-audit --no-fund; \
	else echo "npm not found: the browser E2EE tests will be skipped"; fi

web/e2ee/dist/rtserver-e2ee.js: $(E2EE_DEPS) $(wildcard web/e2ee/src/*.js) web/e2ee/build.mjs
	npm run --prefix web/e2ee build

test: $(STAMP) $(NODE_DEPS) $(E2EE_DEPS)
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks write bench/results/*.json; figures are copied into docs/performance.md by hand.
bench: $(STAMP)
	$(BIN)/python -m bench chat
	$(BIN)/python -m bench booking

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .hypothesis web/e2ee/dist
