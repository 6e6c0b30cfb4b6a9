"""De-identification: Presidio findings replaced by pseudonyms; ``05_deid`` (still restricted).

Writes the de-identified transcript in every export format and a report of counts;
the key (pseudonym -> real value) goes into the encrypted crosswalk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import corrections
from pipeline.manifest import SessionManifest
from pipeline.stages.asr import transcript_path
from pipeline.stages.base import Context, Done, Stage
from pipeline.workdir import SessionDir, sha256_file, stage_key, write_json


def identified_transcript(session: SessionDir) -> tuple[Path, dict[str, Any]]:
    """The most finished identified transcript (with speakers when that stage ran), and
    the record of the stage that wrote it."""
    roles = session.read_record("roles")
    if roles:
        return session.root / "04_roles" / "transcript.json", roles
    return transcript_path(session), session.read_record("asr") or {}


def roster_of(manifest: SessionManifest | None) -> Any:
    """The de-identification roster of a manifest (an empty one without a manifest)."""
    from pipeline.deid.apply import roster_for

    if manifest is None:
        return roster_for([], [], [])
    return roster_for(manifest.protected_people(), manifest.organizations, manifest.places)


def deid_data_digest() -> str:
    """The recognizers' word lists are part of what the de-identification stage depends on."""
    from importlib import resources

    data = resources.files("pipeline.deid.data")
    return stage_key(
        *[
            (f.name, f.read_text(encoding="utf-8"))
            for f in sorted(data.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".txt")
        ]
    )


class Deid(Stage):
    name = "deid"
    folder = "deid"
    version = 2
    after = ("roles",)
    public = True
    title = "deidentify"

    def key(self, ctx: Context) -> str:
        m, cfg = ctx.manifest, ctx.cfg
        _source, upstream = identified_transcript(ctx.session)
        people = m.protected_people() if m else []
        return stage_key(
            "deid",
            self.version,
            upstream.get("key"),
            [p.model_dump(mode="json", exclude={"enrollment", "voice_profile"}) for p in people],
            m.organizations if m else [],
            m.places if m else [],
            cfg.deid.model_dump(mode="json", exclude={"passphrase_file"}),
            sha256_file(cfg.deid.presidio_config),
            deid_data_digest(),
            # The RA's corrections from the review app: missed names, allow list, text.
            corrections.deid_digest(ctx.session.root),
            corrections.file_digest(ctx.session.root, corrections.TEXT_EDITS),
        )

    def run(self, ctx: Context, folder: Path, key: str) -> Done:
        from pipeline.deid.apply import deidentify, turn_texts
        from pipeline.deid.keystore import KeyStore
        from pipeline.deid.presidio_engine import get_engine
        from pipeline.deid.pseudonyms import Pseudonymizer
        from pipeline.speakers.labels import LabelRegistry
        from pipeline.transcript import Transcript
        from pipeline.writers import write_all

        cfg, manifest, session = ctx.cfg, ctx.manifest, ctx.session
        for old in folder.iterdir():
            if old.is_file() and old.name != "stage.json":
                old.unlink()
        source, _upstream = identified_transcript(session)
        people = manifest.protected_people() if manifest else []
        transcript = Transcript.load(source)
        if not session.read_record("roles"):  # no speakers stage: text edits apply here
            edits = corrections.read_text_edits(session.root)
            transcript = corrections.apply_text_edits(transcript, edits)
        turns = turn_texts(transcript)
        engine = get_engine(cfg.deid.presidio_config, cfg.deid.score_threshold)
        texts = [text for text, _ in turns]
        findings = engine.analyze(
            texts, roster_of(manifest) if manifest else None, fuzzy=cfg.deid.fuzzy_names
        )
        findings = corrections.apply_deid_rules(
            texts, findings, corrections.read_deid_rules(session.root)
        )
        labels = LabelRegistry(cfg.paths.keys).labels_for([(p.id, p.role) for p in people])
        with KeyStore(cfg.paths.keys, cfg.deid.passphrase_file).open() as crosswalk:
            names = Pseudonymizer(
                crosswalk, session.session_id, labels, {p.id: p.name for p in people}
            )
            result = deidentify(transcript, findings, turns, names)
        replaced = sum(result.counts.values())
        result.transcript.provenance.append(
            {"stage": "deid", "engine": "presidio", "replaced": replaced}
        )
        outputs = [p.name for p in write_all(result.transcript, folder)]
        report = {
            "session_id": session.session_id,
            "replaced": dict(sorted(result.counts.items())),
            "by_recognizer": dict(sorted(result.sources.items())),
            "operator": "replace with a pseudonym tag",
            "roster_people": len(people),
            "words_in": len(transcript.words()),
            "words_out": len(result.transcript.words()),
        }
        if cfg.deid.audio:
            from pipeline.deid.audio import bleep

            covered = bleep(
                session.root / "01_audio" / "audio.wav",
                result.spans,
                folder / "audio.deid.m4a",
                pad=cfg.deid.bleep_padding_s,
            )
            report["audio_seconds_covered"] = round(sum(b - a for a, b in covered), 2)
            outputs.append("audio.deid.m4a")
        write_json(folder / "deid_report.json", report)
        outputs.append("deid_report.json")
        return Done(outputs, {"replaced": replaced})

    def path(self, ctx: Context) -> Path:
        return ctx.session.root / self.folder_name

    def counts(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        return {"replaced": record.get("replaced")}
