# The two commands of the quick start: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean bench browser-deps exiftool-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/make_demo_photos.py demo/photos
	rm -rf demo/output
	OMP_NUM_THREADS=1 $(BIN)/clairvoyance run demo/photos -o demo/output; \
	  status=$$?; echo "Results: $(CURDIR)/demo/output (Final/, Final/generated/, report.json, report.csv)"; \
	  test $$status -le 1

# Debian programs the tests drive, installed only when missing (idempotent; shared by every test that
# needs them): Chromium for pages in a real browser through Playwright (report.html, the web app;
# never `playwright install`), exiftool as the real reader of XMP sidecars.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -y -q
browser-deps:
	@command -v chromium >/dev/null 2>&1 || ($(APT_GET) install chromium || ($(APT_GET) update && $(APT_GET) install chromium))

exiftool-deps:
	@command -v exiftool >/dev/null 2>&1 || ($(APT_GET) install libimage-exiftool-perl || ($(APT_GET) update && $(APT_GET) install libimage-exiftool-perl))

test: $(STAMP) browser-deps exiftool-deps
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/bench_run.py

clean:
	rm -rf $(VENV) demo/output demo/photos
