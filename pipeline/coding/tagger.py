"""Code suggestions for de-identified turns: codebook prior, then what the team taught it.

Per (turn, code) the tagger computes a few codebook-text signals:

- ``sim``: cosine similarity (all-MiniLM-L6-v2) between the turn, or its best sentence,
  and the code's prototypes (label + definition, use_when, example);
- ``rel``: that similarity relative to the other codes (margin over the turn's best other
  code) and to the code's own background level (its similarity to the other codes'
  prototypes), so codes with wordy definitions do not win everywhere;
- ``lex``/``against``: spaCy lemma matches of the code's cues and of its not_when phrases;
- ``neg``: similarity to the not_when text, above the similarity to the code.

**Codebook only** (no coded turns): a logistic model over those signals, its few weights
shared by every code (so it knows nothing about any one code's labels), gives a
probability; one threshold for all codes.

**Learned** (the team's codings): per code a logistic regression over TF-IDF of lemma uni-
and bigrams of the team's turns, the turn embedding, the signals above and the codebook-only logit (the prior), trained with the codebook's
own example and use_when texts as extra positives; its scores are Platt-calibrated on
inner cross-validation folds and thresholded per code (best Cohen's kappa on those
folds). Codes the team used fewer than ``MIN_POSITIVES`` times keep the codebook-only
model, so rare codes still get suggestions.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.coding.codebook import Codebook
from pipeline.coding.embed import Embedder, get_embedder
from pipeline.coding.lexicon import Doc, Lexicon, matches, parse
from pipeline.errors import PipelineError

MIN_POSITIVES = 4
LEARNED_FORMAT = 1


@dataclass
class TurnText:
    """One de-identified turn to tag (or, with ``codes``, one the team coded)."""

    session_id: str
    segment_id: int | str
    text: str
    speaker: str | None = None
    role: str | None = None
    codes: list[str] = field(default_factory=list)


@dataclass
class Evidence:
    start: int
    end: int
    quote: str


@dataclass
class Suggestion:
    session_id: str
    segment_id: int | str
    code: str
    score: float
    evidence: Evidence
    method: str
    model: str
    codebook_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- features


@dataclass
class Features:
    """Codebook signals for n turns and C codes."""

    codes: list[str]
    emb: np.ndarray  # (n, 384) whole-turn embeddings
    sim: np.ndarray  # (n, C) best of whole turn / sentences vs prototypes
    sim_turn: np.ndarray  # (n, C) whole turn vs prototypes (max)
    margin: np.ndarray  # (n, C) sim minus the best other code's sim
    centered: np.ndarray  # (n, C) sim minus the code's background similarity
    lex: np.ndarray  # (n, C) cue matches
    against: np.ndarray  # (n, C) not_when matches
    neg: np.ndarray  # (n, C) not_when similarity minus code similarity
    prev: np.ndarray  # (n, C) the previous turn's margin (same session)
    question: np.ndarray  # (n, C) the last facilitator turn's centered similarity
    nxt: np.ndarray  # (n, C) the next turn's margin (same session)
    length: np.ndarray  # (n,) log word count
    facilitator: np.ndarray  # (n,) 1 for a facilitator's turn
    best_sentence: np.ndarray  # (n, C) index into docs[i].sentences
    cue_spans: list[list[list[tuple[int, int, str]]]]  # [turn][code] -> matches
    docs: list[Doc]

    def subset(self, idx: Sequence[int] | np.ndarray) -> Features:
        """The same signals for some of the turns (cross-validation folds)."""
        ix = np.asarray(idx, dtype=np.int64)
        arrays: dict[str, Any] = {k: getattr(self, k)[ix] for k in _ARRAYS}
        return dataclasses.replace(
            self,
            cue_spans=[self.cue_spans[i] for i in ix],
            docs=[self.docs[i] for i in ix],
            **arrays,
        )

    def pooled(self) -> np.ndarray:
        """(n, C, k) per-pair signals: the codebook-only model's inputs."""
        n, c = self.sim.shape
        rank1 = (self.margin >= 0).astype(np.float32)
        return np.stack(
            [
                self.sim,
                self.sim_turn,
                self.margin,
                self.centered,
                np.log1p(self.lex),
                (self.lex > 0).astype(np.float32),
                (self.against > 0).astype(np.float32),
                np.maximum(self.neg, 0),
                rank1,
                self.prev,
                self.question,
                self.nxt,
                np.broadcast_to(self.length[:, None], (n, c)),
                np.broadcast_to(self.facilitator[:, None], (n, c)),
            ],
            axis=-1,
        ).astype(np.float32)


