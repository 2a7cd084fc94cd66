# The two commands: `make run` (set up and serve on http://127.0.0.1:6543) and `make test`.
# While working: `make check` (lint, types and the fast tests, under a minute); `make lint` alone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/whistle_*)
# A plugin's own test extra, where its setup.cfg has one (pip warns about an extra that is not there).
plugin_spec = './$(1)$(if $(shell grep -ls '^test =' $(1)/setup.cfg),[test])'
# What `make lint` checks: the application and the bundled plugins (their tests too).
LINT_PATHS := whistle plugins
# The tests `make check` runs: not the ones that start servers, processes or browsers, nor the fuzz.
FAST_TESTS := not slow and not browser

.PHONY: run test lint check install clean messages

# Reinstall only when packaging metadata changes; the install is editable otherwise.
$(VENV)/.installed: setup.cfg pyproject.toml $(wildcard plugins/whistle_*/setup.cfg)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,lint]' $(foreach p,$(PLUGINS),-e $(call plugin_spec,$(p)))
	touch $@

# From the npm registry, pinned by package-lock.json: libsodium.js for the browser's crypto module
# and zip.js for the case export (both copied below), and axe-core for the browser tests' accessibility checks (tests/browser).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The browser's crypto library (whistle/static/js/crypto.js imports it), served by the app from
# /static/vendor/libsodium/: libsodium.js's ES modules copied out of node_modules, with the one bare
# import ("libsodium-sumo") made relative, since a page cannot map bare names without inline script.
VENDOR := whistle/static/vendor/libsodium
$(VENDOR)/.installed: node_modules/.installed
	mkdir -p $(VENDOR)
	cp node_modules/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs $(VENDOR)/
	sed 's|from"libsodium-sumo"|from"./libsodium-sumo.mjs"|' \
		node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs > $(VENDOR)/libsodium-wrappers.mjs
	grep -q 'from"./libsodium-sumo.mjs"' $(VENDOR)/libsodium-wrappers.mjs
	cp node_modules/libsodium-wrappers-sumo/LICENSE $(VENDOR)/LICENSE
	touch $@

# zip.js for the case export on the guardian's device (whistle/static/js/export.js imports it), served
# from /static/vendor/zipjs/: its single-file ES module that uses the browser's own compression
# streams (no WebAssembly); export.js turns its web workers off (the CSP allows none).
ZIPJS := whistle/static/vendor/zipjs
$(ZIPJS)/.installed: node_modules/.installed
	mkdir -p $(ZIPJS)
	cp node_modules/@zip.js/zip.js/index-native.min.js $(ZIPJS)/zip.js
	cp node_modules/@zip.js/zip.js/LICENSE $(ZIPJS)/LICENSE
	touch $@

# The languages besides English (whistle/i18n/__init__.py), each with two gettext catalogues in
# whistle/locale/<code>/LC_MESSAGES/: whistle.po (Python and templates) and whistle-js.po (the browser's
# modules). The app reads the compiled .mo files, made here from the .po files the repository keeps.
LANGUAGES := cy pl ar
CATALOGUES := $(foreach l,$(LANGUAGES),$(foreach d,whistle whistle-js,whistle/locale/$(l)/LC_MESSAGES/$(d).mo))
whistle/locale/%.mo: whistle/locale/%.po $(VENV)/.installed
	$(BIN)/pybabel -q compile --statistics -i $< -o $@

install: $(VENV)/.installed node_modules/.installed $(VENDOR)/.installed $(ZIPJS)/.installed $(CATALOGUES)

# After changing what people read: extract every marked string into the templates (.pot) and bring
# each language's catalogues up to date with them; new strings arrive untranslated, changed ones
# fuzzy, and the catalogue test fails until a translator has done both (docs/translating.md).
messages: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _ -k plural:1,2 --add-location=file --sort-by-file --no-wrap \
		--project whistle --msgid-bugs-address "" -o whistle/locale/whistle.pot .
	$(BIN)/pybabel -q extract -F babel-js.cfg -k t --add-location=file --sort-by-file --no-wrap \
		--project whistle --msgid-bugs-address "" -o whistle/locale/whistle-js.pot .
	for l in $(LANGUAGES); do for d in whistle whistle-js; do \
		if [ -f whistle/locale/$$l/LC_MESSAGES/$$d.po ]; then \
			$(BIN)/pybabel -q update --no-wrap --ignore-obsolete --no-fuzzy-matching -D $$d -l $$l -d whistle/locale -i whistle/locale/$$d.pot; \
		else $(BIN)/pybabel -q init -D $$d -l $$l -d whistle/locale -i whistle/locale/$$d.pot; fi; done; done

# The webhook plugin's signing secret, named by development.ini; made once, like the app's own keys.
var/keys/webhook_secret:
	mkdir -p var/keys && chmod 700 var/keys
	umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@

# The organisation's signing key pair, named by development.ini (which also turns auto_sign on).
var/keys/org_public_key:
	$(BIN)/whistle -c development.ini keys org-init

run: install var/keys/webhook_secret var/keys/org_public_key
	$(BIN)/whistle -c development.ini db upgrade
	$(BIN)/whistle -c development.ini channels load config/channels.toml
	$(BIN)/whistle -c development.ini demo
	$(BIN)/pserve development.ini

test: install
	$(BIN)/pytest

# Ruff's rules and mypy's types, configured in pyproject.toml.
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy $(LINT_PATHS)

# The quick loop while working; `make test` still runs everything.
check: lint
	$(BIN)/pytest -m '$(FAST_TESTS)'

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis node_modules .ruff_cache .mypy_cache $(VENDOR) $(ZIPJS)
