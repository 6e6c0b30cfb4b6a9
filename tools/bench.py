"""``make bench``: speed, memory and accuracy of the transcription stages, as JSON.

Everything compared is measured in the same run on the same audio, each engine in
its own child process (so peak RSS is that engine's own):

- faster-whisper int8 vs openai-whisper fp32 on the same model (Whisper base):
  seconds per stage, real-time factor, peak RSS, WER;
- a 3-hour recording (made by concatenation) through the same stages: peak RSS;
- the full ``qscribe transcribe`` command on the bundled example (Prefect included, from a
  fresh Prefect home), then the same command again with nothing to do.

Targets on 2 cores: RTF <= 0.10 (base int8), >= 4x faster than openai-whisper,
peak RSS <= 1.5 GB on 3 hours, a command with nothing to do <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REAL = Path(os.environ.get("QSCRIBE_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
EXAMPLE = ROOT / "examples" / "build" / "focus_group.m4a"
REAL_CLIPS = [
    "ss_jfk",
    "ss_librispeech_2412-153948-0000",
    "ss_librivox_sense_0870",
    "ss_librivox_sense_0890",
    "ss_leopard_en",
    "ss_ami_ES2011a_40-46s",
    "ms_pyannote_sample",
    "ms_picovoice_3spk",
]
TARGETS = {"rtf": 0.10, "speedup": 4.0, "long_rss_mb": 1536, "nothing_to_do_s": 5.0}


def build_bench_audio(folder: Path) -> tuple[Path, str]:
    """Real clips then the mock focus group, one file, with the joined reference text."""
    from pipeline.ingest import ingest, read_wav
    from tests.support.synth import write_audio

    parts, refs = [], []
    gap = np.zeros(16000, dtype=np.float32)
    for clip in REAL_CLIPS:
        parts += [read_wav(REAL / f"{clip}.16k.wav"), gap]
        refs.append((REAL / f"{clip}.txt").read_text().strip())
    if EXAMPLE.is_file():
        ex = folder / "example.wav"
        ingest(EXAMPLE, ex)
        parts.append(read_wav(ex))
        turns = json.loads(EXAMPLE.with_suffix(".ref.json").read_text())["turns"]
        refs += [t["text"] for t in turns]
    path = write_audio(folder / "bench.wav", np.concatenate(parts), 16000)
    return path, " ".join(refs)


def build_long_audio(source: Path, hours: float, folder: Path) -> Path:
    """``hours`` of speech by repeating ``source``, encoded as m4a (a real-world format)."""
    import av

    from pipeline.ingest import read_wav

    base = (read_wav(source) * 32767).astype(np.int16)
    total = int(hours * 3600 * 16000)
    path = folder / f"long-{hours:g}h.m4a"
    with av.open(str(path), "w", format="ipod") as c:
        stream = c.add_stream("aac", rate=16000, layout="mono")
        written = 0
        while written < total:
            block = base[: total - written]
            frame = av.AudioFrame.from_ndarray(block[None, :], format="s16", layout="mono")
            frame.sample_rate = 16000
            for p in stream.encode(frame):
                c.mux(p)
            written += block.size
        for p in stream.encode(None):
            c.mux(p)
    return path


def child(args: argparse.Namespace) -> None:
    """Run every stage on one file in this process; print timings as JSON.

    ``rtf`` is the transcription path (ingest + ASR, what `transcribe` did before speakers
    and de-identification existed); ``rtf_all`` adds diarization, speaker labelling,
    de-identification and export (ASR and diarization run one after the other here).
    """
    from pipeline.asr import get_engine
    from pipeline.config import load_settings
    from pipeline.metrics import wer
    from pipeline.stages import StageResult, open_session, run_named

    os.environ.setdefault("QSCRIBE_PASSPHRASE", "bench")
    work = Path(args.work)
    cfg = load_settings(
        overrides={
            "paths": {
                "work": str(work / "work"),
                "logs": str(work / "logs"),
                "keys": str(work / "keys"),
            },
            "asr": {"engine": args.engine, "model": args.model, "compute_type": args.compute_type},
        }
    )
    t0 = time.monotonic()
    get_engine(cfg.asr, cfg.paths.models)  # load once, timed apart from transcription
    load_s = time.monotonic() - t0
    session = open_session(cfg, "bench")
    stages: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(name: str, **kw: object) -> StageResult:
        """Run one stage; its wall and CPU seconds (all threads of this process)."""
        t, c = time.monotonic(), time.process_time()
        result = run_named(name, session, cfg, **kw)
        stages[name] = round(time.monotonic() - t, 3)
        cpu[name] = round(time.process_time() - c, 3)
        return result

    r = timed("ingest", src=args.audio)
    duration = r.counts["duration"]
    a = timed("asr")
    total = sum(stages.values())
    if args.all_stages:
        for name in ("diarize", "roles", "deid"):
            timed(name)
        timed("export", out=work / "out")
    wall = sum(stages.values())
    result = {
        "engine": args.engine,
        "compute_type": args.compute_type,
        "model": args.model,
        "audio_s": duration,
        "model_load_s": round(load_s, 2),
        "stages_s": stages,
        # CPU-seconds per stage and each stage's share of the wall time: the next
        # bottleneck at a glance (CPU > wall means the stage used several cores).
        "stages_cpu_s": cpu,
        "stages_share_of_wall": {k: round(v / wall, 3) for k, v in stages.items()},
        "total_s": round(total, 2),
        "rtf": round(total / duration, 4),
        "rtf_with_load": round((total + load_s) / duration, 4),
        "rtf_all": round(sum(stages.values()) / duration, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pieces": a.counts.get("pieces"),
    }
    if args.reference:
        from pipeline.transcript import Transcript

        hyp = Transcript.load(a.path).text
        result["wer"] = round(wer(Path(args.reference).read_text(), hyp), 4)
    print(json.dumps(result))


def run_child(
    audio: Path,
    engine: str,
    compute: str,
    model: str,
    ref: Path | None,
    work: Path,
    all_stages: bool = False,
) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "tools.bench",
        "--child",
        "--audio",
        str(audio),
        "--engine",
        engine,
        "--compute-type",
        compute,
        "--model",
        model,
        "--work",
        str(work),
    ]
    if ref:
        cmd += ["--reference", str(ref)]
    if all_stages:
        cmd.append("--all-stages")
    print(f"bench: {engine} {compute} on {audio.name} ...", file=sys.stderr, flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode:
        raise SystemExit(f"bench child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli_run(audio: Path, work: Path, model: str) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "cli.yaml"
    cfg.write_text(
        json.dumps(
            {
                "paths": {
                    "work": str(work / "work"),
                    "logs": str(work / "logs"),
                    "keys": str(work / "keys"),
                    "prefect_home": str(work / "prefect"),
                },
                "asr": {"model": model},
            }
        )
    )
    cmd = [
        sys.executable,
        "-m",
        "flows.cli",
        "--config",
        str(cfg),
        "transcribe",
        str(audio),
        "--out",
        str(work / "out"),
        "--quiet",
    ]
    # First with a fresh Prefect home (a new lab's first command), then again with
    # nothing to do (an RA's rerun, a nightly batch with nothing new).
    walls, codes = [], []
    for _ in range(2):
        t = time.monotonic()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        walls.append(round(time.monotonic() - t, 2))
        codes.append(out.returncode)
    from pipeline.ingest import ingest

    duration = ingest(audio, work / "probe.wav").source.duration
    return {
        "exit_codes": codes,
        "audio_s": duration,
        "wall_s": walls[0],
        "rtf_including_prefect_startup": round(walls[0] / duration, 4),
        "nothing_to_do_wall_s": walls[1],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench/report.json")
    p.add_argument("--model", default="base")
    p.add_argument("--long-hours", type=float, default=3.0, help="0 skips the long run")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--audio", help=argparse.SUPPRESS)
    p.add_argument("--engine", default="faster_whisper", help=argparse.SUPPRESS)
    p.add_argument("--compute-type", default="int8", help=argparse.SUPPRESS)
    p.add_argument("--reference", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--all-stages", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return

    report: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "targets": TARGETS,
    }
    with tempfile.TemporaryDirectory(prefix="qscribe-bench-") as tmp:
        tmp_path = Path(tmp)
        audio, ref_text = build_bench_audio(tmp_path)
        ref = tmp_path / "reference.txt"
        ref.write_text(ref_text)
        fw = run_child(audio, "faster_whisper", "int8", args.model, ref, tmp_path / "fw", True)
        ow = run_child(audio, "openai_whisper", "float32", args.model, ref, tmp_path / "ow")
        report["same_audio"] = {
            "audio": "real clips + mock focus group",
            "audio_s": fw["audio_s"],
            "faster_whisper_int8": fw,
            "openai_whisper_fp32": ow,
            "speedup_asr": round(ow["stages_s"]["asr"] / fw["stages_s"]["asr"], 2),
            "speedup_total": round(ow["total_s"] / fw["total_s"], 2),
        }
        if EXAMPLE.is_file():
            report["cli_example"] = cli_run(EXAMPLE, tmp_path / "cli", args.model)
        if args.long_hours > 0:
            long_audio = build_long_audio(audio, args.long_hours, tmp_path)
            report["long"] = run_child(
                long_audio, "faster_whisper", "int8", args.model, None, tmp_path / "long"
            )
    fw, same = report["same_audio"]["faster_whisper_int8"], report["same_audio"]
    report["verdict"] = {
        "rtf_base_int8": fw["rtf"],
        "rtf_all_stages": fw["rtf_all"],
        "rtf_ok": fw["rtf"] <= TARGETS["rtf"],
        "speedup_vs_openai": same["speedup_total"],
        "speedup_ok": same["speedup_total"] >= TARGETS["speedup"],
    }
    if "cli_example" in report:
        noop = report["cli_example"]["nothing_to_do_wall_s"]
        report["verdict"]["nothing_to_do_wall_s"] = noop
        report["verdict"]["nothing_to_do_ok"] = noop <= TARGETS["nothing_to_do_s"]
    if "long" in report:
        report["verdict"]["long_peak_rss_mb"] = report["long"]["peak_rss_mb"]
        report["verdict"]["long_rss_ok"] = report["long"]["peak_rss_mb"] <= TARGETS["long_rss_mb"]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["verdict"], indent=1))
    print(f"report: {out}")


if __name__ == "__main__":
    main()
