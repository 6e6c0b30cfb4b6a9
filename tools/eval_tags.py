"""Agreement of the pre-tagger with human coders: ``eval/report-tags.json``.

    python -m tools.eval_tags [--dev eval/tags/dev.jsonl] [--test eval/tags/test.jsonl]
                              [--embedder minilm-onnx-int8|minilm-torch|both] [--write-prior]

Per code: precision, recall, F1 and Cohen's kappa (turn level, code present or not), and
their means over codes, for

- **codebook only**: the codebook text and the shared-weight prior (its ~11 weights, one
  per signal and the same for every code, are fitted on the training folds; nothing is
  learned about any one code);
- **learned**: per-code models trained on coded turns (codebook prior kept).

On dev, folds are whole sessions (GroupKFold): 4 folds (6 sessions train, 2 scored) and 2
folds ("half": learn from half the sessions, score the other half). On test (report only,
never tuned on): codebook-only and learned-on-dev, and learned from half of the test
sessions scored on the other half (both ways), with the prior from dev. Speed: turns/s
of tagging (features + models) and model load time, per embedding backend.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.coding.codebook import load_codebook  # noqa: E402
from pipeline.coding.lexicon import load_lexicon  # noqa: E402
from pipeline.coding.tagger import (  # noqa: E402
    DEFAULT_PRIOR_FILE,
    CodebookModel,
    CodebookSpace,
    Features,
    Tagger,
    TurnText,
    _gold,
    kappa,
    train,
)

CODEBOOK = ROOT / "configs" / "codebooks" / "social-interaction-policy.yaml"


def load_turns(path: Path) -> list[TurnText]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [
        TurnText(
            r["session_id"], r["segment_id"], r["text"], r.get("speaker"), r.get("role"), r["codes"]
        )
        for r in rows
    ]


def scores(y: np.ndarray, pred: np.ndarray, codes: list[str]) -> dict[str, Any]:
    per = {}
    for j, c in enumerate(codes):
        tp = int((y[:, j] & pred[:, j]).sum())
        fp = int((~y[:, j].astype(bool) & pred[:, j].astype(bool)).sum())
        fn = int((y[:, j].astype(bool) & ~pred[:, j].astype(bool)).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per[c] = {
            "support": int(y[:, j].sum()),
            "predicted": int(pred[:, j].sum()),
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(f1, 3),
            "kappa": round(kappa(y[:, j], pred[:, j]), 3),
        }
    mean = {
        k: round(float(np.mean([v[k] for v in per.values()])), 3)
        for k in ("precision", "recall", "f1", "kappa")
    }
    none_gold = y.sum(1) == 0
    none_pred = pred.sum(1) == 0
    return {
        "mean": mean,
        "no_code_turns": {
            "gold": int(none_gold.sum()),
            "predicted": int(none_pred.sum()),
            "agree": int((none_gold & none_pred).sum()),
        },
        "per_code": per,
    }


def session_folds(turns: list[TurnText], k: int) -> list[np.ndarray]:
    sessions = sorted({t.session_id for t in turns})
    groups = [sessions[i::k] for i in range(k)]
    sid = np.array([t.session_id for t in turns])
    return [np.flatnonzero(np.isin(sid, g)) for g in groups]


def predict(
    space: CodebookSpace, prior: CodebookModel, f: Features, learned: Any = None
) -> np.ndarray:
    p, thr, _ = Tagger(space, prior, learned).proba(f)
    return (p >= thr[None, :]).astype(np.int64)


def cross_validate(
    space: CodebookSpace, turns: list[TurnText], f: Features, k: int, learn: bool, c: float = 0.05
) -> np.ndarray:
    y = _gold(turns, f.codes)
    pred = np.zeros_like(y)
    for te in session_folds(turns, k):
        tr = np.setdiff1d(np.arange(len(turns)), te)
        prior = CodebookModel.fit(f.subset(tr), y[tr])
        learned = (
            train(space, [turns[i] for i in tr], prior, features=f.subset(tr), c=c)
            if learn
            else None
        )
        pred[te] = predict(space, prior, f.subset(te), learned)
    return pred


def timed_features(space: CodebookSpace, turns: list[TurnText]) -> tuple[Features, float]:
    t0 = time.monotonic()
    f = space.features(turns)
    return f, time.monotonic() - t0


def evaluate(
    embedder: str, dev: list[TurnText], test: list[TurnText] | None, c: float
) -> dict[str, Any]:
    from pipeline.coding.embed import get_embedder
    from pipeline.coding.lexicon import get_nlp

    cb = load_codebook(CODEBOOK)
    lex = load_lexicon(cb, CODEBOOK)
    t0 = time.monotonic()
    get_nlp()
    nlp_s = time.monotonic() - t0
    t0 = time.monotonic()
    emb = get_embedder(embedder)
    space = CodebookSpace.build(cb, lex, emb)
    load_s = time.monotonic() - t0
    f_dev, dev_s = timed_features(space, dev)
    codes = f_dev.codes
    y_dev = _gold(dev, codes)
    out: dict[str, Any] = {
        "embedder": emb.name,
        "codebook_version": cb.version,
        "lexicon": lex.source,
        "speed": {
            "model_load_s": round(load_s, 3),
            "embedder_load_s": round(emb.load_seconds, 3),
            "spacy_load_s": round(nlp_s, 3),
            "dev_turns": len(dev),
            "dev_features_s": round(dev_s, 3),
            "turns_per_s": round(len(dev) / dev_s, 1),
        },
        "dev": {},
    }
    out["dev"]["codebook_only_cv4"] = scores(
        y_dev, cross_validate(space, dev, f_dev, 4, False), codes
    )
    out["dev"]["learned_cv4"] = scores(y_dev, cross_validate(space, dev, f_dev, 4, True, c), codes)
    out["dev"]["learned_half"] = scores(y_dev, cross_validate(space, dev, f_dev, 2, True, c), codes)
    prior = CodebookModel.fit(f_dev, y_dev)
    out["prior"] = {"threshold": prior.threshold, "weights": prior.linear.coef}
    t0 = time.monotonic()
    learned = train(space, dev, prior, features=f_dev, c=c)
    out["speed"]["train_on_dev_s"] = round(time.monotonic() - t0, 2)
    if test:
        f_te, te_s = timed_features(space, test)
        y_te = _gold(test, codes)
        t0 = time.monotonic()
        pred_cb = predict(space, prior, f_te)
        out["speed"]["test_turns"] = len(test)
        out["speed"]["test_turns_per_s"] = round(len(test) / (te_s + time.monotonic() - t0), 1)
        out["test"] = {
            "codebook_only": scores(y_te, pred_cb, codes),
            "learned_on_dev": scores(y_te, predict(space, prior, f_te, learned), codes),
        }
        half = np.zeros_like(y_te)
        for te in session_folds(test, 2):
            tr = np.setdiff1d(np.arange(len(test)), te)
            m = train(space, [test[i] for i in tr], prior, features=f_te.subset(tr), c=c)
            half[te] = predict(space, prior, f_te.subset(te), m)
        out["test"]["learned_from_half_of_test"] = scores(y_te, half, codes)
    out["_prior_model"] = prior
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dev", default="eval/tags/dev.jsonl")
    ap.add_argument("--test", default="eval/tags/test.jsonl")
    ap.add_argument(
        "--embedder", default="both", choices=["minilm-onnx-int8", "minilm-torch", "both"]
    )
    ap.add_argument("--out", default="eval/report-tags.json")
    ap.add_argument("--c", type=float, default=0.05, help="regularization of the learned models")
    ap.add_argument(
        "--write-prior",
        action="store_true",
        help=f"store the dev-fitted prior in {DEFAULT_PRIOR_FILE.name}",
    )
    args = ap.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    dev = load_turns(Path(args.dev))
    test = load_turns(Path(args.test)) if Path(args.test).is_file() else None
    backends = ["minilm-onnx-int8", "minilm-torch"] if args.embedder == "both" else [args.embedder]
    report: dict[str, Any] = {
        "dev_file": args.dev,
        "test_file": args.test if test else None,
        "runs": {},
    }
    if Path(args.out).is_file():  # one backend at a time adds to the same report
        old = json.loads(Path(args.out).read_text(encoding="utf-8"))
        if old.get("dev_file") == args.dev and old.get("test_file") == report["test_file"]:
            report["runs"] = old.get("runs", {})
    for b in backends:
        r = evaluate(b, dev, test, args.c)
        prior = r.pop("_prior_model")
        report["runs"][b] = r
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
        if args.write_prior and b == backends[0]:
            from dataclasses import asdict

            DEFAULT_PRIOR_FILE.write_text(
                json.dumps(
                    {**asdict(prior), "fitted_on": Path(args.dev).name, "embedder": b}, indent=1
                )
                + "\n"
            )
        line = {k: v["mean"]["kappa"] for k, v in {**r["dev"], **r.get("test", {})}.items()}
        print(
            f"{b}: mean kappa {line}; {r['speed']['turns_per_s']} turns/s, load {r['speed']['model_load_s']} s"
        )
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