_ARRAYS = (
    "emb",
    "sim",
    "sim_turn",
    "margin",
    "centered",
    "lex",
    "against",
    "neg",
    "prev",
    "question",
    "nxt",
    "length",
    "facilitator",
    "best_sentence",
)

POOLED_NAMES = (
    "sim",
    "sim_turn",
    "margin",
    "centered",
    "log_cues",
    "any_cue",
    "not_when_cue",
    "not_when_sim",
    "top_code",
    "previous_turn",
    "facilitator_question",
    "next_turn",
    "log_words",
    "facilitator",
)


def prototypes(codebook: Codebook) -> tuple[list[str], list[int], list[str], list[int]]:
    """Texts that stand for each code (and for its not_when), with their code index."""
    pos, pos_idx, neg, neg_idx = [], [], [], []
    for i, c in enumerate(codebook.codes):
        for t in (f"{c.label}: {c.definition}", c.use_when, c.example):
            if t.strip():
                pos.append(t)
                pos_idx.append(i)
        if c.not_when.strip():
            neg.append(c.not_when)
            neg_idx.append(i)
    return pos, pos_idx, neg, neg_idx


@dataclass
class CodebookSpace:
    """The codebook's prototypes embedded once."""

    codebook: Codebook
    lexicon: Lexicon
    embedder: Embedder
    proto: np.ndarray
    proto_idx: np.ndarray
    negp: np.ndarray
    neg_idx: np.ndarray
    background: np.ndarray  # (C,)

    @classmethod
    def build(cls, codebook: Codebook, lexicon: Lexicon, embedder: Embedder) -> CodebookSpace:
        pos, pos_idx, neg, neg_idx = prototypes(codebook)
        proto = embedder.encode(pos)
        negp = embedder.encode(neg) if neg else np.zeros((0, proto.shape[1]), np.float32)
        pidx = np.array(pos_idx)
        n_codes = len(codebook.codes)
        # Background: how similar each code's prototypes are to the other codes' prototypes.
        sims = proto @ proto.T
        bg = np.zeros(n_codes, np.float32)
        for c in range(n_codes):
            other = sims[pidx == c][:, pidx != c]
            bg[c] = float(other.max(axis=0).mean()) if other.size else 0.0
        return cls(codebook, lexicon, embedder, proto, pidx, negp, np.array(neg_idx), bg)

    def _max_by_code(self, sims: np.ndarray, idx: np.ndarray, n_codes: int) -> np.ndarray:
        out = np.full((sims.shape[0], n_codes), -1.0, np.float32)
        for c in range(n_codes):
            cols = idx == c
            if cols.any():
                out[:, c] = sims[:, cols].max(axis=1)
        return out

    def features(self, turns: Sequence[TurnText]) -> Features:
        codes = [c.id for c in self.codebook.codes]
        n_codes = len(codes)
        texts = [t.text for t in turns]
        docs = parse(texts)
        units: list[str] = []
        owner: list[int] = []
        for i, d in enumerate(docs):
            if len(d.sentences) > 1:
                for s, e in d.sentences:
                    units.append(d.text[s:e])
                    owner.append(i)
        emb_all = self.embedder.encode(texts + units)
        emb = emb_all[: len(texts)]
        unit_emb = emb_all[len(texts) :]
        sim_turn = self._max_by_code(emb @ self.proto.T, self.proto_idx, n_codes)
        sim = sim_turn.copy()
        best = np.zeros((len(texts), n_codes), np.int64)
        if units:
            unit_sim = self._max_by_code(unit_emb @ self.proto.T, self.proto_idx, n_codes)
            own = np.array(owner)
            for i in set(owner):
                rows = np.flatnonzero(own == i)
                block = unit_sim[rows]
                best[i] = block.argmax(axis=0)
                # A sentence counts a little less than the whole turn (it is shorter, so noisier).
                sim[i] = np.maximum(sim_turn[i], block.max(axis=0) - 0.02)
        neg = np.full((len(texts), n_codes), -1.0, np.float32)
        if len(self.negp):
            neg = self._max_by_code(emb @ self.negp.T, self.neg_idx, n_codes)
        neg = np.where(neg > -1, neg - sim_turn, 0.0)
        other_best = np.zeros_like(sim)
        for c in range(n_codes):
            other_best[:, c] = np.delete(sim, c, axis=1).max(axis=1)
        margin = sim - other_best
        centered = sim - self.background[None, :]
        # Context: what the previous turn and the facilitator's last question were about.
        prev = np.zeros_like(sim)
        nxt = np.zeros_like(sim)
        question = np.zeros_like(sim)
        last_q: int | None = None
        for i, t in enumerate(turns):
            if i and turns[i - 1].session_id == t.session_id:
                prev[i] = np.maximum(margin[i - 1], -0.2)
                nxt[i - 1] = np.maximum(margin[i], -0.2)
            if last_q is not None and turns[last_q].session_id == t.session_id:
                question[i] = centered[last_q]
            if t.role == "facilitator":
                last_q = i
        lex = np.zeros((len(texts), n_codes), np.float32)
        against = np.zeros_like(lex)
        spans: list[list[list[tuple[int, int, str]]]] = []
        for i, d in enumerate(docs):
            row = []
            for c, code in enumerate(codes):
                m = matches(d, self.lexicon.cues.get(code, []))
                a = matches(d, self.lexicon.against.get(code, []))
                lex[i, c] = len(m)
                against[i, c] = len(a)
                row.append(m)
            spans.append(row)
        length = np.array([math.log1p(len(d.tokens)) for d in docs], np.float32)
        fac = np.array([1.0 if t.role == "facilitator" else 0.0 for t in turns], np.float32)
        return Features(
            codes,
            emb,
            sim,
            sim_turn,
            margin,
            centered,
            lex,
            against,
            neg.astype(np.float32),
            prev,
            question,
            nxt,
            length,
            fac,
            best,
            spans,
            docs,
        )


