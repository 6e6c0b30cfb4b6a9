"""The sessions a review server shows, what the browser gets, and what a save does.

Everything here runs inside the restricted area: views carry identified text (only
ever sent to 127.0.0.1). A save checks the version the browser saw (a stale one is
refused: :class:`Stale`, HTTP 409), writes one review file atomically, then reruns the
stages that read it, in this process, one session at a time.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import corrections as layers
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.manifest import SESSION_ID, SessionManifest
from pipeline.transcript import Transcript
from pipeline.workdir import SessionDir, write_json

logger = logging.getLogger("review")

TAG = re.compile(r"\[(?:[A-Z]+(?:-[A-Z0-9]+)?)\]")
STATE = Path("review") / "state.json"
#: What a save reruns from (the stages after it follow).
RERUN_FROM = {"text": "roles", "speakers": "roles", "redactions": "deid"}


class Stale(Exception):
    """A save made against an older version of the session."""


class NotFound(Exception):
    """No such session (or no such file in it)."""


@dataclass
class Review:
    cfg: Settings
    manifests: dict[str, SessionManifest] = field(default_factory=dict)
    #: Where exports go (``<out>/<session>/``); None: the export stage is not rerun.
    out: Path | None = None
    only: str | None = None
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ sessions

    @property
    def work(self) -> Path:
        return Path(self.cfg.paths.work)

    def session_ids(self) -> list[str]:
        if not self.work.is_dir():
            return []
        ids = sorted(
            p.name
            for p in self.work.iterdir()
            if p.is_dir() and SESSION_ID.match(p.name) and (p / "02_asr").is_dir()
        )
        return [s for s in ids if self.only in (None, s)]

    def session(self, sid: str) -> SessionDir:
        """The work folder of a listed session; anything else is :class:`NotFound`."""
        if not SESSION_ID.match(sid) or sid not in self.session_ids():
            raise NotFound(sid)
        s = SessionDir(self.work, sid)
        if s.root.resolve().parent != self.work.resolve():
            raise NotFound(sid)
        return s

    def lock(self, sid: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sid, threading.Lock())

    def status(self, sid: str) -> dict[str, Any]:
        s = self.session(sid)
        root, m = s.root, self.manifests.get(sid)
        deid = s.read_record("deid")
        roles = s.read_record("roles") or {}
        if not deid:
            return {"id": sid, "status": "not finished", "step": "pipeline"}
        if m is None and self.used_manifest(s):
            return {"id": sid, "status": "manifest not given: read only", "step": "manifest"}
        t = _load(root / "04_roles" / "transcript.json")
        if roles.get("review") and t is not None:
            answered = set(layers.read_speaker_answers(root, m))
            if not {v.get("id") for v in t.speakers} <= answered:
                return {"id": sid, "status": "needs speaker review", "step": "speakers"}
        state = _read(root / STATE)
        if state.get("redactions_checked") != deid.get("key"):
            return {"id": sid, "status": "redactions to check", "step": "redactions"}
        suggestions = layers.read_suggestions(root)
        decided = layers.read_code_review(root)["decisions"]
        if any(layers.code_key(x["segment_id"], x["code"]) not in decided for x in suggestions):
            return {"id": sid, "status": "codes to review", "step": "codes"}
        return {"id": sid, "status": "done", "step": "done"}

    def sessions(self) -> list[dict[str, Any]]:
        out = []
        for sid in self.session_ids():
            try:
                out.append(self.status(sid))
            except PipelineError:
                out.append({"id": sid, "status": "cannot be read", "step": "error"})
        return out

    # ------------------------------------------------------------------ view

    def audio_path(self, sid: str) -> Path:
        path = (self.session(sid).root / "01_audio" / "audio.wav").resolve()
        if not path.is_file() or not path.is_relative_to(self.work.resolve()):
            raise NotFound("audio")
        return path

    def view(self, sid: str) -> dict[str, Any]:
        """Everything the page shows for one session (identified: restricted area only)."""
        from pipeline.stages import identified_transcript

        s = self.session(sid)
        root, m = s.root, self.manifests.get(sid)
        source, _ = identified_transcript(s)
        ident = _load(source)
        if ident is None:
            raise NotFound("transcript")
        deid = _load(root / "05_deid" / "transcript.json")
        voices = [
            {
                "id": v.get("id"),
                "label": v.get("label") or v.get("id"),
                "role": v.get("role"),
                "person": v.get("person"),
                "talk_time": v.get("talk_time"),
            }
            for v in ident.speakers
            if v.get("id")
        ]
        if not voices:
            seen = sorted({seg.speaker for seg in ident.segments if seg.speaker})
            voices = [{"id": v, "label": v, "role": None, "person": None} for v in seen]
        tags = _tag_spans(deid) if deid else []
        turns = _turns(ident, tags)
        deid_turns = _turns(deid, []) if deid else []
        _attach_codes(root, turns, deid_turns)
        from pipeline.coding.codebook import load_codebook
        from pipeline.coding.pretag import DEFAULT_CODEBOOK

        try:
            codebook = [
                {"id": c.id, "label": c.label} for c in load_codebook(DEFAULT_CODEBOOK).codes
            ]
        except (PipelineError, OSError):
            codebook = []
        answers = layers.read_speaker_answers(root, m)
        return {
            "session_id": sid,
            "version": layers.version(root),
            "status": self.status(sid),
            "duration": ident.source.duration,
            "audio": (root / "01_audio" / "audio.wav").is_file(),
            "voices": voices,
            "answers": answers,
            "speaker_edits": layers.read_speaker_edits(root),
            "people": [
                {"id": p.id, "name": p.name, "role": p.role} for p in (m.people if m else [])
            ],
            "turns": turns,
            "deid_turns": deid_turns,
            "deidentified": deid is not None,
            "rules": layers.read_deid_rules(root).to_dict(),
            "text_edits": len(layers.read_text_edits(root)),
            "codebook": codebook,
            "exported": str(self.html_target(sid)) if self.out else None,
        }

    # ------------------------------------------------------------------ saves

    def _check(self, sid: str, seen: str | None) -> SessionDir:
        s = self.session(sid)
        if seen != layers.version(s.root):
            raise Stale(sid)
        if sid not in self.manifests and self.used_manifest(s):
            # Rerunning without the roster would leave its names in the text.
            raise PipelineError(
                f"session {sid} was made with a manifest, and this review server was not "
                "given it; nothing was changed.",
                hint="Stop the server and start it with --session <manifest file or folder>.",
            )
        return s

    @staticmethod
    def used_manifest(s: SessionDir) -> bool:
        report = _read(s.root / "05_deid" / "deid_report.json")
        roles = _read(s.root / "04_roles" / "transcript.json")
        return bool(report.get("roster_people")) or any(
            v.get("person") for v in roles.get("speakers", []) if isinstance(v, dict)
        )

    def rerun(self, sid: str, first: str) -> list[dict[str, Any]]:
        """Forget ``first`` and the later stages, then run them (not the earlier ones)."""
        from pipeline.stages import ORDER, run_named

        s = self.session(sid)
        names = [st.name for st in ORDER if st.enabled(self.cfg)]
        todo = names[names.index(first) :] if first in names else []
        if "export" in todo and self.out is None:
            todo.remove("export")
        folders = {st.name: st.folder for st in ORDER}
        if todo:
            s.invalidate_from(folders[todo[0]])
        done = []
        for name in todo:
            result = run_named(name, s, self.cfg, self.manifests.get(sid), out=self.out)
            done.append({"stage": name, "seconds": result.seconds, "counts": result.counts})
        logger.info("session %s: reran %s", sid, ", ".join(todo) or "nothing")
        return done

    def _rerun(self, sid: str, first: str) -> str | None:
        """Rerun after a save; a stage that stops (the leak gate) is a warning: the save stands."""
        try:
            self.rerun(sid, first)
        except PipelineError as exc:
            logger.warning("session %s: rerun from %s stopped (%s)", sid, first, type(exc).__name__)
            return f"Saved, but the pipeline stopped: {exc}"
        return None

    def save_text(
        self, sid: str, seen: str | None, start: float, end: float, text: str
    ) -> dict[str, Any]:
        with self.lock(sid):
            s = self._check(sid, seen)
            if not (0 <= start < end):
                raise PipelineError("a correction needs the times of the words it replaces.")
            layers.add_text_edit(s.root, start, end, text)
            warning = self._rerun(sid, RERUN_FROM["text"])
        return {**self.view(sid), "warning": warning}

    def save_speakers(self, sid: str, seen: str | None, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock(sid):
            s = self._check(sid, seen)
            m = self.manifests.get(sid)
            known = {v["id"] for v in self.view(sid)["voices"]}
            if body.get("answers"):
                answers = layers.read_speaker_answers(s.root, m)
                for voice, a in body["answers"].items():
                    if voice not in known:
                        raise PipelineError(f"voice {voice} is not in this session.")
                    answers[voice] = {
                        "role": a.get("role") or None,
                        "person": a.get("person") or None,
                    }
                layers.save_speaker_answers(s.root, sid, answers, m)
            edits = layers.read_speaker_edits(s.root)
            changed = False
            if body.get("merge"):
                src, into = body["merge"].get("voice"), body["merge"].get("into")
                if src not in known or into not in known or src == into:
                    raise PipelineError("merge needs two different voices of this session.")
                edits["merge"][src] = into
                changed = True
            if body.get("move"):
                mv = body["move"]
                if mv.get("voice") not in known:
                    raise PipelineError("move needs a voice of this session.")
                edits["moves"].append(
                    {"start": float(mv["start"]), "end": float(mv["end"]), "voice": mv["voice"]}
                )
                changed = True
            if changed:
                layers.save_speaker_edits(s.root, edits)
            warning = self._rerun(sid, RERUN_FROM["speakers"])
        return {**self.view(sid), "warning": warning}

    def save_redactions(self, sid: str, seen: str | None, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock(sid):
            s = self._check(sid, seen)
            rules = layers.read_deid_rules(s.root)
            m = self.manifests.get(sid)
            if body.get("missed"):
                x = body["missed"]
                text = " ".join(str(x.get("text", "")).split())
                kind = x.get("kind", "person")
                person = x.get("person") or None
                if not text or kind not in layers.KINDS:
                    raise PipelineError(
                        "a missed name needs its text and a kind (person, place, org)."
                    )
                if person and (m is None or person not in {p.id for p in m.people}):
                    raise PipelineError(f"person '{person}' is not in the session manifest.")
                rules.missed.append({"text": text, "kind": kind, "person": person})
                rules.allow = [a for a in rules.allow if a.lower() != text.lower()]
            if body.get("allow"):
                text = " ".join(str(body["allow"]).split())
                if text and text not in rules.allow:
                    rules.allow.append(text)
            if body.get("remove_missed") is not None:
                i = int(body["remove_missed"])
                if 0 <= i < len(rules.missed):
                    rules.missed.pop(i)
            if body.get("remove_allow") is not None:
                rules.allow = [a for a in rules.allow if a != body["remove_allow"]]
            layers.save_deid_rules(s.root, rules)
            warning = self._rerun(sid, RERUN_FROM["redactions"])
        return {**self.view(sid), "warning": warning}

    def save_codes(self, sid: str, seen: str | None, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock(sid):
            s = self._check(sid, seen)
            seg, code, action = (
                str(body.get("segment_id")),
                str(body.get("code", "")),
                body.get("action"),
            )
            deid = _load(s.root / "05_deid" / "transcript.json")
            if deid is None:
                raise PipelineError(
                    "codes apply to the de-identified transcript: it is not there yet."
                )
            from pipeline.coding.refi import turn_texts

            turns = [(x.segment_id, x.text) for x in turn_texts(deid)]
            if seg not in {str(t) for t, _ in turns} or not code:
                raise PipelineError("a code needs a turn of this session and a code id.")
            review = layers.read_code_review(s.root)
            key = layers.code_key(seg, code)
            if action in ("accept", "reject"):
                review["decisions"][key] = "accepted" if action == "accept" else "rejected"
            elif action == "add":
                added = review["added"].setdefault(seg, [])
                if code not in added:
                    added.append(code)
            elif action == "remove":
                review["added"][seg] = [c for c in review["added"].get(seg, []) if c != code]
                review["decisions"].pop(key, None)
            else:
                raise PipelineError("action is one of accept, reject, add, remove.")
            n = layers.save_codes(s.root, sid, review, turns)
            logger.info("session %s: codings saved (%d turns)", sid, n)
        return self.view(sid)

    def save_state(self, sid: str, seen: str | None, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock(sid):
            s = self._check(sid, seen)
            state = _read(s.root / STATE)
            if body.get("redactions_checked"):
                state["redactions_checked"] = (s.read_record("deid") or {}).get("key")
            (s.root / "review").mkdir(mode=0o700, exist_ok=True)
            write_json(s.root / STATE, state)
        return self.view(sid)

    # ------------------------------------------------------------------ export

    def html_target(self, sid: str) -> Path:
        assert self.out is not None
        return Path(self.out) / sid / "transcript.review.html"

    def export_html(self, sid: str) -> dict[str, Any]:
        from review.html import export_session

        if self.out is None:
            raise PipelineError("no output folder: start the review with --out.")
        with self.lock(sid):
            s = self.session(sid)
            path = export_session(s, self.manifests.get(sid), self.html_target(sid))
        return {"path": str(path), "bytes": path.stat().st_size}


# ---------------------------------------------------------------------- helpers


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _load(path: Path) -> Transcript | None:
    return Transcript.load(path) if Path(path).is_file() else None


def _tag_spans(deid: Transcript) -> list[tuple[float, float, str, str | None]]:
    """(start, end, tag, speaker) of every pseudonym in the de-identified words."""
    out = []
    for seg in deid.segments:
        for w in seg.words:
            m = TAG.search(w.text)
            if m:
                out.append((w.start, w.end, m.group(0), seg.speaker))
    return sorted(out)


def _turns(t: Transcript, tags: list[tuple[float, float, str, str | None]]) -> list[dict[str, Any]]:
    """Turns of consecutive segments of one voice, words with times (and pseudonyms)."""
    from pipeline.writers import speaker_labels

    labels = speaker_labels(t)
    starts = [x[0] for x in tags]
    out: list[dict[str, Any]] = []
    n = 0
    for seg in t.segments:
        if not seg.text.strip():
            continue
        if not out or out[-1]["speaker"] != seg.speaker:
            out.append(
                {
                    "index": len(out),
                    "speaker": seg.speaker,
                    "label": labels.get(seg.speaker or "", seg.speaker) or "SPEAKER",
                    "role": seg.role,
                    "start": seg.start,
                    "end": seg.end,
                    "segment_id": seg.id,
                    "words": [],
                }
            )
        turn = out[-1]
        turn["end"] = max(turn["end"], seg.end)
        words = seg.words or []
        if not words:
            turn["words"].append(
                {"i": n, "start": seg.start, "end": seg.end, "text": seg.text.strip()}
            )
            n += 1
            continue
        for w in words:
            word: dict[str, Any] = {"i": n, "start": w.start, "end": w.end, "text": w.text}
            k = bisect.bisect_right(starts, w.start + layers.EPS) - 1
            if k >= 0:
                a, b, tag, _spk = tags[k]
                if a - layers.EPS <= w.start < b - layers.EPS:
                    word["tag"] = tag
                    word["tag_first"] = abs(w.start - a) <= layers.EPS
            turn["words"].append(word)
            n += 1
    return out


def _attach_codes(
    root: Path, turns: list[dict[str, Any]], deid_turns: list[dict[str, Any]]
) -> None:
    """Each turn gets its de-identified turn's segment id, suggestions and decisions."""
    suggestions = layers.read_suggestions(root)
    review = layers.read_code_review(root)
    by_seg: dict[str, list[dict[str, Any]]] = {}
    for x in suggestions:
        by_seg.setdefault(str(x["segment_id"]), []).append(x)
    dstarts = [d["start"] for d in deid_turns]
    for turn in [*turns, *deid_turns]:
        turn.setdefault("code_segment", None)
    for d in deid_turns:
        d["code_segment"] = d["segment_id"]
    for turn in turns:
        if not deid_turns:
            continue
        k = min(range(len(dstarts)), key=lambda i: abs(dstarts[i] - turn["start"]))
        if abs(dstarts[k] - turn["start"]) < 0.5 and deid_turns[k]["speaker"] == turn["speaker"]:
            turn["code_segment"] = deid_turns[k]["segment_id"]
    for turn in [*turns, *deid_turns]:
        seg = turn["code_segment"]
        codes = []
        if seg is not None:
            for x in by_seg.get(str(seg), []):
                state = review["decisions"].get(layers.code_key(seg, x["code"]), "suggested")
                codes.append(
                    {
                        "code": x["code"],
                        "score": x.get("score"),
                        "state": state,
                        "method": x.get("method"),
                    }
                )
            for c in review["added"].get(str(seg), []):
                if c not in {x["code"] for x in codes}:
                    codes.append({"code": c, "score": None, "state": "added", "method": "review"})
        turn["codes"] = codes
