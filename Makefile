# Pitchlab. First command: `make demo`. Second: `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

RAY_STAMP := $(VENV)/.installed-ray

.PHONY: setup setup-ray demo analyze watch status leaderboard report test test-fast bench bench-transcripts bench-quick compare clean-db help

help:
	@echo "make demo      set everything up, analyze the demo calls into data/demo.duckdb, print the leaderboard"
	@echo "make test      install what the tests need and run them"
	@echo "make analyze   analyze new recordings in data/inbox into data/calls.duckdb (outcomes from data/outcomes.csv)"
	@echo "make watch     analyze recordings as they are dropped into data/inbox, until Ctrl-C"
	@echo "make status    processed, pending and failed recordings of data/inbox"
	@echo "make leaderboard  print the leaderboard of data/calls.duckdb"
	@echo "make report    write data/report.html (charts, examples, reps, data quality) from data/calls.duckdb"
	@echo "make bench     measure speed and memory, write BENCHMARKS.md and BENCHMARKS.json (well over an hour on 2 cores; keeps the transcript rows; one group: .venv/bin/python -m bench --only GROUP --merge)"
	@echo "make bench-transcripts  the transcript batches of BENCHMARKS.md (1,000, 2,000 and 10,000 calls: about 45 min)"
	@echo "make setup-ray install the optional Ray engine (pitchlab analyze --engine ray)"
	@echo "make compare   install the [compare] extra, compare the demo's clusters with BERTopic and k-means (after make demo)"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11) on PATH, or run: make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: the CPU wheel (an unpinned torch pulls a multi-GB CUDA build)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	# resemblyzer only for its voice-encoder weights (pipeline/voices/voice.py): without its librosa/webrtcvad deps
	$(BIN)/pip install --quiet --no-deps resemblyzer==0.1.4
	touch $(STAMP)

setup: $(STAMP)

# the optional Ray engine (pitchlab analyze --engine ray); the tests use it too
$(RAY_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[ray]'
	touch $(RAY_STAMP)

setup-ray: $(RAY_STAMP)

demo: $(STAMP)
	$(BIN)/pitchlab analyze --inbox data/demo --db data/demo.duckdb --outcomes data/demo/outcomes.csv --descriptors data/demo/descriptors.csv

analyze: $(STAMP)
	@mkdir -p data/inbox
	$(BIN)/pitchlab analyze --inbox data/inbox --db data/calls.duckdb $(if $(wildcard data/outcomes.csv),--outcomes data/outcomes.csv,) $(if $(wildcard data/team.txt),--team data/team.txt,) $(if $(wildcard data/descriptors.csv),--descriptors data/descriptors.csv,)

watch: $(STAMP)
	@mkdir -p data/inbox
	$(BIN)/pitchlab watch --inbox data/inbox --db data/calls.duckdb --outcomes data/outcomes.csv $(if $(wildcard data/team.txt),--team data/team.txt,) $(if $(wildcard data/descriptors.csv),--descriptors data/descriptors.csv,)

status: $(STAMP)
	$(BIN)/pitchlab status --inbox data/inbox --db data/calls.duckdb

leaderboard: $(STAMP)
	$(BIN)/pitchlab leaderboard --db data/calls.duckdb

report: $(STAMP)
	$(BIN)/pitchlab report --db data/calls.duckdb --out data/report.html --inbox data/inbox

test: $(STAMP) $(RAY_STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) $(RAY_STAMP)
	$(BIN)/python -m pytest -q -m "not e2e"

bench: $(STAMP)
	$(BIN)/python -m bench --skip transcripts --merge

bench-transcripts: $(STAMP)
	$(BIN)/python -m bench --only transcripts --merge

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick --out /tmp/pitchlab-bench

compare: $(STAMP)
	$(BIN)/pip install --quiet -e '.[compare]'
	$(BIN)/python scripts/compare_clustering.py data/demo.duckdb data/demo_truth.json

clean-db:
	rm -f data/demo.duckdb data/demo.duckdb.wal