# --------------------------------------------------------------------------- models


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _gold(turns: Sequence[TurnText], codes: list[str]) -> np.ndarray:
    y = np.zeros((len(turns), len(codes)), np.int64)
    index = {c: i for i, c in enumerate(codes)}
    for r, t in enumerate(turns):
        for c in t.codes:
            if c in index:
                y[r, index[c]] = 1
    return y


def kappa(y: np.ndarray, p: np.ndarray) -> float:
    """Cohen's kappa of two binary vectors (1.0 when both are constant and equal)."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p).astype(bool)
    n = len(y)
    if n == 0:
        return float("nan")
    po = float((y == p).mean())
    pe = float(y.mean() * p.mean() + (1 - y.mean()) * (1 - p.mean()))
    if pe >= 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


@dataclass
class Linear:
    """A standardized logistic model stored as plain numbers (no pickles)."""

    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def decision(self, x: np.ndarray) -> np.ndarray:
        z = (x - np.array(self.mean)) / np.array(self.scale)
        return np.asarray(z @ np.array(self.coef) + self.intercept)

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        c: float = 1.0,
        weight: np.ndarray | None = None,
        balanced: bool = False,
    ) -> Linear:
        from sklearn.linear_model import LogisticRegression

        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-6] = 1.0
        model = LogisticRegression(
            C=c, max_iter=2000, class_weight="balanced" if balanced else None
        )
        model.fit((x - mean) / scale, y, sample_weight=weight)
        return cls(
            mean.tolist(), scale.tolist(), model.coef_[0].tolist(), float(model.intercept_[0])
        )


@dataclass
class CodebookModel:
    """Codebook-only: one logistic model over the pooled per-pair signals, shared by codes."""

    linear: Linear
    threshold: float = 0.5

    def proba(self, f: Features) -> np.ndarray:
        x = f.pooled()
        n, c, k = x.shape
        return _sigmoid(self.linear.decision(x.reshape(n * c, k))).reshape(n, c)

    @classmethod
    def fit(cls, f: Features, y: np.ndarray, c: float = 0.3) -> CodebookModel:
        x = f.pooled()
        n, nc, k = x.shape
        lin = Linear.fit(x.reshape(n * nc, k), y.reshape(-1), c=c)
        model = cls(lin)
        # One threshold for every code: the best mean kappa on these turns.
        p = model.proba(f)
        grid = np.arange(0.15, 0.75, 0.025)
        scores = [np.mean([kappa(y[:, j], p[:, j] >= t) for j in range(nc)]) for t in grid]
        model.threshold = float(grid[int(np.argmax(scores))])
        return model


#: Weights of the codebook-only model, fitted once on the development set
#: (eval/tags/dev.jsonl, every code pooled: the weights are per signal, not per code)
#: by ``tools/eval_tags.py --write-prior``. Any codebook can use them.
DEFAULT_PRIOR_FILE = Path(__file__).with_name("prior.json")


def default_prior() -> CodebookModel:
    try:
        data = json.loads(DEFAULT_PRIOR_FILE.read_text(encoding="utf-8"))
        return CodebookModel(Linear(**data["linear"]), float(data["threshold"]))
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        # Hand-set weights: similarity margin and cues carry it.
        names = POOLED_NAMES
        coef = {"margin": 1.2, "centered": 0.8, "log_cues": 0.6, "not_when_cue": -0.5}
        return CodebookModel(
            Linear(
                [0.0] * len(names),
                [1.0, 1.0, 0.03, 0.05, 0.5, 1, 1, 0.05, 1, 1, 1, 1, 1, 1],
                [coef.get(n, 0.0) for n in names],
                -2.5,
            ),
            0.5,
        )


@dataclass
class CodeModel:
    """Learned model of one code."""

    linear: Linear
    platt: tuple[float, float]
    threshold: float
    positives: int

    def proba(self, x: np.ndarray) -> np.ndarray:
        a, b = self.platt
        return _sigmoid(a * self.linear.decision(x) + b)


def lemma_texts(f: Features) -> list[str]:
    return [" ".join(t[3] for t in d.tokens) for d in f.docs]


@dataclass
class Vocabulary:
    """TF-IDF over lemma uni- and bigrams of the team's coded turns (stored as plain lists)."""

    terms: list[str]
    idf: list[float]

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, vocabulary=self.terms)
        vec.idf_ = np.array(self.idf)
        return vec

    def transform(self, texts: list[str]) -> np.ndarray:
        if not self.terms:
            return np.zeros((len(texts), 0), np.float32)
        return np.asarray(self._vectorizer().transform(texts).toarray(), np.float32)

    @classmethod
    def fit(cls, texts: list[str]) -> Vocabulary:
        from sklearn.feature_extraction.text import TfidfVectorizer

        try:
            vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(texts)
        except ValueError:  # too few turns for any term to occur twice
            return cls([], [])
        terms = vec.get_feature_names_out().tolist()
        return cls(terms, vec.idf_.tolist())


