"""``qscribe``: the command line an RA or a lab-server admin runs.

qscribe transcribe IN [--out OUT] [--session MANIFEST] [--model base]
qscribe models list | prepare | verify | convert-openai NAME
qscribe pretag IN --out OUT [--codebook YAML|QDC] [--coded QDPX|JSONL]
qscribe serve --in INCOMING --out OUT --cron "0 2 * * *"
qscribe key check | rotate
qscribe handoff --out DIR [--sessions id,id] [--encrypt] | handoff decrypt FILE --out DIR
qscribe purge [--force] [--older-than DAYS]
"""

from __future__ import annotations

import argparse
import contextlib
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
    head = ("file", "session", "duration", "seconds", "RTF", "status")
    body = [
        (
            Path(r["file"]).name,
            r["session_id"],
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


def nothing_to_do(
    input_path: str, session: str | None, cfg: Any, out: Path
) -> list[dict[str, Any]] | None:
    """The summary rows when every recording is already done, else None.

    Checks checkpoints and outputs only, without Prefect: a rerun with nothing new
    (a nightly batch, the same command typed twice) returns in a second or two.
    """
    from pipeline import stages
    from pipeline.manifest import load_manifest
    from pipeline.recordings import plan_jobs, record_run, summary_row
    from pipeline.workdir import SessionDir

    jobs = plan_jobs(input_path, session, cfg.paths.work)
    contexts: list[tuple[Any, stages.Context | None]] = []
    for job in jobs:
        if job.duplicate_of:
            contexts.append((job, None))
            continue
        ctx = stages.Context(
            session=SessionDir(cfg.paths.work, job.session_id),
            cfg=cfg,
            manifest=load_manifest(job.manifest) if job.manifest else None,
            src=Path(job.src),
            src_sha256=job.sha256,
            out=out,
        )
        if not stages.up_to_date(ctx):
            return None
        contexts.append((job, ctx))
    rows = [summary_row(job, stages.recorded(ctx) if ctx else []) for job, ctx in contexts]
    record_run(cfg.paths.logs, rows)
    return rows


def cmd_transcribe(args: argparse.Namespace) -> int:
    from flows.env import prepare, run_options

    opts = run_options(args.config, _overrides(args))
    cfg = prepare(opts)
    out = Path(args.out).resolve()
    rows = nothing_to_do(args.input, args.session, cfg, out)
    if rows is None:
        os.environ.setdefault(
            "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO" if args.verbose else "WARNING"
        )
        from flows.transcribe import run  # imports prefect, after its environment is set

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
    from pipeline.typed import load_transcript

    cfg = settings_of(run_options(args.config, None))
    manifest = load_manifest(args.session) if args.session else None
    transcript = load_transcript(args.input, manifest)
    if transcript.deidentified:
        raise PipelineError(f"{args.input}: this transcript is already de-identified.")
    sid = manifest.session_id if manifest else transcript.session_id
    session = stages.open_session(cfg, sid)
    stages.adopt_transcript(session, Path(args.input), transcript)
    ctx = stages.Context(session=session, cfg=cfg, manifest=manifest, out=Path(args.out))
    result = stages.run("deid", ctx)
    exported = stages.run("export", ctx)
    print(
        f"{sid}: {result.counts['replaced']} identifier(s) replaced; de-identified files in "
        f"{exported.path}"
    )
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Prepare this machine once (``make setup`` runs it): models, Prefect's database."""
    from flows.env import migrate_database, run_options
    from pipeline import models

    cfg = run_options(args.config, None).settings()
    for name in models.SHIPPED:
        resolved = models.resolve_faster_whisper(name, cfg.paths.models)
        print(f"model {name}: ok (sha256 {resolved.sha256[:16]}...)")
    migrate_database(cfg)
    print(f"Prefect database ready in {cfg.paths.prefect_home}")
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


def cmd_pretag(args: argparse.Namespace) -> int:
    """Codebook suggestions for de-identified transcripts (no Prefect)."""
    from flows.env import run_options, settings_of
    from pipeline.coding.pretag import run_pretag

    cfg = settings_of(run_options(args.config, None))
    roster = None
    if args.session:
        from pipeline.deid.apply import roster_for
        from pipeline.manifest import load_manifest

        m = load_manifest(args.session)
        roster = roster_for(m.protected_people(), m.organizations, m.places)
    result = run_pretag(
        args.input,
        args.out,
        codebook=args.codebook,
        coded=args.coded,
        models_dir=cfg.paths.models,
        roster=roster,
    )
    for s in result.sessions:
        print(f"{s.session_id}: {s.suggestions} suggestion(s) for {s.turns} turn(s) in {s.folder}")
    learned = f"; learned model {result.learned_path}" if result.learned_path else ""
    print(f"codebook {result.codebook_version}, {result.method}, {result.model}{learned}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.env import prepare, run_options
    from flows.server import local_server

    opts = run_options(args.config, _overrides(args))
    prepare(opts)
    with contextlib.ExitStack() as stack:
        if not os.environ.get("PREFECT_API_URL"):
            # Prefect's temporary server runs no scheduler: start a real one (loopback).
            print("starting a local Prefect server for the schedule ...")
            os.environ["PREFECT_API_URL"] = stack.enter_context(local_server())
        from flows.deploy import serve  # imports prefect, after PREFECT_API_URL is set

        serve(
            args.input,
            args.out,
            opts,
            cron=args.cron,
            interval_s=args.interval,
            timezone=args.timezone,
            session=args.session,
            name=args.name,
        )
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    """A persistent local Prefect server (run history and UI for a lab server)."""
    from flows.env import prepare, run_options
    from flows.server import run_foreground

    prepare(run_options(args.config, None))
    return run_foreground(args.host, args.port)


def cmd_key(args: argparse.Namespace) -> int:
    """Check that the passphrase opens the key, or re-encrypt the key under a new one."""
    import getpass

    from flows.env import run_options, settings_of
    from pipeline.deid.keystore import KeyStore

    cfg = settings_of(run_options(args.config, None))
    store = KeyStore(cfg.paths.keys, cfg.deid.passphrase_file)
    if args.action == "check":
        info = store.check()
        print(
            f"ok: the passphrase opens the key ({info['pseudonyms']} pseudonym(s), "
            f"{info['sessions']} session(s)); passphrase from {info['source']}."
        )
        if info["next_to_key"]:
            print("warning: the passphrase is kept next to the key; run `qscribe key rotate`.")
        return 0
    new = None
    if args.prompt:
        new = getpass.getpass("New passphrase: ")
        if not new or new != getpass.getpass("Again: "):
            raise PipelineError("the two passphrases are empty or differ; nothing was changed.")
    where = store.rotate(new)
    print(f"ok: the key is re-encrypted under a new passphrase, kept in the {where}.")
    return 0


def _handoff_roster(cfg: Any, manifests: str | None) -> Any:
    """Names the hand-off gate looks for: the manifests given, and every name in the key."""
    from pipeline.deid.apply import roster_for
    from pipeline.deid.keystore import KeyStore
    from pipeline.handoff import key_roster, merge_rosters
    from pipeline.manifest import load_manifest

    rosters = []
    if manifests:
        path = Path(manifests)
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        for f in files:
            m = load_manifest(f)
            rosters.append(roster_for(m.protected_people(), m.organizations, m.places))
    if (Path(cfg.paths.keys) / "crosswalk.enc").is_file():
        rosters.append(key_roster(KeyStore(cfg.paths.keys, cfg.deid.passphrase_file).read()))
    return merge_rosters(*rosters)


def cmd_handoff(args: argparse.Namespace) -> int:
    """One BagIt bag of de-identified outputs for a collaborator (or decrypt one)."""
    import getpass

    from flows.env import run_options, settings_of
    from pipeline import handoff

    cfg = settings_of(run_options(args.config, None))
    secret = os.environ.get("QSCRIBE_HANDOFF_PASSPHRASE")
    if args.action == "decrypt":
        if not args.file:
            raise PipelineError("give the encrypted bag: qscribe handoff decrypt FILE --out DIR.")
        secret = secret or getpass.getpass("Passphrase of the bag: ")
        bag = handoff.decrypt_bag(Path(args.file), Path(args.out), secret)
        print(f"ok: bag decrypted and valid: {bag}")
        return 0
    generated = args.encrypt and not secret
    if generated:
        secret = handoff.new_transfer_passphrase()
    options = getattr(cfg, "handoff", None)
    result = handoff.build_bag(
        Path(args.source),
        Path(args.out),
        _handoff_roster(cfg, args.session),
        logs_dir=cfg.paths.logs,
        sessions=args.sessions.split(",") if args.sessions else None,
        work_root=cfg.paths.work,
        cfg=cfg,
        study_id=args.study_id or getattr(options, "study_id", None),
        audio=args.audio,
        passphrase=secret if args.encrypt else None,
    )
    left = sum(result.left_out.values())
    print(
        f"ok: {len(result.sessions)} session(s), {result.files} file(s) passed the leak gate and "
        f"bag validation; {left} file(s) not on the hand-off list were left out."
    )
    print(f"bag: {result.encrypted or result.bag}")
    if generated:
        print(
            "passphrase for the encrypted bag (shown once; send it by another channel than "
            f"the file): {secret}"
        )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Remove raw audio and identified files of handed-off or expired sessions."""
    from flows.env import run_options, settings_of
    from pipeline import handoff

    cfg = settings_of(run_options(args.config, None))
    options = getattr(cfg, "handoff", None)
    days = (
        args.older_than if args.older_than is not None else getattr(options, "retention_days", None)
    )
    result = handoff.purge(
        cfg.paths.work,
        cfg.paths.logs,
        sessions=args.sessions.split(",") if args.sessions else None,
        older_than_days=days,
        force=args.force,
        dry_run=args.dry_run,
    )
    verb = "would remove" if args.dry_run else "removed"
    for sid, reason in result.purged.items():
        print(f"  {sid}: {verb} its audio and identified files ({reason})")
    for sid, why in result.kept.items():
        print(f"  {sid}: kept ({why})")
    print(
        f"{len(result.purged)} session(s) purged{' (dry run)' if args.dry_run else ''}: "
        f"{result.files} file(s), {result.bytes / 1e6:.1f} MB; each deletion is in "
        f"{Path(cfg.paths.logs) / 'audit.jsonl'}."
    )
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """The review app in the browser (127.0.0.1 only, one-time token)."""
    from flows.env import run_options, settings_of
    from review.cli import run

    cfg = settings_of(run_options(args.config, None))
    return run(cfg, args.session_id, args.session, args.out, args.port, args.export)


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

    i = sub.add_parser("init", help="prepare this machine once: models and Prefect's database")
    i.set_defaults(fn=cmd_init)

    m = sub.add_parser("models", help="list, prepare or verify the shipped models")
    m.add_argument("action", choices=["list", "prepare", "verify", "convert-openai"])
    m.add_argument("name", nargs="?", help="model name (default: all shipped models)")
    m.set_defaults(fn=cmd_models)

    d = sub.add_parser(
        "deidentify",
        help="de-identify an existing transcript.json",
        description="De-identify a transcript.json made earlier (leak gate included).",
    )
    d.add_argument(
        "input", metavar="IN", help="an identified transcript (.json, .txt, .docx, .vtt, .srt)"
    )
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

    pt = sub.add_parser(
        "pretag",
        help="suggest codebook codes for de-identified transcripts",
        description="Suggest codes for every turn of de-identified transcripts; writes "
        "suggestions.json/.csv/.xlsx and a REFI-QDA .qdpx per session.",
    )
    pt.add_argument(
        "input", metavar="IN", help="a de-identified transcript.json, or a folder of them"
    )
    pt.add_argument("--out", required=True, help="output folder (one subfolder per session)")
    pt.add_argument(
        "--codebook", help="codebook YAML or REFI-QDA .qdc (default: the study codebook)"
    )
    pt.add_argument("--coded", help="the team's codings to learn from: a .qdpx or codings.jsonl")
    pt.add_argument(
        "--session", metavar="MANIFEST", help="session manifest (roster for the leak gate)"
    )
    pt.set_defaults(fn=cmd_pretag)

    s = sub.add_parser("serve", help="serve the batch flow on a schedule (lab server)")
    s.add_argument("--in", dest="input", required=True, help="folder of incoming recordings")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--session", metavar="MANIFESTS", help="folder of session manifests")
    s.add_argument("--cron", default="0 2 * * *", help="schedule (default: 02:00 nightly)")
    s.add_argument("--interval", type=float, help="run every this many seconds instead of cron")
    s.add_argument("--timezone", help="IANA timezone of the schedule (default: this machine's)")
    s.add_argument("--name", default="nightly", help="deployment name")
    s.set_defaults(fn=cmd_serve)

    sv = sub.add_parser("server", help="start a persistent local Prefect server (lab server)")
    sv.add_argument("--host", default="127.0.0.1", help="address (default: loopback only)")
    sv.add_argument("--port", type=int, default=4200)
    sv.set_defaults(fn=cmd_server)

    k = sub.add_parser(
        "key",
        help="check the key's passphrase, or re-encrypt the key under a new one",
        description="check: verify that the passphrase (QSCRIBE_PASSPHRASE, the OS keyring or "
        "the passphrase file) opens the key. rotate: re-encrypt the key under a new random "
        "passphrase (or --prompt), kept apart from the key.",
    )
    k.add_argument("action", choices=["check", "rotate"])
    k.add_argument("--prompt", action="store_true", help="rotate: type the new passphrase")
    k.set_defaults(fn=cmd_key)

    h = sub.add_parser(
        "handoff",
        help="one BagIt bag of de-identified outputs for a collaborator",
        description="Bag the de-identified OUT folders (leak gate and bag validation included); "
        "`qscribe handoff decrypt FILE --out DIR` opens an encrypted bag.",
    )
    h.add_argument("action", nargs="?", choices=["build", "decrypt"], default="build")
    h.add_argument("file", nargs="?", help="decrypt: the .tar.enc file")
    h.add_argument("--out", required=True, help="folder the bag (or decrypted bag) goes to")
    h.add_argument("--from", dest="source", default="out", help="output folder (default: out)")
    h.add_argument("--sessions", help="session ids, comma-separated (default: all in --from)")
    h.add_argument("--session", metavar="MANIFESTS", help="manifest(s) whose names to check for")
    h.add_argument("--study-id", dest="study_id", help="study id for bag-info")
    h.add_argument("--audio", action="store_true", help="include de-identified audio")
    h.add_argument("--encrypt", action="store_true", help="encrypt the bag for transfer")
    h.set_defaults(fn=cmd_handoff)

    pg = sub.add_parser(
        "purge",
        help="remove raw audio and identified files of handed-off or expired sessions",
    )
    pg.add_argument("--sessions", help="session ids, comma-separated (default: all)")
    pg.add_argument("--older-than", dest="older_than", type=float, metavar="DAYS")
    pg.add_argument("--force", action="store_true", help="also sessions not handed off")
    pg.add_argument("--dry-run", dest="dry_run", action="store_true", help="only list")
    pg.set_defaults(fn=cmd_purge)

    rv = sub.add_parser(
        "review", help="review and correct transcripts in the browser (this machine only)"
    )
    rv.add_argument(
        "session_id", nargs="?", help="only this session (default: all in the work area)"
    )
    rv.add_argument(
        "--session", metavar="MANIFESTS", help="manifest file or folder of the sessions"
    )
    rv.add_argument("--out", default="out", help="where the HTML export goes (default: out)")
    rv.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    rv.add_argument(
        "--export", action="store_true", help="write each session's de-identified HTML, then exit"
    )
    rv.set_defaults(fn=cmd_review)
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
