"""Environment that keeps every dependency offline and quiet.

Set before any model library is imported: several read these variables only once,
at import or first use (onnxruntime creates its telemetry store when its first
session starts; huggingface_hub reads HF_HUB_OFFLINE at import).
"""

import os

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


def apply() -> None:
    """Set the offline variables in this process (children inherit them)."""
    os.environ.update(FORCED)


def offline_tldextract() -> None:
    """Make tldextract (used by Presidio's email recognizer) use its bundled suffix list.

    tldextract 5 ignores TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS and fetches the list
    from the internet on first use; its module-level extractor is replaced by one
    with no URLs to fetch and no cache to write.
    """
    import tldextract.tldextract as tx

    if tx.TLD_EXTRACTOR.suffix_list_urls:
        tx.TLD_EXTRACTOR = tx.TLDExtract(suffix_list_urls=(), cache_dir=None)