def learned_inputs(f: Features, prior_logit: np.ndarray, j: int, tfidf: np.ndarray) -> np.ndarray:
    """Inputs of code j's learned model: lemma TF-IDF, the turn embedding, its codebook
    signals and the codebook-only logit (the prior)."""
    pooled = f.pooled()[:, j, :]
    return np.hstack([tfidf, f.emb, pooled, prior_logit[:, j : j + 1]]).astype(np.float32)


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return (1.0, 0.0)
    m = LogisticRegression(C=100.0, max_iter=1000).fit(scores[:, None], y)
    return float(m.coef_[0, 0]), float(m.intercept_[0])


def _best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    grid = np.arange(0.1, 0.85, 0.025)
    ks = [kappa(y, p >= t) for t in grid]
    best = max(ks)
    # Middle of the plateau of best thresholds (less brittle than its first point).
    good = grid[np.array(ks) >= best - 1e-9]
    return float(np.median(good))


def fit_code(
    x: np.ndarray,
    y: np.ndarray,
    x_prior: np.ndarray,
    c: float,
    folds: int = 4,
    seed: int = 0,
) -> CodeModel:
    """Logistic regression with the codebook texts as extra positives; Platt + threshold
    from inner folds (the scores calibrated are never the ones fitted)."""
    from sklearn.model_selection import StratifiedKFold

    xa = np.vstack([x, x_prior])
    ya = np.concatenate([y, np.ones(len(x_prior), np.int64)])
    wa = np.concatenate([np.ones(len(y)), np.full(len(x_prior), 0.5)])
    k = max(2, min(folds, int(y.sum()), int((1 - y).sum())))
    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(x, y):
        tr_all = np.concatenate([tr, np.arange(len(y), len(ya))])
        lin = Linear.fit(xa[tr_all], ya[tr_all], c=c, weight=wa[tr_all], balanced=True)
        oof[te] = lin.decision(x[te])
    platt = _platt(oof, y)
    p = _sigmoid(platt[0] * oof + platt[1])
    threshold = _best_threshold(p, y)
    lin = Linear.fit(xa, ya, c=c, weight=wa, balanced=True)
    return CodeModel(lin, platt, threshold, int(y.sum()))


