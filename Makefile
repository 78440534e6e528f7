# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORPUS ?= corpus
INDEX ?= index
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test lint eval index browser ocr bench clean

# `assistant index` is incremental: with nothing changed it takes well under a second and does
# not load the model, so running it every time is how a missing or stale index gets rebuilt.
run: ocr index
	ASSISTANT_INDEX=$(INDEX) $(BIN)/python app.py

# The venv is rebuilt only when pyproject.toml changes. `make run` installs the app alone; the
# tests add the test tools and the cluster extra (Ray, Milvus Lite), which they exercise.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,cluster]'
	touch $@

index: $(BIN)/.installed
	$(BIN)/assistant index --corpus $(CORPUS) --index $(INDEX)

# Debian packages some readers use when present: Tesseract for scanned PDF pages and images
# (readers/ocr.py), antiword and catdoc for legacy .doc/.ppt (readers/legacy.py). Installed when
# missing and apt-get may run (as root); otherwise those files are skipped with a reason.
READER_TOOLS := tesseract:tesseract-ocr antiword:antiword catppt:catdoc
ocr:
	@missing=""; for pair in $(READER_TOOLS); do command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then { apt-get update -qq && apt-get install -y -qq $$missing tesseract-ocr-eng >/dev/null; } \
		|| echo "note: could not install$$missing: scanned pages, images and legacy .doc/.ppt files will be skipped" >&2; fi

# Debian's Chromium for the browser tests (Playwright's own browser download fails offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

lint: $(BIN)/.installed-test
	$(BIN)/ruff check assistant tests app.py benchmarks docs

test: $(BIN)/.installed-test browser ocr lint
	$(BIN)/python -m pytest -q

# The seed set's test half in all four modes, then the other corpora (eval/README.md), each
# indexed into eval-index/ (not committed).
OTHER_SETS := licenses nodejs-docs nodejs-dev poetry-docs pkg-docs real-pdfs
eval: index
	@for mode in hybrid keyword dense rrf; do \
		$(BIN)/assistant eval eval/questions.jsonl --index $(INDEX) --mode $$mode --split test; echo; done
	@for set in $(OTHER_SETS); do \
		$(BIN)/assistant index --corpus eval/$$set --index eval-index/$$set >/dev/null && \
		for mode in hybrid keyword dense; do \
			echo "$$set:"; $(BIN)/assistant eval eval/$$set.jsonl --index eval-index/$$set --mode $$mode; echo; done; done

# Speed and memory figures (warm and cold questions beside the bare encoder, app start, indexing):
# prints a table and appends it to BENCHMARKS.md with date, machine and versions.
bench: $(BIN)/.installed
	$(BIN)/assistant bench --corpus $(CORPUS)

clean:
	rm -rf $(INDEX) eval-index .pytest_cache test-artifacts
