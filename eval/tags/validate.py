"""Check the hand-labelled tag sets: every line parses, every code is a leaf id of the
codebook, segment ids are unique ints per session; print counts per code, the share of
turns with no code and the share of multi-code turns.

    python3 eval/tags/validate.py                      # dev.jsonl and test.jsonl
    python3 eval/tags/validate.py eval/tags/dev.jsonl  # one file
Needs only the standard library and PyYAML.
"""
import collections
import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CODEBOOK = HERE.parents[1] / "configs" / "codebooks" / "social-interaction-policy.yaml"
KEYS = {"session_id", "segment_id", "speaker", "role", "text", "codes"}
SPEAKER = re.compile(r"^(FACILITATOR|STAFF-\d+|MEMBER-\d+)$")
ROLE = {"FACILITATOR": "facilitator", "STAFF": "staff", "MEMBER": "member"}


def leaves(groups):
    for g in groups:
        for c in g.get("codes", []) or []:
            yield c["id"]
        yield from leaves(g.get("groups", []) or [])


def check(path, leaf_ids):
    errors, counts, sessions, seen = [], collections.Counter(), collections.Counter(), set()
    n = empty = multi = 0
    for i, line in enumerate(open(path, encoding="utf-8"), 1):
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{path}:{i}: not JSON ({e})")
            continue
        if set(r) != KEYS:
            errors.append(f"{path}:{i}: keys {sorted(r)}")
            continue
        key = (r["session_id"], r["segment_id"])
        if not isinstance(r["segment_id"], int) or key in seen:
            errors.append(f"{path}:{i}: segment_id not an int or repeated: {key}")
        seen.add(key)
        if not SPEAKER.match(r["speaker"]) or ROLE[r["speaker"].split("-")[0]] != r["role"]:
            errors.append(f"{path}:{i}: speaker/role {r['speaker']}/{r['role']}")
        if not isinstance(r["text"], str) or not r["text"].strip():
            errors.append(f"{path}:{i}: empty text")
        codes = r["codes"]
        if not isinstance(codes, list) or len(set(codes)) != len(codes):
            errors.append(f"{path}:{i}: codes must be a list without repeats")
            continue
        for c in codes:
            if c not in leaf_ids:
                errors.append(f"{path}:{i}: {c!r} is not a leaf code id")
        n += 1
        sessions[r["session_id"]] += 1
        counts.update(codes)
        empty += not codes
        multi += len(codes) > 1
    coded = n - empty
    print(f"{path}: {n} turns in {len(sessions)} sessions")
    print(f"  no code: {empty} ({empty / max(n, 1):.1%}); "
          f"multi-code: {multi} ({multi / max(coded, 1):.1%} of coded turns, {multi / max(n, 1):.1%} of all)")
    for c in leaf_ids:
        print(f"  {c:20s} {counts[c]:4d}")
    return errors


def main(argv):
    cb = yaml.safe_load(open(CODEBOOK, encoding="utf-8"))
    leaf_ids = list(leaves(cb["groups"]))
    paths = argv or [str(HERE / "dev.jsonl"), str(HERE / "test.jsonl")]
    errors = [e for p in paths for e in check(p, leaf_ids)]
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
