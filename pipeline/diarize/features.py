"""Kaldi-style log mel filterbank features (what CAM++ was trained on), in NumPy.

25 ms Povey windows every 10 ms, pre-emphasis 0.97, DC removed, 512-point FFT,
80 mel bands from 20 Hz to Nyquist, log power; then per-utterance mean removal.
"""

from __future__ import annotations

import functools

import numpy as np

SR = 16000
FRAME = 400
SHIFT = 160
NFFT = 512


@functools.lru_cache(maxsize=4)
def mel_banks(n_mels: int = 80, low: float = 20.0, high: float = SR / 2) -> np.ndarray:
    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f) / 700.0)

    lo, hi = mel(low), mel(high)
    delta = (hi - lo) / (n_mels + 1)
    centers = lo + delta * np.arange(n_mels + 2)
    fft_mel = mel(np.arange(NFFT // 2) * SR / NFFT)
    banks = np.zeros((n_mels, NFFT // 2 + 1), dtype=np.float32)
    for m in range(n_mels):
        left, center, right = centers[m], centers[m + 1], centers[m + 2]
        up = (fft_mel - left) / (center - left)
        down = (right - fft_mel) / (right - center)
        banks[m, : NFFT // 2] = np.maximum(0.0, np.minimum(up, down))
    return banks


@functools.lru_cache(maxsize=1)
def _povey() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / (FRAME - 1))) ** 0.85


def num_frames(num_samples: int) -> int:
    return 0 if num_samples < FRAME else 1 + (num_samples - FRAME) // SHIFT


def fbank(wav: np.ndarray, n_mels: int = 80) -> np.ndarray:
    """(frames, n_mels) log mel energies of 16 kHz float audio, not yet normalized."""
    n = num_frames(len(wav))
    if n == 0:
        return np.zeros((0, n_mels), dtype=np.float32)
    x = wav.astype(np.float32) * 32768.0
    idx = np.arange(FRAME)[None, :] + SHIFT * np.arange(n)[:, None]
    frames = x[idx]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = np.concatenate(
        [frames[:, :1] - 0.97 * frames[:, :1], frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1
    )
    frames = frames * _povey()
    power = np.abs(np.fft.rfft(frames, n=NFFT)) ** 2
    energies = power @ mel_banks(n_mels).T
    return np.log(np.maximum(energies, np.finfo(np.float32).eps)).astype(np.float32)
