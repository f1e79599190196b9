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

.PHONY: help run test deps deps-test build lint supply-chain advisories unit e2e bench icons screenshots clean-artifacts

help:
	@echo "make run    build and open ID Desk (Training mode when no Signicat profile is configured)"
	@echo "make test   fmt, clippy, unit + integration tests, end-to-end suite under Xvfb"
	@echo "make bench  benchmarks (Markdown table)"
	@echo "make windows  the Windows desk, CLI and installer, cross-built (release)"

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
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --version $(TAURI_DRIVER_VERSION) --locked --root $(TOOLS_DIR) --quiet

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

# Tools installed from crates.io, pinned (review M-16): a new release changes nothing here until
# someone moves the pin.
TAURI_DRIVER_VERSION := 2.1.0
TAURI_CLI_VERSION    := 2.12.4
CARGO_DENY_VERSION   := 0.20.2

# Licences, bans and sources of every crate in Cargo.lock (.cargo/deny.toml, which cargo-deny finds there), offline. The advisory
# database lives on GitHub, which CI cannot reach: `make advisories` where it can.
supply-chain: deps
	@cargo-deny --version 2>/dev/null | grep -qx 'cargo-deny $(CARGO_DENY_VERSION)' \
	  || cargo install cargo-deny --version $(CARGO_DENY_VERSION) --locked --root $(TOOLS_DIR) --quiet
	@# cargo-deny reads the crates' own manifests offline: fetch them first (a fresh machine has none).
	cargo fetch --locked --quiet
	cargo deny --locked --offline check licenses bans sources

advisories: supply-chain
	cargo deny --locked check advisories

lint: deps supply-chain
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	# The desk without Training (for banks that want no simulator on their PCs) must build too.
	cargo clippy -p id-desk --no-default-features -- -D warnings

# IDDESK_SYSTEM_DIR: debug builds then also trust the account running the tests as the owner of
# the managed files they create (core/src/managed_trust.rs), so the suite needs no root.
unit: deps-test
	IDDESK_SYSTEM_DIR=$(CARGO_TARGET_DIR)/unit-system-dir $(WITH_KEYRING) cargo test --workspace

e2e: deps-test
	cargo build -p id-desk -p id-desk-cli
	IDDESK_APP=$(APP) IDDESK_CLI=$(CLI) $(WITH_KEYRING) \
	  xvfb-run -a -s "-screen 0 1280x800x24" \
	  cargo test -p id-desk-e2e -- --ignored --test-threads=1

test: deps-test lint unit e2e test-windows
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
# After `--`: cargo's own arguments. Release builds use exactly Cargo.lock (review M-16).
TAURI_RUNNER_ARGS := -- --locked $(if $(filter no,$(TRAINING)),--no-default-features,)
BUNDLE_DIR := $(CARGO_TARGET_DIR)/release/bundle
.PHONY: package package-test package-deps
package-deps: deps
	@command -v cargo-tauri >/dev/null || cargo install tauri-cli --version $(TAURI_CLI_VERSION) --locked --root $(TOOLS_DIR) --quiet

package: package-deps
	cargo build --locked --release -p id-desk-cli
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
	cargo build --locked --release -p id-desk -p id-desk-cli -p id-desk-bench-hello -p id-desk-bench
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

# Windows (issue 30): cross-built on Debian for x86_64-pc-windows-gnu (rustup's target, Debian's
# mingw-w64 linker; OpenSSL and SQLCipher built from source for that target only), the installer
# by Debian's nsis from src-tauri/packaging/windows/installer.nsi, everything tested under Debian's
# Wine. One target directory per target; the Windows test builds carry no debug info (a debug
# id-desk-cli.exe with it is 329 MB).
WIN_TARGET      := x86_64-pc-windows-gnu
WIN_TARGET_DIR  ?= $(HOME)/.cache/id-desk/target-windows
WIN_DEBUG       := $(WIN_TARGET_DIR)/$(WIN_TARGET)/debug
WIN_RELEASE     := $(WIN_TARGET_DIR)/$(WIN_TARGET)/release
WIN_RUNNER      := $(CURDIR)/tests/harness/wine-run
WIN_ENV         := CARGO_TARGET_DIR=$(WIN_TARGET_DIR) CARGO_PROFILE_DEV_DEBUG=0 \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$(WIN_RUNNER)
VERSION         := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
NSIS_SCRIPT     := src-tauri/packaging/windows/installer.nsi
# The engine's tests that make sense on Windows: everything but the archive (a PostgreSQL cluster)
# and CIBA against oidc-provider (node), which need Linux programs the tests start.
WIN_CORE_TESTS  := --lib --test vault --test secrets --test policy --test desk --test logging \
  --test flows_rest --test flows_sign --test flows_phone --test flows_redirect \
  --test flows_connections --test fault_matrix --test rest_faults --test oidc_flows \
  --test oidc_failures --test ciba_training --test validators --test windows_network
