"""``qscribe``: the command line an RA or a lab-server admin runs.

qscribe transcribe IN [--out OUT] [--session MANIFEST] [--model base]
qscribe models list | prepare | verify | convert-openai NAME
qscribe serve --in INCOMING --out OUT --cron "0 2 * * *"
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError

EXIT_FAILED = 1
EXIT_USAGE = 2


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    asr = {
        k: v
        for k, v in {
            "engine": getattr(args, "engine", None),
            "model": getattr(args, "model", None),
            "compute_type": getattr(args, "compute_type", None),
            "beam_size": getattr(args, "beam_size", None),
        }.items()
        if v is not None
    }
    over: dict[str, Any] = {"asr": asr} if asr else {}
    if getattr(args, "workers", None):
        over["runner"] = {"workers": args.workers}
    if getattr(args, "runner", None):
        over.setdefault("runner", {})["kind"] = args.runner
    return over


def _fmt_duration(s: float | None) -> str:
    if s is None:
        return "-"
    m, sec = divmod(round(s), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def summary_table(rows: list[dict[str, Any]]) -> str:
    head = ("file", "duration", "seconds", "RTF", "status")
    body = [
        (
            Path(r["file"]).name,
            _fmt_duration(r["duration"]),
            f"{r['seconds']:.1f}",
            f"{r['rtf']:.3f}" if r["rtf"] is not None else "-",
            r["status"]
            + (f": {r['error']}" if r["error"] else "")
            + (", check speakers" if r.get("review") else ""),
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    widths[-1] = len(head[-1])  # the status column runs free
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])


def write_run_log(logs: Path, rows: list[dict[str, Any]]) -> Path:
    from pipeline.workdir import make_dir, write_json

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return write_json(make_dir(logs) / f"run-{stamp}-{os.getpid()}.json", {"sessions": rows})


def cmd_transcribe(args: argparse.Namespace) -> int:
    from flows.env import prepare, run_options

    opts = run_options(args.config, _overrides(args))
    cfg = prepare(opts)
    os.environ.setdefault(
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO" if args.verbose else "WARNING"
    )
    from flows.transcribe import run  # imports prefect, after its environment is set

    out = Path(args.out).resolve()
    rows = run(
        str(Path(args.input).resolve()),
        str(out),
        opts,
        session=args.session,
        show_progress=not args.quiet,
    )
    log = write_run_log(cfg.paths.logs, rows)
    print()
    print(summary_table(rows))
    failed = [r for r in rows if r["status"] == "failed"]
    done = len(rows) - len(failed)
    print(
        f"\n{done} of {len(rows)} recording(s) transcribed; de-identified outputs in {out}"
        f"{f'; {len(failed)} failed (see status above)' if failed else ''}."
    )
    reviews = [r["review"] for r in rows if r.get("review")]
    if reviews:
        print(
            "\nSpeakers to check: fill in role/person in each file below, then run the same"
            " command again (only speaker labelling reruns):"
        )
        for path in reviews:
            print(f"  {path}")
    identified = [r["identified"] for r in rows if r.get("identified")]
    if identified:
        print("\nIdentified transcripts stay in the restricted work area (do not share them):")
        for path in identified:
            print(f"  {path}")
    print(f"Work area (restricted): {cfg.paths.work}   run log: {log}")
    return EXIT_FAILED if failed else 0


def cmd_models(args: argparse.Namespace) -> int:
    from flows.env import run_options, settings_of
    from pipeline import models

    cfg = settings_of(run_options(args.config, None))
    if args.action == "list":
        for name, spec in models.SHIPPED.items():
            print(f"{name:10s} {' + '.join(spec.requirements)}")
        return 0
    names = [args.name] if args.name else list(models.SHIPPED)
    if args.action in ("prepare", "verify"):
        for name in names:
            resolved = models.resolve_faster_whisper(name, cfg.paths.models)
            print(f"{name}: ok ({resolved.path}, sha256 {resolved.sha256[:16]}...)")
        return 0
    if args.action == "convert-openai":
        from pipeline.asr.openai_whisper import checkpoint_for

        for name in names:
            path, digest = checkpoint_for(name, cfg.paths.models)
            print(f"{name}: {path} (sha256 {digest[:16]}...)")
        return 0
    return EXIT_USAGE


def cmd_deidentify(args: argparse.Namespace) -> int:
    """De-identify an existing transcript.json (no Prefect: one file, seconds of work)."""
    from flows.env import run_options, settings_of
    from pipeline import stages
    from pipeline.manifest import load_manifest
    from pipeline.transcript import Transcript

    cfg = settings_of(run_options(args.config, None))
    manifest = load_manifest(args.session) if args.session else None
    transcript = Transcript.load(args.input)
    if transcript.deidentified:
        raise PipelineError(f"{args.input}: this transcript is already de-identified.")
    sid = manifest.session_id if manifest else transcript.session_id
    session = stages.open_session(cfg, sid)
    stages.adopt_transcript(session, Path(args.input), transcript)
    result = stages.run_deid(session, cfg, manifest)
    exported = stages.run_export(session, args.out, manifest)
    print(
        f"{sid}: {result.counts['replaced']} identifier(s) replaced; de-identified files in "
        f"{exported.path}"
    )
    return 0


def cmd_reidentify(args: argparse.Namespace) -> int:
    """Put real values back into a de-identified text (authorized use; output stays restricted)."""
    from flows.env import run_options, settings_of
    from pipeline.deid.keystore import KeyStore
    from pipeline.deid.pseudonyms import reidentify
    from pipeline.workdir import RESTRICTED_FILE, write_text

    cfg = settings_of(run_options(args.config, None))
    source = Path(args.input)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineError(f"{source}: cannot be read ({exc.strerror}).") from None
    sid = args.session_id or source.parent.name
    crosswalk = KeyStore(cfg.paths.keys, cfg.deid.passphrase_file).read()
    if sid not in crosswalk.get("sessions", {}):
        raise PipelineError(
            f"session '{sid}' is not in the key.",
            hint="Give --session-id (the output folder's name).",
        )
    out = write_text(Path(args.out), reidentify(text, crosswalk, sid), RESTRICTED_FILE)
    print(f"re-identified text written to {out} (0600); keep it in the restricted area.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.env import prepare, run_options

    opts = run_options(args.config, _overrides(args))
    prepare(opts)
    from flows.deploy import serve

    serve(args.input, args.out, opts, cron=args.cron, session=args.session, name=args.name)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qscribe",
        description="Offline transcription of research recordings. Nothing leaves this machine.",
    )
    p.add_argument("--config", help="extra settings YAML (over configs/base and configs/local)")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser(
        "transcribe",
        help="transcribe a recording or a folder of recordings",
        description="Transcribe one recording or every recording in a folder.",
    )
    t.add_argument("input", metavar="IN", help="an audio/video file, or a folder of them")
    t.add_argument("--out", default="out", help="output folder (default: out)")
    t.add_argument(
        "--session",
        metavar="MANIFEST",
        help="session manifest YAML, or a folder of them for a batch",
    )
    t.add_argument("--engine", help="ASR engine: faster_whisper (default) or openai_whisper")
    t.add_argument("--model", help="shipped model name (base, tiny.en) or a model folder")
    t.add_argument("--compute-type", dest="compute_type", help="int8 (default), float32, ...")
    t.add_argument("--beam-size", dest="beam_size", type=int)
    t.add_argument("--workers", type=int, help="recordings processed at once")
    t.add_argument("--runner", choices=["local", "dask"], help="where tasks run")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.add_argument("--verbose", action="store_true", help="show Prefect's run logs")
    t.set_defaults(fn=cmd_transcribe)

    m = sub.add_parser("models", help="list, prepare or verify the shipped models")
    m.add_argument("action", choices=["list", "prepare", "verify", "convert-openai"])
    m.add_argument("name", nargs="?", help="model name (default: all shipped models)")
    m.set_defaults(fn=cmd_models)

    d = sub.add_parser(
        "deidentify",
        help="de-identify an existing transcript.json",
        description="De-identify a transcript.json made earlier (leak gate included).",
    )
    d.add_argument("input", metavar="IN", help="an identified transcript.json")
    d.add_argument("--session", metavar="MANIFEST", help="session manifest with the roster")
    d.add_argument("--out", default="out", help="output folder (default: out)")
    d.set_defaults(fn=cmd_deidentify)

    r = sub.add_parser(
        "reidentify",
        help="restore real names in a de-identified text (authorized use)",
        description="Replace pseudonym tags with the real values from the encrypted key. "
        "Needs the key passphrase (QSCRIBE_PASSPHRASE or deid.passphrase_file).",
    )
    r.add_argument(
        "input", metavar="IN", help="a de-identified transcript.txt / .vtt / .srt / .maxqda.txt"
    )
    r.add_argument(
        "--out", required=True, help="where to write the re-identified text (created 0600)"
    )
    r.add_argument("--session-id", help="the session (default: the name of IN's folder)")
    r.set_defaults(fn=cmd_reidentify)

    s = sub.add_parser("serve", help="serve the batch flow on a schedule (lab server)")
    s.add_argument("--in", dest="input", required=True, help="folder of incoming recordings")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--session", metavar="MANIFESTS", help="folder of session manifests")
    s.add_argument("--cron", default="0 2 * * *", help="schedule (default: 02:00 nightly)")
    s.add_argument("--name", default="nightly", help="deployment name")
    s.set_defaults(fn=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "\nStopped. Finished work is kept; run the same command again to resume.",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
