"""``speakers.review.yaml``: the short file an RA fills in when the pipeline is unsure.

Per voice: talk time, three short quotes with timestamps, the pipeline's guess,
and empty ``role`` / ``person`` fields. The RA fills them in and runs the same
command again; only the speaker-labelling stage (and what follows) reruns.
The file quotes the recording, so it stays in the restricted work area.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest
from pipeline.speakers.assign import turns
from pipeline.speakers.roles import Voice
from pipeline.transcript import ROLES, Transcript
from pipeline.workdir import write_text
from pipeline.writers import clock

HEADER = """\
# Speakers to check for session {sid}.
# For each voice below, read the quotes and fill in:
#   role:    facilitator | staff | member | unknown
#   person:  the id of the person in the session manifest (optional), e.g. {example}
# Leave both empty to keep the pipeline's guess. Then run the same command again:
# only speaker labelling and the later stages run again (ASR is kept).
# Why this file was written:
{reasons}
"""


def quotes(t: Transcript, voice: str, n: int = 3, words: int = 14) -> list[str]:
    """Up to ``n`` short quotes of a voice, from its longest turns, in time order."""
    mine = [x for x in turns(t) if x.speaker == voice]
    longest = sorted(sorted(mine, key=lambda x: -len(x.text.split()))[:n], key=lambda x: x.start)
    out = []
    for x in longest:
        text = " ".join(x.text.split()[:words])
        out.append(
            f"[{clock(x.start, ms=False)}] {text}{' ...' if len(x.text.split()) > words else ''}"
        )
    return out


def write_review(
    path: Path,
    t: Transcript,
    voices: list[Voice],
    manifest: SessionManifest,
    reasons: list[str],
    answers: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Write the review file; answers the RA already gave are kept in it."""
    answers = answers or {}
    entries = []
    for v in voices:
        entries.append(
            {
                "voice": v.id,
                "talk_time": clock(v.talk_time, ms=False),
                "guess": {
                    "role": v.role,
                    "person": v.person,
                    "label": v.label,
                    "confidence": round(v.confidence, 2),
                    "from": v.source,
                    **({"why": list(v.notes)} if v.notes else {}),
                },
                "quotes": quotes(t, v.id),
                "role": answers.get(v.id, {}).get("role"),
                "person": answers.get(v.id, {}).get("person"),
            }
        )
    people = [{"id": p.id, "name": p.name, "role": p.role} for p in manifest.people]
    example = ", ".join(p.id for p in manifest.people[:3]) or "M01"
    body = yaml.safe_dump(
        {"session_id": t.session_id, "voices": entries, "people": people},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    header = HEADER.format(
        sid=t.session_id,
        example=example,
        reasons="\n".join(f"#  - {r}" for r in reasons) or "#  - (none)",
    )
    return write_text(path, header + body)


def read_answers(path: Path, manifest: SessionManifest | None) -> dict[str, dict[str, Any]]:
    """The RA's filled-in fields: {voice: {"role": ..., "person": ...}}, validated."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise PipelineError(
            f"{path}: not valid YAML.",
            hint="Fix the indentation, or delete the file to get a fresh one.",
        ) from None
    ids = {p.id for p in manifest.people} if manifest else set()
    answers: dict[str, dict[str, Any]] = {}
    for entry in data.get("voices") or []:
        role, person = entry.get("role"), entry.get("person")
        if not role and not person:
            continue
        voice = entry.get("voice")
        if role and role not in ROLES:
            raise PipelineError(
                f"{path}: voice {voice}: unknown role '{role}'.",
                hint=f"Use one of: {', '.join(ROLES)}.",
            )
        if person and str(person) not in ids:
            raise PipelineError(
                f"{path}: voice {voice}: person '{person}' is not in the session manifest.",
                hint=f"Use one of: {', '.join(sorted(ids)) or '(the manifest lists no people)'}.",
            )
        answers[str(voice)] = {"role": role, "person": str(person) if person else None}
    return answers
