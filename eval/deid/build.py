"""Build the labelled de-identification evaluation set.

Reads the hand-written sessions in ``eval/deid/sessions/*.yaml`` (turn text with inline
``[[span|TYPE]]`` markup), strips the markup, and writes ``eval/deid/gold.jsonl`` with two
records per session:

* ``cased``: the text as Whisper writes it (cased, punctuated);
* ``lowercase``: the same text lowercased with punctuation removed, as an engine that
  gives no casing or punctuation would produce it (see ``lowercase_turn`` for the rules).

Every entity offset is checked (``text[start:end] == entity["text"]``) in both forms, the
markup and the rosters are linted, and the counts per type, per form, and the distractor
counts are printed.  The script exits non-zero when a check fails or a minimum is not met.

Usage::

    .venv/bin/python eval/deid/build.py              # build, check, print counts
    .venv/bin/python eval/deid/build.py --markdown   # also print the README tables

Only the standard library and PyYAML are used.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SESSIONS_DIR = HERE / "sessions"
GOLD_PATH = HERE / "gold.jsonl"

TYPES = (
    "ROSTER_PERSON",
    "PERSON",
    "PLACE",
    "ORG",
    "DATE",
    "PHONE",
    "ID",
    "EMAIL",
    "ADDRESS",
    "AGE_OVER_89",
    "URL",
)
KINDS = ("staff_interview", "member_focus_group")
ROLES = ("facilitator", "staff", "member")
FORMS = ("cased", "lowercase")

# In the lowercase form, these spans keep their inner punctuation ("555-0142",
# "maria.lopez@gmail.com", "(718) 555-0199", "123-45-6789").
PROTECTED_TYPES = {"PHONE", "EMAIL", "URL", "ID"}

MINIMUMS = {"mentions": 300, "roster": 120, "distractors": 80}

# Ordinary words that are also first names in the rosters.
NAME_WORDS = [
    "will",
    "grace",
    "frank",
    "may",
    "joy",
    "hope",
    "bill",
    "mark",
    "rose",
    "summer",
    "faith",
    "guy",
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]  # "may" is counted with NAME_WORDS
PROGRAM_PHRASES = ("the clubhouse", "the house", "staff", "members", "member")
GENERIC_PLACES = ("the diner", "the park", "downtown")
NUMBER_WORDS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
]

TITLES = {"mr", "mrs", "ms", "miss", "mister", "dr", "doctor", "missus"}

# Name-like types whose spans leave a leading article outside ("the [[Riverside Diner|PLACE]]").
ARTICLE_FREE = {"ROSTER_PERSON", "PERSON", "PLACE", "ORG"}
# Words before a month name that mark "May" as the month ("in May we started").
MONTH_CONTEXT = {"in", "of", "since", "last", "next", "this", "early", "late", "until", "by", "mid"}

MARKUP = re.compile(r"\[\[([^\[\]|]+)\|([A-Z_0-9]+)\]\]")


class BuildError(Exception):
    pass


# --------------------------------------------------------------------------- parsing


def parse_markup(raw: str, where: str) -> tuple[str, list[dict]]:
    """Strip ``[[text|TYPE]]`` markup; return plain text and entity spans in it."""
    out: list[str] = []
    entities: list[dict] = []
    pos = 0
    length = 0
    for m in MARKUP.finditer(raw):
        before = raw[pos : m.start()]
        out.append(before)
        length += len(before)
        span_text, etype = m.group(1), m.group(2)
        if etype not in TYPES:
            raise BuildError(f"{where}: unknown type {etype!r} in {m.group(0)!r}")
        if span_text != span_text.strip():
            raise BuildError(f"{where}: span has outer whitespace: {m.group(0)!r}")
        if not (span_text[0].isalnum() or span_text[0] == "("):
            raise BuildError(f"{where}: span starts with punctuation: {m.group(0)!r}")
        if not span_text[-1].isalnum():
            raise BuildError(f"{where}: span ends with punctuation: {m.group(0)!r}")
        if etype in ARTICLE_FREE and span_text.lower().startswith(("the ", "a ", "an ")):
            raise BuildError(f"{where}: keep the article outside the span: {m.group(0)!r}")
        entities.append(
            {"start": length, "end": length + len(span_text), "type": etype, "text": span_text}
        )
        out.append(span_text)
        length += len(span_text)
        pos = m.end()
    out.append(raw[pos:])
    text = "".join(out)
    for bad in ("[[", "]]", "|"):
        if bad in text:
            raise BuildError(f"{where}: malformed markup ({bad!r} left over): {raw!r}")
    for e in entities:
        assert text[e["start"] : e["end"]] == e["text"], (where, e)
    return text, entities


# --------------------------------------------------------------------- lowercase form


def written_token(text: str, i: int) -> bool:
    """Whether the whitespace-delimited token around text[i] is written out (digits, @ . /)."""
    a = i
    while a > 0 and not text[a - 1].isspace():
        a -= 1
    b = i
    while b < len(text) and not text[b].isspace():
        b += 1
    tok = text[a:b].rstrip(",;!?.")
    return any(ch.isdigit() or ch in "@/" for ch in tok) or "." in tok


def lowercase_turn(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Lowercase one turn and drop punctuation, mapping the entity offsets.

    Rules, applied per character:
    * letters and digits are lowercased and kept; any run of whitespace becomes one space;
    * an apostrophe between two letters is kept ("rosa's", "don't", "o'rourke"), other
      apostrophes are dropped;
    * inside PHONE, EMAIL, URL and ID spans, in a written token (one that holds a digit or
      one of @ . /), every character is kept except , ; ! ? and a period that is not
      followed by a letter or digit ("(718) 555-0199", "maria.lopez@gmail.com",
      "5-5-5-0142", "NG-0447"); spoken forms follow the rules below ("five five five, zero"
      loses its comma, "delgado eighty-two at gmail dot com" its hyphen);
    * elsewhere, punctuation between two digits is kept ("3:30", "03/14/1985"),
      punctuation between two other letters/digits becomes a space ("twenty-five" ->
      "twenty five", "Hye-jin" -> "hye jin"), and all other punctuation is dropped.
    """
    protected = [False] * len(text)
    for e in entities:
        if e["type"] in PROTECTED_TYPES:
            for i in range(e["start"], e["end"]):
                protected[i] = True

    chars: list[str] = []
    src: list[int] = []

    def emit(c: str, i: int) -> None:
        if c == " " and (not chars or chars[-1] == " "):
            return
        chars.append(c)
        src.append(i)

    n = len(text)
    for i, c in enumerate(text):
        prev = text[i - 1] if i > 0 else ""
        nxt = text[i + 1] if i + 1 < n else ""
        if c.isalnum():
            emit(c.lower(), i)
        elif c.isspace():
            emit(" ", i)
        elif c == "'":
            if prev.isalpha() and nxt.isalpha():
                emit(c, i)
        elif protected[i] and written_token(text, i):
            if c in ",;!?" or (c == "." and not nxt.isalnum()):
                continue
            emit(c, i)
        elif prev.isdigit() and nxt.isdigit():
            emit(c, i)
        elif prev.isalnum() and nxt.isalnum():
            emit(" ", i)
    while chars and chars[-1] == " ":
        chars.pop()
        src.pop()
    out = "".join(chars)

    mapped = []
    for e in entities:
        idx = [k for k, s in enumerate(src) if e["start"] <= s < e["end"]]
        if not idx:
            raise BuildError(f"entity vanished in lowercase form: {e}")
        start, end = idx[0], idx[-1] + 1
        span = out[start:end]
        if span != span.strip():
            raise BuildError(f"lowercase span has outer space: {e} -> {span!r}")
        mapped.append({"start": start, "end": end, "type": e["type"], "text": span})
    return out, mapped


