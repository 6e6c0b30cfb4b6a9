"""Speakers: every word to a voice, voices to people and roles, labels; ``04_roles``.

Writes the identified transcript with speakers, and ``speakers.review.yaml`` when a
role is uncertain; the RA's answers in that file are part of the key, so filling it
in reruns this stage and the later ones only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline import corrections
from pipeline.config import Settings
from pipeline.stages.asr import transcript_path
from pipeline.stages.base import Context, Done, Stage
from pipeline.workdir import stage_key, write_json

REVIEW_FILE = "speakers.review.yaml"


def _diarization(ctx: Context) -> Any:
    from pipeline.diarize import Diarization

    path = ctx.session.root / "03_speakers" / "diarization.json"
    return Diarization.from_dict(json.loads(path.read_text(encoding="utf-8")))


class Roles(Stage):
    name = "roles"
    folder = "roles"
    after = ("asr", "diarize")
    title = "speakers"
    version = 2

    def enabled(self, cfg: Settings) -> bool:
        return cfg.diarization.enabled

    def _review(self, ctx: Context) -> Path:
        return ctx.session.root / self.folder_name / REVIEW_FILE

    def key(self, ctx: Context) -> str:
        from pipeline.speakers.profiles import enrollment_inputs
        from pipeline.speakers.review import read_answers

        session, m = ctx.session, ctx.manifest
        embedding = _diarization(ctx).embedding or ctx.cfg.diarization.embedding
        return stage_key(
            "roles",
            self.version,
            (session.read_record("asr") or {}).get("key"),
            (session.read_record("speakers") or {}).get("key"),
            m.model_dump(mode="json") if m else None,
            read_answers(self._review(ctx), m),
            # The RA's text corrections, merged voices and moved words (review app).
            corrections.speakers_digest(session.root),
            enrollment_inputs(m.people if m else [], ctx.cfg.paths.keys, embedding),
            ctx.cfg.roles.model_dump(),
        )

    def run(self, ctx: Context, folder: Path, key: str) -> Done:
        from pipeline.diarize import get_diarizer
        from pipeline.speakers.assign import assign_speakers, unvoiced_overlaps
        from pipeline.speakers.labels import LabelRegistry
        from pipeline.speakers.profiles import enroll_people
        from pipeline.speakers.review import read_answers, write_review
        from pipeline.speakers.roles import apply_roles, assign_roles, label_voices, needs_review
        from pipeline.transcript import Transcript

        cfg, manifest = ctx.cfg, ctx.manifest
        review_path = self._review(ctx)
        answers = read_answers(review_path, manifest)
        diarization = _diarization(ctx)
        embedding = diarization.embedding or cfg.diarization.embedding
        enrolled, problems = enroll_people(
            manifest.people if manifest else [],
            lambda clips: get_diarizer(cfg.diarization).embed(clips),
            embedding,
            cfg.paths.keys,
        )
        root = ctx.session.root
        asr = Transcript.load(transcript_path(ctx.session))
        asr = corrections.apply_text_edits(asr, corrections.read_text_edits(root))
        transcript = corrections.apply_speaker_edits(
            assign_speakers(asr, diarization), corrections.read_speaker_edits(root)
        )
        overlaps = unvoiced_overlaps(transcript, diarization)
        voices = assign_roles(
            transcript, diarization, manifest, enrolled, answers, cfg.roles, overlaps
        )
        known = [
            (v.person, v.role)
            for v in voices
            if v.person and v.role in ("staff", "member", "facilitator")
        ]
        label_voices(voices, LabelRegistry(cfg.paths.keys).labels_for(known))
        transcript = apply_roles(transcript, voices, overlaps)
        transcript.provenance.append(
            {
                "stage": "speakers",
                "engine": diarization.engine,
                "embedding": diarization.embedding,
                "voices": len(voices),
                "enrolled": len(enrolled),
                "named": sum(v.source == "names" for v in voices),
                "overlaps": sum(len(x) for x in overlaps.values()),
            }
        )
        write_json(folder / "transcript.json", transcript.to_dict())
        reasons = problems + needs_review(voices, manifest, cfg.roles)
        review = bool(reasons and manifest is not None)
        if review:
            assert manifest is not None
            write_review(review_path, transcript, voices, manifest, reasons, answers)
        elif not answers:
            review_path.unlink(missing_ok=True)
        return Done(
            ["transcript.json"],
            {
                "voices": len(voices),
                "named": sum(v.source == "names" for v in voices),
                "overlaps": sum(len(x) for x in overlaps.values()),
                "review": review,
                "problems": len(problems),
            },
        )

    def path(self, ctx: Context) -> Path:
        return ctx.session.root / self.folder_name / "transcript.json"

    def counts(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        review = str(self._review(ctx)) if record.get("review") else None
        return {"voices": record.get("voices"), "review": review}
