"""Convert a faster-whisper (CTranslate2) model into an openai-whisper checkpoint.

No openai-whisper checkpoint can be downloaded here, so the second engine runs on
a checkpoint rebuilt from a shipped model: CTranslate2's ``model.bin`` is read
directly (its format is a flat list of named arrays) and its fused attention
weights are split back into openai-whisper's query/key/value layout. The result
is a standard ``{"dims", "model_state_dict"}`` file that ``whisper.load_model``
accepts as is.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from pipeline.errors import PipelineError
from pipeline.workdir import atomic_path

# Order of CTranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    return struct.unpack(fmt, f.read(size))[0]


def _read_string(f: BinaryIO) -> str:
    n = _read(f, "H")
    return f.read(n)[:-1].decode("utf-8")


def _to_array(raw: bytes, dtype: str, shape: list[int]) -> np.ndarray:
    if dtype == "bfloat16":
        u16 = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
        return u16.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def read_ct2(path: str | Path) -> tuple[str, dict[str, np.ndarray]]:
    """Spec name and variables of a CTranslate2 ``model.bin`` (aliases resolved)."""
    variables: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version < 5:
            raise PipelineError(f"{path}: CTranslate2 model format {version} is too old.")
        spec = _read_string(f)
        _read(f, "I")  # spec revision
        for _ in range(_read(f, "I")):
            name = _read_string(f)
            shape = [_read(f, "I") for _ in range(_read(f, "B"))]
            dtype = _DTYPES[_read(f, "B")]
            variables[name] = _to_array(f.read(_read(f, "I")), dtype, shape)
        for _ in range(_read(f, "I")):
            alias, target = _read_string(f), _read_string(f)
            variables[alias] = variables[target]
    return spec, variables


def _float(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A weight as float32, dequantizing int8/int16 weights with their scales."""
    w = variables[name]
    scale = variables.get(name.replace("/weight", "/weight_scale"))
    if w.dtype in (np.int8, np.int16) and scale is not None:
        s = np.asarray(scale, dtype=np.float32)
        return w.astype(np.float32) / (s[:, None] if s.ndim else s)
    return w.astype(np.float32)


def _layers(variables: dict[str, np.ndarray], prefix: str) -> int:
    found = {int(m.group(1)) for k in variables if (m := re.match(rf"{prefix}/layer_(\d+)/", k))}
    return max(found) + 1 if found else 0


def convert_ct2_to_openai(model_dir: str | Path) -> dict[str, Any]:
    """Return an openai-whisper checkpoint dict built from a CTranslate2 model folder."""
    import torch

    model_dir = Path(model_dir)
    spec, v = read_ct2(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise PipelineError(f"{model_dir}: not a Whisper model (CTranslate2 spec {spec}).")

    sd: dict[str, np.ndarray] = {}

    def ln(dst: str, src: str) -> None:
        sd[f"{dst}.weight"] = _float(v, f"{src}/gamma")
        sd[f"{dst}.bias"] = _float(v, f"{src}/beta")

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = _float(v, f"{src}/weight")
        if bias:
            sd[f"{dst}.bias"] = _float(v, f"{src}/bias")

    def split(dst: str, src: str, names: tuple[str, ...]) -> None:
        w, b = _float(v, f"{src}/weight"), _float(v, f"{src}/bias")
        for name, ws, bs in zip(
            names, np.split(w, len(names)), np.split(b, len(names)), strict=True
        ):
            sd[f"{dst}.{name}.weight"] = ws
            if name != "key":  # openai-whisper's key projection has no bias
                sd[f"{dst}.{name}.bias"] = bs

    def mlp(dst: str, src: str) -> None:
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        ln(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    for conv in ("conv1", "conv2"):
        linear(f"encoder.{conv}", f"encoder/{conv}")
    sd["encoder.positional_embedding"] = _float(v, "encoder/position_encodings/encodings")
    n_audio_layer = _layers(v, "encoder")
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        split(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        ln(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        mlp(dst, src)
    ln("encoder.ln_post", "encoder/layer_norm")

    sd["decoder.token_embedding.weight"] = _float(v, "decoder/embeddings/weight")
    sd["decoder.positional_embedding"] = _float(v, "decoder/position_encodings/encodings")
    n_text_layer = _layers(v, "decoder")
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        split(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        ln(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
        split(f"{dst}.cross_attn", f"{src}/attention/linear_1", ("key", "value"))
        linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        ln(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        mlp(dst, src)
    ln("decoder.ln", "decoder/layer_norm")

    conv1 = sd["encoder.conv1.weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(sd["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(sd["decoder.token_embedding.weight"].shape[0]),
        "n_text_ctx": int(sd["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(sd["decoder.token_embedding.weight"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    return {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in sd.items()},
        # Not part of openai's format (it keys heads by model name); our engine reads it.
        "alignment_heads": config.get("alignment_heads"),
    }


def write_openai_checkpoint(model_dir: str | Path, out: str | Path) -> Path:
    """Convert ``model_dir`` and save the checkpoint to ``out`` atomically."""
    import torch

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = convert_ct2_to_openai(model_dir)
    with atomic_path(out, mode=0o644) as tmp:
        torch.save(checkpoint, tmp)
    return out
