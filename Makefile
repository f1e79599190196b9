# ID Desk — two commands for a newcomer: `make run` and `make test`.
# Everything a fresh Debian/Ubuntu machine lacks is installed here (apt-get; sudo when not root).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export CARGO_TARGET_DIR ?= $(HOME)/.cache/id-desk/target
TOOLS_DIR   ?= $(HOME)/.cache/id-desk/tools
export PATH := $(TOOLS_DIR)/bin:$(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BUILD_PKGS := libwebkit2gtk-4.1-dev build-essential curl wget file libssl-dev libxdo-dev \
  libayatana-appindicator3-dev librsvg2-dev pkg-config libdbus-1-dev
# postgresql: the archive tests start a throw-away cluster (initdb in a temp dir, 127.0.0.1 only).
TEST_PKGS  := xvfb xauth dbus-x11 webkit2gtk-driver gnome-keyring keyutils imagemagick postgresql xdotool
APP := $(CARGO_TARGET_DIR)/debug/id-desk
CLI := $(CARGO_TARGET_DIR)/debug/id-desk-cli
# Runs a command inside a fresh kernel session keyring and a private D-Bus session with an unlocked
# gnome-keyring: the real OS keyring backends, isolated from the user's own.
WITH_KEYRING := tests/harness/with-keyring

.PHONY: help run test deps deps-test build lint unit e2e bench icons screenshots clean-artifacts

help:
	@echo "make run    build and open ID Desk (Training mode when no Signicat profile is configured)"
	@echo "make test   fmt, clippy, unit + integration tests, end-to-end suite under Xvfb"
	@echo "make bench  benchmarks (Markdown table)"
	@echo "make check-windows  the Windows keyring's local-machine persistence, under Wine"

# Installs only what is missing; nothing when everything is present.
define apt_install
	missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing: $$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	@$(call apt_install,$(BUILD_PKGS))

# The CIBA acceptance tests run against node `oidc-provider` (OpenID Certified), pinned by
# tests/ciba-peer/package-lock.json. Node.js 20 or later; Debian's nodejs and npm when missing.
CIBA_PEER := tests/ciba-peer

# The accessibility audit injects axe-core into the real window (test-only, never shipped), pinned
# by tests/a11y/package-lock.json.
A11Y := tests/a11y

deps-test: deps $(CIBA_PEER)/node_modules/.package-lock.json $(A11Y)/node_modules/.package-lock.json
	@$(call apt_install,$(TEST_PKGS))
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --root $(TOOLS_DIR) --quiet

$(CIBA_PEER)/node_modules/.package-lock.json: $(CIBA_PEER)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { $(call apt_install,nodejs npm); }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
	  || { echo "The CIBA peer needs Node.js 20 or later (found $$(node --version))."; exit 1; }
	cd $(CIBA_PEER) && npm ci --no-audit --no-fund --loglevel=error

$(A11Y)/node_modules/.package-lock.json: $(A11Y)/package-lock.json
	@command -v npm >/dev/null || { $(call apt_install,nodejs npm); }
	cd $(A11Y) && npm ci --no-audit --no-fund --loglevel=error

build: deps
	cargo build -p id-desk -p id-desk-cli

run: build
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "No display found: opening ID Desk on a virtual display (Xvfb) with a throw-away keyring and data."; \
	  $(call apt_install,xvfb xauth dbus-x11 gnome-keyring keyutils); \
	  $(WITH_KEYRING) xvfb-run -a -s "-screen 0 1280x800x24" $(APP); \
	else $(APP); fi

lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	# The desk without Training (for banks that want no simulator on their PCs) must build too.
	cargo clippy -p id-desk --no-default-features -- -D warnings

unit: deps-test
	$(WITH_KEYRING) cargo test --workspace

e2e: deps-test
	cargo build -p id-desk -p id-desk-cli
	IDDESK_APP=$(APP) IDDESK_CLI=$(CLI) $(WITH_KEYRING) \
	  xvfb-run -a -s "-screen 0 1280x800x24" \
	  cargo test -p id-desk-e2e -- --ignored --test-threads=1

test: deps-test lint unit e2e
	@echo "make test: all tiers passed"

# Installable packages (issue 16): the release app and CLI, bundled by Tauri's bundler
# (`cargo tauri`, installed into TOOLS_DIR on first use: about 13 minutes once). The .deb carries
# id-desk-cli too; its path is given at build time so tauri.conf.json names no machine path.
# AppImage needs linuxdeploy, which Tauri's bundler downloads from outside the package registries:
# `make package BUNDLES=deb,appimage` on a machine with internet access.
BUNDLES ?= deb,rpm
# TRAINING=no builds the desk without Training mode (no simulator compiled in): a desk without a
# usable profile then shows why it cannot open. The default keeps Training for practice.
TRAINING ?= yes
TAURI_RUNNER_ARGS := $(if $(filter no,$(TRAINING)),-- --no-default-features,)
BUNDLE_DIR := $(CARGO_TARGET_DIR)/release/bundle
.PHONY: package package-test package-deps
package-deps: deps
	@command -v cargo-tauri >/dev/null || cargo install tauri-cli --version "^2" --locked --root $(TOOLS_DIR) --quiet

package: package-deps
	cargo build --release -p id-desk-cli
	rm -rf $(BUNDLE_DIR)/deb $(BUNDLE_DIR)/rpm $(BUNDLE_DIR)/appimage
	cd src-tauri && cargo tauri build --ci --bundles $(BUNDLES) \
	  --config '{"bundle":{"linux":{"deb":{"files":{"/usr/bin/id-desk-cli":"$(CARGO_TARGET_DIR)/release/id-desk-cli"}},"rpm":{"files":{"/usr/bin/id-desk-cli":"$(CARGO_TARGET_DIR)/release/id-desk-cli"}}}}}' \
	  $(TAURI_RUNNER_ARGS)
	@ls -l $(BUNDLE_DIR)/*/* | grep -E '\.(deb|rpm|AppImage)$$'

# Installs the .deb for real (dpkg -i), starts it under Xvfb to `window ready`, purges it.
# The .rpm (issue 24) is not installed on Debian: rpm-test reads its metadata and contents with
# Debian's rpm tools.
package-test: package
	@$(call apt_install,xvfb xauth rpm cpio)
	EXPECT_VERSION=$$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1) \
	  tests/package/install-test "$$(ls $(BUNDLE_DIR)/deb/*.deb | head -n 1)"
	EXPECT_VERSION=$$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1) \
	  tests/package/rpm-test "$$(ls $(BUNDLE_DIR)/rpm/*.rpm | head -n 1)"

# Benchmarks of issues 9, 13 and 17: a release build (LTO; long from cold), then 9 load runs of
# BENCH_SECONDS (60) each (the engine's scale curve, plain HTTP/1.1, the Python baseline), the
# start-up runs and the archive. Prints one Markdown table, also written to $(BENCH_DIR)/bench.md,
# and the scale plot $(BENCH_DIR)/scale.svg. A smoke run: `make bench BENCH_SECONDS=10`.
BENCH_DIR  := $(CARGO_TARGET_DIR)/bench
BENCH_VENV := $(BENCH_DIR)/venv
.PHONY: bench-deps
bench: deps-test bench-deps
	cargo build --release -p id-desk -p id-desk-cli -p id-desk-bench-hello -p id-desk-bench
	BENCH_OUT=$(BENCH_DIR) BENCH_PYTHON=$(BENCH_VENV)/bin/python \
	  BENCH_BASELINE=src-tauri/bench/baseline/safe_conversation.py \
	  $(if $(BENCH_SECONDS),BENCH_SECONDS=$(BENCH_SECONDS)) \
	  $(if $(BENCH_ARCHIVE_ROWS),BENCH_ARCHIVE_ROWS=$(BENCH_ARCHIVE_ROWS)) \
	  $(if $(BENCH_SCALE),BENCH_SCALE=$(BENCH_SCALE)) $(if $(BENCH_ONLY),BENCH_ONLY=$(BENCH_ONLY)) \
	  $(WITH_KEYRING) xvfb-run -a -s "-screen 0 1280x800x24" $(CARGO_TARGET_DIR)/release/id-desk-bench

# The baseline's Python with `requests` in its own venv; `time` and `xwininfo` for measuring.
bench-deps:
	@$(call apt_install,python3 python3-venv time x11-utils)
	@mkdir -p $(BENCH_DIR)
	@[ -x $(BENCH_VENV)/bin/python ] || /usr/bin/python3 -m venv $(BENCH_VENV)
	@$(BENCH_VENV)/bin/python -c 'import requests' 2>/dev/null || $(BENCH_VENV)/bin/pip install --quiet requests

# Windows keyring persistence (issue 23, item 7) checked without Windows: the core crate's
# secrets/platform_entry.rs cross-built with mingw-w64 and run under Wine, whose Credential Manager
# keeps each credential's persistence. Not in `make test`: it fetches the Windows target of the
# Rust toolchain (rustup) and about 1 GB of Debian packages.
WIN_TARGET := x86_64-pc-windows-gnu
WIN_OUT    := $(CARGO_TARGET_DIR)/$(WIN_TARGET)/debug
.PHONY: check-windows
check-windows:
	@$(call apt_install,gcc-mingw-w64-x86-64 wine64 xvfb xauth)
	rustup target add $(WIN_TARGET)
	cargo build --target $(WIN_TARGET) -p id-desk-windows-keyring-check
	x86_64-w64-mingw32-gcc -shared -o $(WIN_OUT)/bcryptprimitives.dll tests/windows-keyring/prng_shim.c -ladvapi32
	WINEPREFIX=$(CARGO_TARGET_DIR)/wine WINEDEBUG=-all xvfb-run -a /usr/lib/wine/wine64 \
	  $(WIN_OUT)/id-desk-windows-keyring-check.exe

# Regenerates every icon Tauri needs from the one committed source, icons/icon.svg.
icons:
	@$(call apt_install,librsvg2-bin imagemagick icnsutils)
	cd icons && rsvg-convert -w 1024 -h 1024 icon.svg -o icon.png \
	  && convert icon.png -resize 32x32 PNG32:32x32.png \
	  && convert icon.png -resize 128x128 PNG32:128x128.png \
	  && convert icon.png -resize 256x256 PNG32:128x128@2x.png \
	  && convert icon.png -define icon:auto-resize=256,128,64,48,32,16 icon.ico \
	  && convert icon.png -resize 512x512 PNG32:/tmp/iddesk-icon512.png \
	  && png2icns icon.icns /tmp/iddesk-icon512.png 32x32.png 128x128.png >/dev/null

# Refreshes the screenshots the README shows from the last e2e run (scaled to 75%).
README_SHOTS := identify-binding identify-qr identify-result sign-result history settings identify-invalid \
  identify-ciba display-qr display-thank-you redirect-mitid redirect-result \
  sign-phone-result sign-link-qr display-sign-qr sign-link-window \
  identify-groups identify-sbid-phone identify-screen-pop identify-idcard
screenshots:
	mkdir -p tests/screenshots
	for f in $(README_SHOTS); do convert tests/artifacts/$$f.png -resize 75% -strip tests/screenshots/$$f.png; done