@dataclass
class LearnedModel:
    codebook_version: str
    embedder: str
    prior: CodebookModel
    codes: dict[str, CodeModel]
    provenance: dict[str, Any]
    vocabulary: Vocabulary = field(default_factory=lambda: Vocabulary([], []))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": LEARNED_FORMAT,
            "codebook_version": self.codebook_version,
            "embedder": self.embedder,
            "prior": asdict(self.prior),
            "codes": {k: asdict(v) for k, v in self.codes.items()},
            "vocabulary": asdict(self.vocabulary),
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LearnedModel:
        prior = CodebookModel(Linear(**d["prior"]["linear"]), d["prior"]["threshold"])
        codes = {
            k: CodeModel(
                Linear(**v["linear"]),
                (float(v["platt"][0]), float(v["platt"][1])),
                float(v["threshold"]),
                int(v["positives"]),
            )
            for k, v in d["codes"].items()
        }
        vocab = Vocabulary(**d["vocabulary"])
        return cls(d["codebook_version"], d["embedder"], prior, codes, d["provenance"], vocab)

    def save(self, path: Path) -> Path:
        from pipeline.workdir import make_dir, write_json

        make_dir(path.parent)
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> LearnedModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != LEARNED_FORMAT:
                raise KeyError("format")
            return cls.from_dict(data)
        except FileNotFoundError:
            raise PipelineError(f"{path}: learned coding model not found.") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise PipelineError(
                f"{path}: not a learned coding model of this version.",
                hint="Train it again from the team's codings (CODED=...).",
            ) from None


# --------------------------------------------------------------------------- tagger


METHOD_CODEBOOK = "codebook (MiniLM prototype similarity + spaCy lemma cues + not_when rules)"
METHOD_LEARNED = (
    "learned (logistic regression on team codings: lemma TF-IDF + MiniLM + codebook prior, "
    "Platt-calibrated)"
)


