"""Environment that keeps every dependency offline and quiet: the one place it is set.

The library applies :data:`FORCED` when imported; the flows add :data:`PREFECT`
before importing Prefect; the Makefile runs everything through programs that
import the library, so nothing else sets these. Several libraries read them only
once, at import or first use (onnxruntime creates its telemetry store when its
first session starts; huggingface_hub reads HF_HUB_OFFLINE at import).
"""

from __future__ import annotations

import os
from pathlib import Path

# Forced, not defaults: a privacy tool must not let a stray shell variable turn
# telemetry or hub downloads back on.
FORCED = {
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    # onnxruntime >= 1.29 queues usage events (and resolves a Microsoft host)
    # when faster-whisper's Silero VAD session starts.
    "ORT_DISABLE_TELEMETRY": "1",
    "PYANNOTE_METRICS_ENABLED": "0",
    # tldextract (pulled in by Presidio) would fetch the public suffix list.
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "TOKENIZERS_PARALLELISM": "false",
}

#: Prefect's part, set before ``import prefect`` (it reads them when it loads its settings).
PREFECT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    # Task results stay in memory: tasks return paths and counts, never text,
    # and nothing a task returns is written to Prefect's storage.
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    # Library logs (ids and counts only) go to Prefect's run logs too.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "pipeline",
    # Library logs outside a flow run (CLI helpers, tests) stay local.
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    # The temporary local server creates and migrates its database at first start:
    # on a slow, busy 2-core machine that takes longer than Prefect's 20 s default.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600",
}


def apply() -> None:
    """Set the offline variables in this process (children inherit them)."""
    os.environ.update(FORCED)


def apply_prefect(prefect_home: str | Path) -> None:
    """The offline variables plus Prefect's, with its home in the project's var/."""
    os.environ.update(FORCED)
    os.environ.update(PREFECT)
    os.environ["PREFECT_HOME"] = str(prefect_home)


def offline_tldextract() -> None:
    """Make tldextract (used by Presidio's email recognizer) use its bundled suffix list.

    tldextract 5 ignores TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS and fetches the list
    from the internet on first use; its module-level extractor is replaced by one
    with no URLs to fetch and no cache to write.
    """
    import tldextract.tldextract as tx

    if tx.TLD_EXTRACTOR.suffix_list_urls:
        tx.TLD_EXTRACTOR = tx.TLDExtract(suffix_list_urls=(), cache_dir=None)
