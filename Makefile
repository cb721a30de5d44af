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

run: $(STAMP) web/console/dist/index.html
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

CONSOLE_DEPS := web/console/node_modules/.package-lock.json

# The counselor console served at /console/ (bundles web/e2ee's sources). Without npm it is
# not built and /console/ answers 503 console_not_built; its browser tests build their own.
$(CONSOLE_DEPS): web/console/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix web/console --no-audit --no-fund; \
	else echo "npm not found: the counselor console will not be built"; fi

web/console/dist/index.html: $(CONSOLE_DEPS) $(wildcard web/console/src/*.js) \
		web/console/index.html web/console/console.css web/console/build.mjs \
		$(wildcard web/e2ee/src/*.js)
	@if command -v npm >/dev/null; then npm run --prefix web/console build; fi

test: $(STAMP) $(NODE_DEPS) $(E2EE_DEPS) web/console/dist/index.html
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCH_NODE_DEPS := bench/node/node_modules/.package-lock.json \
	bench/node-relay/node_modules/.package-lock.json

# The load generator (socket.io-client) and the Node socket.io reference of `bench compare`.
bench/%/node_modules/.package-lock.json: bench/%/package-lock.json
	npm ci --prefix bench/$* --no-audit --no-fund

# Benchmarks write bench/results/*.json; `bench compare` also rewrites its section of
# docs/performance.md, the other figures are copied there by hand.
bench: $(STAMP) $(BENCH_NODE_DEPS)
	$(BIN)/python -m bench compare
	$(BIN)/python -m bench chat
	$(BIN)/python -m bench booking

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .hypothesis web/e2ee/dist web/console/dist