# The CLI's black-box tests run against the Windows CLI: a Safe Conversation, a Swedish Phone
# signing with its evidence exported, history, bad input, Ctrl+C; every file under a folder
# named like a user, `Åsa Öberg` (TMPDIR).
WIN_CLI_TESTS   := rest_flows_succeed_abort_and_follow_the_contract \
  sign_api_v2_from_the_command_line history_lists_flows_and_export_copies_the_signed_evidence \
  invalid_input_or_configuration_exits_2_and_sends_nothing sigint_cancels_the_session_at_signicat
.PHONY: windows windows-deps test-windows

windows-deps:
	@$(call apt_install,gcc-mingw-w64-x86-64 wine64 nsis xvfb xauth xdotool imagemagick)
	@rustup target list --installed | grep -qx $(WIN_TARGET) || rustup target add $(WIN_TARGET)

# $(call win_installer,<dir with the .exe files>,<setup.exe>[,extra makensis flags])
define win_installer
	makensis -V2 -DVERSION=$(VERSION) -DBIN_DIR=$(1) -DSRC_DIR=$(CURDIR) -DOUTFILE=$(2) \
	  -DWEBVIEW2_LOADER=$(1)/WebView2Loader.dll $(3) $(NSIS_SCRIPT)
endef

# The release desk, CLI and installer; prints their sizes and what the .exe files import.
windows: deps windows-deps
	$(WIN_ENV) cargo build --locked --release --target $(WIN_TARGET) -p id-desk -p id-desk-cli
	$(call win_installer,$(WIN_RELEASE),$(WIN_RELEASE)/id-desk-$(VERSION)-setup.exe)
	@ls -l $(WIN_RELEASE)/id-desk.exe $(WIN_RELEASE)/id-desk-cli.exe $(WIN_RELEASE)/id-desk-$(VERSION)-setup.exe
	@for exe in id-desk.exe id-desk-cli.exe; do \
	  echo "$$exe imports: $$(x86_64-w64-mingw32-objdump -p $(WIN_RELEASE)/$$exe | sed -n 's/^\tDLL Name: //p' | sort -fu | tr '\n' ' ')"; \
	done

# The Windows tier of `make test`, all under Wine: the engine's tests, the CLI's black-box tests
# against the simulator (itself the Windows CLI), the installer, and the desk without WebView2.
test-windows: deps-test windows-deps
	$(WIN_ENV) cargo build --target $(WIN_TARGET) -p id-desk -p id-desk-cli
	$(WIN_ENV) cargo clippy --target $(WIN_TARGET) -p id-desk-windows -p id-desk-core -p id-desk-cli \
	  -p id-desk -- -D warnings
	$(WIN_ENV) IDDESK_EXPECT_WINE=1 cargo test --target $(WIN_TARGET) -p id-desk-windows
	$(WIN_ENV) IDDESK_SYSTEM_DIR='C:\iddesk-tests-system' \
	  cargo test --target $(WIN_TARGET) -p id-desk-core --features training $(WIN_CORE_TESTS)
	mkdir -p "$(WIN_TARGET_DIR)/tmp/Åsa Öberg"
	TMPDIR="$(WIN_TARGET_DIR)/tmp/Åsa Öberg" IDDESK_CLI=$(WIN_DEBUG)/id-desk-cli.exe \
	  IDDESK_CLI_RUNNER=$(WIN_RUNNER) \
	  cargo test -p id-desk-e2e --test cli -- --ignored --test-threads=1 $(WIN_CLI_TESTS)
	$(call win_installer,$(WIN_DEBUG),$(WIN_DEBUG)/id-desk-setup.exe,-DNO_COMPRESSION)
	tests/package/windows-install-test $(WIN_DEBUG)/id-desk-setup.exe $(VERSION)
	xvfb-run -a -s "-screen 0 1280x800x24" tests/package/windows-app-test $(WIN_DEBUG)/id-desk.exe tests/artifacts

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
