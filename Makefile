# Two commands matter: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Test processes: most tests wait on crawl subprocesses and servers, so one more than the cores.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) + 1 )))

.PHONY: run crawl services test lint typecheck bench clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "speech-archive needs Python 3.11 or newer; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

## run: set up, then run the daemon in the foreground: every enabled site of config.toml on its
## schedule, into ./data/, health on 127.0.0.1:9464 (Ctrl-C or SIGTERM stops it cleanly)
run: $(STAMP)
	$(BIN)/speech-archive --config config.toml daemon

## crawl: set up, then crawl every enabled site once, now, and exit
crawl: $(STAMP)
	$(BIN)/speech-archive --config config.toml crawl --all

## services: install what the tests and benchmarks start if missing: the PostgreSQL server binaries
## (initdb/pg_ctl), Debian's Chromium (with CJK fonts) for the browser tests (never `playwright install`),
## and the nginx the crawl benchmark serves its pages with
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
services:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { \
	  echo "installing the PostgreSQL server for the tests (apt-get install postgresql)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's Chromium for the browser tests (apt-get install chromium fonts-noto-cjk)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "installing nginx for the crawl benchmark (apt-get install nginx-light)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }

## test: set up, start the services the tests need, run the whole suite
test: $(STAMP) services
	$(BIN)/ruff check .
	$(BIN)/mypy
	SPEECH_ARCHIVE_REQUIRE_POSTGRES=1 SPEECH_ARCHIVE_REQUIRE_SHARED=1 SPEECH_ARCHIVE_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial"
	SPEECH_ARCHIVE_REQUIRE_POSTGRES=1 SPEECH_ARCHIVE_REQUIRE_SHARED=1 SPEECH_ARCHIVE_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m serial

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