# ------------------------------------------------------------------------- linting


def name_tokens(s: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", s.lower()) if t not in TITLES]


def roster_person_tokens(roster: dict) -> set[str]:
    toks: set[str] = set()
    for p in roster["people"]:
        for n in [p["name"], *p.get("aliases", [])]:
            toks.update(name_tokens(n))
    return toks


def at_sentence_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \"'(":
        j -= 1
    return j < 0 or text[j] in ".?!:"


def lint_session(sid: str, roster: dict, text: str, entities: list[dict]) -> list[str]:
    """Errors for likely labelling mistakes in the cased text of one session."""
    errors: list[str] = []
    covered = [False] * len(text)
    for e in entities:
        for i in range(e["start"], e["end"]):
            covered[i] = True
    person_toks = roster_person_tokens(roster)

    # Capitalised roster-name words left unlabelled (a common-word name such as "Will"
    # or "May" is allowed at the start of a sentence, where it is capitalised anyway).
    for m in re.finditer(r"[A-Z][A-Za-z]+", text):
        tok = m.group(0).lower()
        if tok in person_toks and not covered[m.start()]:
            if tok in NAME_WORDS and at_sentence_start(text, m.start()):
                continue
            before = re.findall(r"[a-z]+", text[max(0, m.start() - 12) : m.start()].lower())
            if tok == "may" and before and before[-1] in MONTH_CONTEXT:
                continue
            ctx = text[max(0, m.start() - 30) : m.end() + 30].replace("\n", " / ")
            errors.append(f"{sid}: unlabelled roster name {m.group(0)!r}: ...{ctx}...")

    # Roster organisations and places must always be labelled.
    for phrase in [*roster.get("organizations", []), *roster.get("places", [])]:
        for m in re.finditer(r"\b" + re.escape(phrase) + r"\b", text, flags=re.IGNORECASE):
            if not all(covered[m.start() : m.end()]):
                errors.append(f"{sid}: unlabelled roster org/place {m.group(0)!r}")

    # A PERSON made only of roster-name words is probably a ROSTER_PERSON.
    for e in entities:
        if e["type"] == "PERSON":
            toks = name_tokens(e["text"])
            if toks and all(t in person_toks for t in toks):
                errors.append(f"{sid}: PERSON {e['text']!r} looks like a roster name")
    return errors


def misheard_forms(roster: dict, entities: list[dict]) -> list[str]:
    """ROSTER_PERSON mentions with a word that is not in the roster (mishearings, titles
    other than Mr/Ms/Dr..., initials): the forms a matcher has to reach by fuzzy means."""
    toks = roster_person_tokens(roster)
    return [
        e["text"]
        for e in entities
        if e["type"] == "ROSTER_PERSON" and not set(name_tokens(e["text"])) <= toks
    ]


# ------------------------------------------------------------------- distractors


def count_distractors(text: str, entities: list[dict]) -> Counter:
    """Occurrences of distractor words/phrases outside entity spans (case-insensitive)."""
    covered = [False] * len(text)
    for e in entities:
        for i in range(e["start"], e["end"]):
            covered[i] = True
    low = text.lower()
    counts: Counter = Counter()

    def outside(s: int, e: int) -> bool:
        return not any(covered[s:e])

    for m in re.finditer(r"[a-z]+(?:'[a-z]+)?", low):
        w = m.group(0)
        if not outside(m.start(), m.end()):
            continue
        if w in NAME_WORDS:
            counts["name_words"] += 1
        elif w in WEEKDAYS or (w.endswith("s") and w[:-1] in WEEKDAYS):
            counts["weekdays"] += 1
        elif w in MONTHS:
            counts["months"] += 1
    for phrase in PROGRAM_PHRASES:
        for m in re.finditer(r"\b" + re.escape(phrase) + r"\b", low):
            if outside(m.start(), m.end()):
                counts["program_words"] += 1
    for phrase in GENERIC_PLACES:
        for m in re.finditer(r"\b" + re.escape(phrase) + r"\b", low):
            if outside(m.start(), m.end()):
                counts["generic_places"] += 1
    # Numbers that are not identifiers: a run of digits or of number words counts once.
    num_word = r"(?:" + "|".join(NUMBER_WORDS) + r")(?:-(?:one|two|three|four|five|six|"
    num_word += r"seven|eight|nine))?"
    run = rf"\b(?:\d[\d:,.]*|{num_word})(?:[\s-]+(?:and\s+)?(?:{num_word}|\d+))*\b"
    for m in re.finditer(run, low):
        if m.group(0) == "one":  # "no one", "one of them": not a number distractor
            continue
        if outside(m.start(), m.end()):
            counts["numbers"] += 1
    return counts


# ---------------------------------------------------------------------------- build


def load_session(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    sid = data.get("id")
    if not sid or path.stem != sid:
        raise BuildError(f"{path.name}: id {sid!r} must match the file name")
    if data.get("kind") not in KINDS:
        raise BuildError(f"{sid}: kind must be one of {KINDS}")
    roster = data.get("roster") or {}
    people = roster.get("people") or []
    ids = [p["id"] for p in people]
    if len(set(ids)) != len(ids):
        raise BuildError(f"{sid}: duplicate roster ids")
    for p in people:
        if p.get("role") not in ROLES:
            raise BuildError(f"{sid}: {p['id']} role must be one of {ROLES}")
        p.setdefault("aliases", [])
    roster.setdefault("organizations", [])
    roster.setdefault("places", [])
    turns = data.get("turns") or []
    if not turns:
        raise BuildError(f"{sid}: no turns")
    for k, t in enumerate(turns):
        if t.get("speaker") not in ids:
            raise BuildError(f"{sid} turn {k}: speaker {t.get('speaker')!r} not in roster")
        if not isinstance(t.get("text"), str) or not t["text"].strip():
            raise BuildError(f"{sid} turn {k}: empty text")
    return data


def build_forms(data: dict) -> tuple[dict, dict]:
    sid = data["id"]
    records = {}
    parsed = [parse_markup(t["text"], f"{sid} turn {k}") for k, t in enumerate(data["turns"])]
    for form in FORMS:
        pieces: list[str] = []
        turns: list[dict] = []
        entities: list[dict] = []
        offset = 0
        for t, (ttext, tents) in zip(data["turns"], parsed, strict=True):
            if form == "lowercase":
                ttext, tents = lowercase_turn(ttext, tents)
            if pieces:
                offset += 1  # the "\n" between turns
            turns.append({"speaker": t["speaker"], "start": offset, "end": offset + len(ttext)})
            for e in tents:
                entities.append(
                    {
                        "start": e["start"] + offset,
                        "end": e["end"] + offset,
                        "type": e["type"],
                        "text": e["text"],
                    }
                )
            pieces.append(ttext)
            offset += len(ttext)
        text = "\n".join(pieces)
        for t in turns:
            assert "\n" not in text[t["start"] : t["end"]]
        for e in entities:
            assert text[e["start"] : e["end"]] == e["text"], (sid, form, e)
        for a, b in pairwise(entities):
            assert a["end"] <= b["start"], (sid, form, "overlapping spans", a, b)
        records[form] = {
            "id": f"{sid}-{form}",
            "session": sid,
            "form": form,
            "kind": data["kind"],
            "roster": data["roster"],
            "text": text,
            "turns": turns,
            "entities": entities,
        }
    # The two forms must hold the same entities, in the same order.
    cased, lower = records["cased"]["entities"], records["lowercase"]["entities"]
    assert len(cased) == len(lower), sid
    for a, b in zip(cased, lower, strict=True):
        assert a["type"] == b["type"], (sid, a, b)
        standalone, _ = lowercase_turn(a["text"], [{**a, "start": 0, "end": len(a["text"])}])
        assert standalone == b["text"], (sid, a["text"], standalone, b["text"])
    return records["cased"], records["lowercase"]


def markdown_tables(type_counts: dict, distractors: dict, n_sessions: Counter) -> str:
    lines = ["| type | cased | lowercase |", "|---|---:|---:|"]
    for t in TYPES:
        lines.append(f"| {t} | {type_counts['cased'][t]} | {type_counts['lowercase'][t]} |")
    lines.append(
        f"| **all** | {sum(type_counts['cased'].values())} | "
        f"{sum(type_counts['lowercase'].values())} |"
    )
    lines += ["", "| distractor category | cased | lowercase |", "|---|---:|---:|"]
    cats = sorted(set(distractors["cased"]) | set(distractors["lowercase"]))
    for c in cats:
        lines.append(f"| {c} | {distractors['cased'][c]} | {distractors['lowercase'][c]} |")
    lines.append(
        f"| **all** | {sum(distractors['cased'].values())} | "
        f"{sum(distractors['lowercase'].values())} |"
    )
    lines += ["", "| session kind | sessions |", "|---|---:|"]
    for k in KINDS:
        lines.append(f"| {k} | {n_sessions[k]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--markdown", action="store_true", help="also print README tables")
    ap.add_argument("--out", type=Path, default=GOLD_PATH)
    ap.add_argument(
        "--sessions", type=Path, default=SESSIONS_DIR, help="folder of session YAML files"
    )
    args = ap.parse_args(argv)

    paths = sorted(args.sessions.glob("*.yaml"))
    if not paths:
        print(f"no sessions in {args.sessions}", file=sys.stderr)
        return 1
    records: list[dict] = []
    errors: list[str] = []
    misheard: list[str] = []
    type_counts: dict[str, Counter] = {f: Counter() for f in FORMS}
    distractors: dict[str, Counter] = {f: Counter() for f in FORMS}
    n_sessions: Counter = Counter()
    per_session: list[tuple[str, str, int, int]] = []
    seen = set()
    for path in paths:
        try:
            data = load_session(path)
            if data["id"] in seen:
                raise BuildError(f"duplicate session id {data['id']}")
            seen.add(data["id"])
            cased, lower = build_forms(data)
        except (BuildError, AssertionError) as exc:
            errors.append(f"{path.name}: {exc}")
            continue
        n_sessions[data["kind"]] += 1
        errors += lint_session(data["id"], data["roster"], cased["text"], cased["entities"])
        misheard += [
            f"{data['id']}: {m}" for m in misheard_forms(data["roster"], cased["entities"])
        ]
        for rec in (cased, lower):
            records.append(rec)
            type_counts[rec["form"]].update(e["type"] for e in rec["entities"])
            distractors[rec["form"]] += count_distractors(rec["text"], rec["entities"])
        n_roster = sum(e["type"] == "ROSTER_PERSON" for e in cased["entities"])
        per_session.append((data["id"], data["kind"], len(cased["entities"]), n_roster))

    if errors:
        print("ERRORS:", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1

    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    tmp.replace(args.out)

    print(f"wrote {len(records)} records ({len(per_session)} sessions x {len(FORMS)} forms)")
    print(f"  -> {args.out}")
    print()
    print("per session (cased): id, kind, mentions, roster mentions")
    for sid, kind, n, r in per_session:
        print(f"  {sid}  {kind:<19} {n:>4} {r:>4}")
    print()
    print(f"{'type':<14}" + "".join(f"{f:>11}" for f in FORMS))
    for t in TYPES:
        print(f"{t:<14}" + "".join(f"{type_counts[f][t]:>11}" for f in FORMS))
    print(f"{'TOTAL':<14}" + "".join(f"{sum(type_counts[f].values()):>11}" for f in FORMS))
    print()
    cats = sorted(set(distractors["cased"]) | set(distractors["lowercase"]))
    print(f"{'distractors':<14}" + "".join(f"{f:>11}" for f in FORMS))
    for c in cats:
        print(f"{c:<14}" + "".join(f"{distractors[f][c]:>11}" for f in FORMS))
    print(f"{'TOTAL':<14}" + "".join(f"{sum(distractors[f].values()):>11}" for f in FORMS))
    print()
    print(
        f"roster mentions with a word not in the roster (misheard/variant forms): {len(misheard)}"
    )
    for m in misheard:
        print("  " + m)

    failed = []
    for f in FORMS:
        total = sum(type_counts[f].values())
        if total < MINIMUMS["mentions"]:
            failed.append(f"{f}: {total} mentions < {MINIMUMS['mentions']}")
        if type_counts[f]["ROSTER_PERSON"] < MINIMUMS["roster"]:
            failed.append(f"{f}: {type_counts[f]['ROSTER_PERSON']} roster < {MINIMUMS['roster']}")
        nd = sum(distractors[f].values())
        if nd < MINIMUMS["distractors"]:
            failed.append(f"{f}: {nd} distractors < {MINIMUMS['distractors']}")
    if args.markdown:
        print()
        print(markdown_tables(type_counts, distractors, n_sessions))
    if failed:
        print("\nMINIMUMS NOT MET:", file=sys.stderr)
        for x in failed:
            print("  " + x, file=sys.stderr)
        return 1
    print("\nall checks passed; minimums met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
