"""``make eval-deid``: recall, precision and F2 of de-identification on the labelled set.

The set (``eval/deid``, built by ``eval/deid/build.py``) holds spoken-style
transcripts with every PII mention labelled, each in a cased and a lowercase form,
plus distractors that must stay. A gold mention counts as found when a finding
overlaps it (it is replaced, whatever the type); typed recall also asks for the
right type. Throughput is measured on the same texts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "eval" / "deid" / "gold.jsonl"
#: gold type -> qscribe finding type
GOLD_TYPES = {
    "ROSTER_PERSON": "ROSTER_PERSON",
    "PERSON": "PERSON",
    "PLACE": "PLACE",
    "ORG": "ORG",
    "DATE": "DATE",
    "PHONE": "PHONE",
    "ID": "ID",
    "EMAIL": "EMAIL",
    "ADDRESS": "ADDRESS",
    "AGE_OVER_89": "AGE",
    "URL": "URL",
}
TARGETS = {"recall_roster": 0.99, "recall_all": 0.95, "precision": 0.80, "words_per_s": 5000}


def f_beta(p: float, r: float, beta: float = 2.0) -> float:
    return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


def roster_of(record):
    from pipeline.deid.roster import Roster

    r = record["roster"]
    people = [(p["id"], p["name"], p.get("aliases", [])) for p in r["people"]]
    return Roster.build(people, r.get("organizations", []), r.get("places", []))


def evaluate(records, engine) -> dict:
    found_all = {}
    t = time.monotonic()
    words = 0
    for rec in records:
        turns = [rec["text"][a["start"] : a["end"]] for a in rec["turns"]]
        words += sum(len(x.split()) for x in turns)
        findings = engine.analyze(turns, roster_of(rec))
        found_all[rec["id"]] = [
            (f.start + a["start"], f.end + a["start"], f.type)
            for a, fs in zip(rec["turns"], findings, strict=False)
            for f in fs
        ]
    seconds = time.monotonic() - t
    by_form: dict = {}
    misses: list = []
    for form in ("cased", "lowercase"):
        hit, total, typed = Counter(), Counter(), Counter()
        tp_pred = fp_pred = 0
        fp_by_type: Counter = Counter()
        for rec in (r for r in records if r["form"] == form):
            pred = found_all[rec["id"]]
            gold = rec["entities"]
            for g in gold:
                t_ = g["type"]
                total[t_] += 1
                overlapping = [p for p in pred if p[0] < g["end"] and g["start"] < p[1]]
                if overlapping:
                    hit[t_] += 1
                    typed[t_] += any(p[2] == GOLD_TYPES[t_] for p in overlapping)
                else:
                    misses.append(
                        (
                            rec["id"],
                            t_,
                            g["text"],
                            rec["text"][max(0, g["start"] - 30) : g["end"] + 30],
                        )
                    )
            for p in pred:
                if any(p[0] < g["end"] and g["start"] < p[1] for g in gold):
                    tp_pred += 1
                else:
                    fp_pred += 1
                    fp_by_type[p[2]] += 1
        n_all, h_all = sum(total.values()), sum(hit.values())
        precision = tp_pred / max(tp_pred + fp_pred, 1)
        per_type = {
            t_: {
                "mentions": total[t_],
                "recall": round(hit[t_] / total[t_], 4),
                "recall_typed": round(typed[t_] / total[t_], 4),
            }
            for t_ in sorted(total)
        }
        for d in per_type.values():
            d["f2"] = round(f_beta(precision, d["recall"]), 4)
        by_form[form] = {
            "recall_all": round(h_all / n_all, 4),
            "recall_roster": per_type.get("ROSTER_PERSON", {}).get("recall"),
            "precision": round(precision, 4),
            "f2_all": round(f_beta(precision, h_all / n_all), 4),
            "false_positives_by_type": dict(fp_by_type),
            "per_type": per_type,
        }
    n_gold = sum(len(r["entities"]) for r in records)
    found = sum(
        d["per_type"][t]["recall"] * d["per_type"][t]["mentions"]
        for d in by_form.values()
        for t in d["per_type"]
    )
    roster = [
        d["per_type"]["ROSTER_PERSON"] for d in by_form.values() if "ROSTER_PERSON" in d["per_type"]
    ]
    precision_all = sum(d["precision"] for d in by_form.values()) / len(by_form)
    overall = {
        "recall_roster": round(
            sum(r["recall"] * r["mentions"] for r in roster)
            / max(sum(r["mentions"] for r in roster), 1),
            4,
        ),
        "recall_all": round(found / max(n_gold, 1), 4),
        "precision": round(precision_all, 4),
        "f2_all": round(f_beta(precision_all, found / max(n_gold, 1)), 4),
    }
    return {
        "overall": overall,
        "forms": by_form,
        "words": words,
        "seconds": round(seconds, 2),
        "words_per_s": round(words / seconds, 1),
        "misses": misses,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="eval/report-deid.json")
    p.add_argument(
        "--show-misses", action="store_true", help="print missed mentions (eval data only)"
    )
    args = p.parse_args()
    subprocess.run(
        [sys.executable, str(ROOT / "eval" / "deid" / "build.py")], check=True, capture_output=True
    )
    records = [json.loads(line) for line in GOLD.read_text().splitlines()]
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    engine.analyze(["warm up the model"])
    report = evaluate(records, engine)
    misses = report.pop("misses")
    report["targets"] = TARGETS
    report["summary"] = {
        form: {
            k: report["forms"][form][k]
            for k in ("recall_roster", "recall_all", "precision", "f2_all")
        }
        for form in report["forms"]
    }
    report["summary"]["overall"] = report["overall"]
    report["summary"]["words_per_s"] = report["words_per_s"]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    if args.show_misses:
        for m in misses:
            print("MISS", m)
    print(json.dumps(report["summary"], indent=1))
    print(f"report: {out}")


if __name__ == "__main__":
    main()