@dataclass
class Tagger:
    space: CodebookSpace
    prior: CodebookModel
    learned: LearnedModel | None = None

    @property
    def model_name(self) -> str:
        return self.space.embedder.name

    def proba(self, f: Features) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Probabilities (n, C), thresholds (C,) and the method per code."""
        p0 = self.prior.proba(f)
        thr = np.full(len(f.codes), self.prior.threshold)
        methods = [METHOD_CODEBOOK] * len(f.codes)
        if self.learned is None:
            return p0, thr, methods
        p = p0.copy()
        logit0 = _logit(p0)
        tfidf = self.learned.vocabulary.transform(lemma_texts(f))
        for j, code in enumerate(f.codes):
            m = self.learned.codes.get(code)
            if m is None:
                continue
            p[:, j] = m.proba(learned_inputs(f, logit0, j, tfidf))
            thr[j] = m.threshold
            methods[j] = METHOD_LEARNED
        return p, thr, methods

    def suggest(self, turns: Sequence[TurnText]) -> list[Suggestion]:
        if not turns:
            return []
        f = self.space.features(turns)
        p, thr, methods = self.proba(f)
        out = []
        for i, t in enumerate(turns):
            for j, code in enumerate(f.codes):
                if p[i, j] >= thr[j]:
                    out.append(
                        Suggestion(
                            t.session_id,
                            t.segment_id,
                            code,
                            round(float(p[i, j]), 4),
                            evidence(f, i, j),
                            methods[j],
                            self.model_name,
                            self.space.codebook.version,
                        )
                    )
        return out


def evidence(f: Features, i: int, j: int) -> Evidence:
    """The exact quote that carries code j in turn i: the sentence with the best cue match,
    else the sentence most similar to the code (offsets in code points)."""
    doc = f.docs[i]
    cues = f.cue_spans[i][j]
    sents = doc.sentences
    if cues:
        s0, e0, _ = cues[0]
        start, end = next(((s, e) for s, e in sents if s <= s0 < e), (s0, e0))
    else:
        start, end = sents[min(int(f.best_sentence[i, j]), len(sents) - 1)]
    text = doc.text
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Evidence(start, end, text[start:end])


def train(
    space: CodebookSpace,
    turns: Sequence[TurnText],
    prior: CodebookModel,
    *,
    c: float = 0.05,
    source: str = "",
    features: Features | None = None,
) -> LearnedModel:
    """Learn per-code models from coded turns (codes with too few uses keep the prior)."""
    t0 = time.monotonic()
    f = features or space.features(turns)
    codes = f.codes
    y = _gold(turns, codes)
    logit0 = _logit(prior.proba(f))
    # The codebook's own texts, as labelled examples of their code.
    cb = space.codebook.codes
    proto_turns = [
        TurnText("codebook", k, text, codes=[code.id])
        for k, (code, text) in enumerate(
            (code, t) for code in cb for t in (code.example, code.use_when) if t.strip()
        )
    ]
    fp = space.features(proto_turns)
    yp = _gold(proto_turns, codes)
    logitp = _logit(prior.proba(fp))
    vocab = Vocabulary.fit(lemma_texts(f))
    tf, tfp = vocab.transform(lemma_texts(f)), vocab.transform(lemma_texts(fp))
    models: dict[str, CodeModel] = {}
    for j, code in enumerate(codes):
        if y[:, j].sum() < MIN_POSITIVES or (1 - y[:, j]).sum() < MIN_POSITIVES:
            continue
        x = learned_inputs(f, logit0, j, tf)
        xp = learned_inputs(fp, logitp, j, tfp)[yp[:, j] == 1]
        models[code] = fit_code(x, y[:, j], xp, c)
    prov = {
        "trained_on": source,
        "turns": len(turns),
        "sessions": len({t.session_id for t in turns}),
        "positives": {code: int(y[:, j].sum()) for j, code in enumerate(codes)},
        "codes_learned": sorted(models),
        "codes_on_prior": sorted(set(codes) - set(models)),
        "seconds": round(time.monotonic() - t0, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "regularization_C": c,
        "min_positives": MIN_POSITIVES,
        "vocabulary_terms": len(vocab.terms),
    }
    return LearnedModel(space.codebook.version, space.embedder.name, prior, models, prov, vocab)


def build_tagger(
    codebook: Codebook,
    lexicon: Lexicon,
    *,
    embedder: str = "minilm-onnx-int8",
    learned: LearnedModel | None = None,
) -> Tagger:
    space = CodebookSpace.build(codebook, lexicon, get_embedder(embedder))
    if learned is not None and learned.codebook_version != codebook.version:
        raise PipelineError(
            f"the learned coding model was trained on codebook {learned.codebook_version}, "
            f"not {codebook.version}.",
            hint="Train it again (CODED=...) after changing the codebook.",
        )
    return Tagger(space, learned.prior if learned else default_prior(), learned)
