"""IRB hand-off: one BagIt bag of de-identified outputs, and retention of what stays.

``build_bag`` makes one BagIt (RFC 8493) bag from OUT session folders, for a
collaborator outside the lab:

- only files on the hand-off list go in (de-identified transcripts in json, txt, vtt,
  srt, MAXQDA text, and a DOCX made here from the de-identified transcript; REFI-QDA
  and other QDA exports; code suggestions; de-identification reports; with
  ``audio=True`` the de-identified audio). Raw audio, identified transcripts, keys,
  passphrases, rosters, review files and voice profiles are never on it, and a
  transcript.json that is not de-identified stops the hand-off;
- ``bag-info.txt`` carries the study id, pipeline version, models with their sha256,
  the settings' hash and the sessions' count;
- ``data/audit.jsonl`` tells what ran when for these sessions (ids, times, counts);
- the finished bag (payload, tag files, paths) passes the full leak gate and bagit
  validation before it is moved into place; then the hand-off is appended to the
  restricted audit log (``<logs>/audit.jsonl``).

``encrypt_bag`` / ``decrypt_bag``: the bag as one tar, encrypted with AES-256-GCM
under a passphrase (scrypt), in 1 MiB chunks whose order and end are authenticated.

``purge``: removes the raw (decoded) audio and identified files of sessions that were
handed off, or are older than the retention, from the restricted work area; others
only when forced. Every deletion goes in the audit log.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import struct
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pipeline import audit
from pipeline.deid.roster import Roster
from pipeline.errors import PipelineError
from pipeline.transcript import Transcript
from pipeline.workdir import (
    SHARED_DIR,
    SHARED_FILE,
    STAGE_DIRS,
    atomic_path,
    make_dir,
    write_json,
)

logger = logging.getLogger(__name__)

#: What may go into a bag from a session's OUT folder (file names, lowercase).
HANDOFF_FILES = [
    re.compile(p)
    for p in (
        r"^transcript\.(?:json|txt|vtt|srt|maxqda\.txt|docx)$",
        r"^[\w.-]*deid_report[\w.-]*\.json$",
        # QDA exports: REFI-QDA project/codebook, other tools' text, spreadsheet, html.
        r"^[\w.-]+\.(?:qdpx|qdc|qde)$",
        r"^[\w.-]*(?:qda|maxqda|atlas|nvivo|refi)[\w.-]*\.(?:txt|csv|xlsx|docx|html|xml|json)$",
        # Code suggestions on the de-identified text.
        r"^[\w.-]*(?:code|codes|coding|codebook|suggest)[\w.-]*\.(?:json|csv|md|txt|xlsx|html|yaml)$",
    )
]
#: De-identified audio, only when asked for.
AUDIO_FILES = re.compile(r"^audio\.deid\.m4a$")
#: Never, whatever the list above says (a second line of defence).
NEVER = re.compile(
    r"passphrase|crosswalk|\.enc$|roster|voice|profile|review|identified|\.npy$|\.wav$|"
    r"\.log$|manifest|enroll|^audio\.(?!deid\.)",
    re.IGNORECASE,
)
#: Work folders of a session that hold raw audio or identified text.
IDENTIFIED_STAGES = ("audio", "asr", "speakers", "roles")
#: Other folders of a session that hold identified data (the review app's missed names).
IDENTIFIED_FOLDERS = ("review",)
PURGED_MARK = "purged.json"
ENC_MAGIC = b"QSCRIBE-BAG-AESGCM-1\n"
CHUNK = 1 << 20
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class HandoffResult:
    bag: Path
    bag_id: str
    sessions: list[str]
    files: int
    bytes: int
    left_out: dict[str, int] = field(default_factory=dict)
    encrypted: Path | None = None


# -- what goes in --------------------------------------------------------------------


def allowed(name: str, *, audio: bool = False) -> bool:
    """Whether a file of this name, from a session's OUT folder, may go into a bag."""
    low = name.lower()
    if audio and AUDIO_FILES.match(low):
        return True
    if NEVER.search(low):
        return False
    return any(p.match(low) for p in HANDOFF_FILES)


def session_folders(out_root: Path, sessions: Iterable[str] | None = None) -> list[Path]:
    """The OUT session folders to hand off (every one holding a transcript, by default)."""
    out_root = Path(out_root)
    if sessions is not None:
        ids = [s.strip() for s in sessions if s.strip()]
        bad = [s for s in ids if not SESSION_ID.match(s)]
        if bad:
            raise PipelineError(
                f"{len(bad)} session id(s) are not valid ids (letters, digits, . _ -)."
            )
        missing = [s for s in ids if not (out_root / s / "transcript.json").is_file()]
        if missing:
            raise PipelineError(
                f"no de-identified transcript for session(s) {', '.join(missing)} in {out_root}.",
                hint="Check the ids (the OUT folder names) and --from.",
            )
        return [out_root / s for s in dict.fromkeys(ids)]
    found = sorted(
        p.parent
        for p in out_root.glob("*/transcript.json")
        if p.is_file() and SESSION_ID.match(p.parent.name)
    )
    if not found:
        raise PipelineError(
            f"no session folders with a transcript.json in {out_root}.",
            hint="Give the output folder the sessions were exported to (--from).",
        )
    return found


def _check_deidentified(path: Path) -> None:
    """A JSON that says it is identified (or a transcript that does not say otherwise) stops all."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise PipelineError(
            f"{path.parent.name}/{path.name} cannot be read as JSON; nothing was handed off.",
            hint="Export the session again.",
        ) from None
    if not isinstance(data, dict):
        return
    if data.get("deidentified") is False or (
        path.name == "transcript.json" and data.get("deidentified") is not True
    ):
        raise PipelineError(
            f"{path.parent.name}/{path.name} is not de-identified; nothing was handed off.",
            hint=f"Remove {path.parent} and export the session again (qscribe deidentify).",
        )


def write_docx(t: Transcript, path: Path, mode: int = SHARED_FILE) -> Path:
    """The de-identified transcript as a Word document: one paragraph per turn."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    from pipeline.writers import clock, paragraphs

    if not t.deidentified:
        raise PipelineError(
            f"session {t.session_id}: only a de-identified transcript goes to DOCX."
        )
    doc = docx.Document()
    # The template's thumbnail image cannot be checked by the leak gate: leave it out.
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rid)
    props = doc.core_properties
    props.author = props.last_modified_by = "qscribe"
    props.title = f"Session {t.session_id} (de-identified)"
    props.comments = props.keywords = props.subject = props.category = ""
    props.created = props.modified = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    props.revision = 1
    doc.add_heading(f"Session {t.session_id}", level=1)
    doc.add_paragraph(
        f"De-identified transcript (language {t.language}). Times are hh:mm:ss from the "
        "start of the recording; bracketed tags stand for removed names and numbers."
    )
    for start, label, text in paragraphs(t):
        p = doc.add_paragraph()
        p.add_run(f"[{clock(start, ms=False)}] ")
        if label:
            p.add_run(f"{label}: ").bold = True
        p.add_run(text)
    with atomic_path(path, mode) as tmp:
        doc.save(str(tmp))
    return path


# -- what the gate looks for --------------------------------------------------------


def key_roster(crosswalk: dict[str, Any]) -> Roster:
    """Every name the project's de-identification replaced, from the key, as a roster.

    The hand-off gate then looks for all of them in every session of the bag, not only
    for the names in the manifests at hand.
    """
    from pipeline.deid.pseudonyms import normalize

    people: list[tuple[str, str, list[str]]] = []
    orgs: list[str] = []
    places: list[str] = []
    for label, entry in crosswalk.get("entries", {}).items():
        values = [v for v in (normalize(str(x)) for x in entry.get("values", [])) if v]
        kind = entry.get("type")
        if kind in ("ROSTER_PERSON", "PERSON"):
            people += [(label, v, []) for v in values]
        elif kind == "ORG":
            orgs += values
        elif kind == "PLACE":
            places += values
    return Roster.build(people, orgs, places)


def merge_rosters(*rosters: Roster | None) -> Roster:
    return Roster([n for r in rosters if r is not None for n in r.names])


# -- bag-info ------------------------------------------------------------------------


def pipeline_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qscribe")
    except PackageNotFoundError:
        return "unknown"


def config_hash(cfg: Any) -> str:
    """sha256 of the settings, less machine paths (the same settings hash the same anywhere)."""
    data = cfg.model_dump(mode="json") if hasattr(cfg, "model_dump") else dict(cfg or {})
    data.pop("paths", None)
    if isinstance(data.get("deid"), dict):
        data["deid"] = {
            k: v for k, v in data["deid"].items() if k not in ("passphrase_file", "presidio_config")
        }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def model_lines(transcripts: Iterable[Transcript]) -> list[str]:
    """``name sha256:<hex> (source)`` for the ASR models that ran and every pinned weight."""
    from pipeline import models

    lines = set()
    for t in transcripts:
        for p in t.provenance:
            if p.get("stage") == "asr" and p.get("model_sha256"):
                name = Path(str(p.get("model", "asr"))).name  # a folder path could name a user
                lines.add(f"whisper {name} sha256:{p['model_sha256']} ({p.get('engine', 'asr')})")
    for name, w in {**models.WEIGHTS, **models.FOLDERS}.items():
        lines.add(f"{name} sha256:{w.sha256} ({w.requirement})")
    return sorted(lines)


def _stage_entries(work_root: Path | None, sid: str) -> list[dict[str, Any]]:
    """What ran when for a session, from its stage records: times and counts, no keys."""
    if work_root is None:
        return []
    out = []
    for stage, folder in STAGE_DIRS.items():
        rec_path = Path(work_root) / sid / folder / "stage.json"
        try:
            rec = json.loads(rec_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        finished = dt.datetime.fromtimestamp(rec_path.stat().st_mtime, dt.UTC)
        counts = {
            k: v
            for k, v in rec.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k != "key"
        }
        out.append(
            {
                "time": finished.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "event": "stage",
                "session": sid,
                "stage": stage,
                **counts,
            }
        )
    return out


# -- the bag -------------------------------------------------------------------------


def _set_modes(root: Path) -> None:
    os.chmod(root, SHARED_DIR)
    for p in root.rglob("*"):
        os.chmod(p, SHARED_DIR if p.is_dir() else SHARED_FILE)


def new_bag_id() -> str:
    """``qscribe-handoff-2026dec02-0724z-kxtm``: its date, time and a random tail, with no
    run of digits the leak gate could take for a phone number."""
    now = dt.datetime.now(dt.UTC)
    tail = "".join(secrets.choice("bcdfghjkmnpqrstvwxz") for _ in range(4))
    return f"qscribe-handoff-{now:%Y%b%d-%H%M}z-{tail}".lower()


def build_bag(
    out_root: Path,
    dest: Path,
    roster: Roster,
    *,
    logs_dir: Path,
    sessions: Iterable[str] | None = None,
    work_root: Path | None = None,
    cfg: Any = None,
    study_id: str | None = None,
    audio: bool = False,
    passphrase: str | None = None,
) -> HandoffResult:
    """One bag of the chosen OUT session folders in ``dest``, gated and validated.

    With ``passphrase`` the bag is also encrypted for transfer (``<bag>.tar.enc``) and
    the plain folder removed.
    """
    import bagit

    from pipeline.deid.gate import scan_tree

    folders = session_folders(Path(out_root), sessions)
    dest = make_dir(Path(dest), SHARED_DIR)
    bag_id = new_bag_id()
    staging = Path(tempfile.mkdtemp(prefix=f".{bag_id}.", dir=dest))
    try:
        left_out: Counter[str] = Counter()
        transcripts: list[Transcript] = []
        files = 0
        for folder in folders:
            sid = folder.name
            target = make_dir(staging / sid, SHARED_DIR)
            for f in sorted(folder.iterdir()):
                if not f.is_file() or f.is_symlink() or not allowed(f.name, audio=audio):
                    left_out[f.suffix.lower() or "(no suffix)"] += 1
                    continue
                if f.suffix.lower() == ".json":
                    _check_deidentified(f)
                if f.name == "transcript.docx":
                    continue  # made here, from the de-identified transcript
                shutil.copyfile(f, target / f.name)
                files += 1
            t = Transcript.load(target / "transcript.json")
            transcripts.append(t)
            write_docx(t, target / "transcript.docx")
            files += 1
        ids = [f.name for f in folders]
        entry = {
            "time": audit.now(),
            "event": "handoff",
            "bag": bag_id,
            "sessions": ids,
            "files": files + 1,  # and the audit log itself
            "audio": audio,
            "encrypted": passphrase is not None,
        }
        history = [e for sid in ids for e in _stage_entries(work_root, sid)]
        history += audit.for_sessions(audit.read(logs_dir), set(ids))
        history.sort(key=lambda e: str(e.get("time", "")))
        (staging / "audit.jsonl").write_text(
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in [*history, entry]),
            encoding="utf-8",
        )
        files += 1
        info = {
            "External-Identifier": bag_id,
            "External-Description": "De-identified research transcripts made by qscribe; no "
            "recordings, identified text, keys or rosters.",
            "Study-Identifier": study_id or "not set",
            "Qscribe-Version": pipeline_version(),
            "Qscribe-Config-Sha256": config_hash(cfg) if cfg is not None else "not given",
            "Qscribe-Model": model_lines(transcripts),
            "Qscribe-Sessions": str(len(ids)),
            "Qscribe-Audio": "de-identified audio included" if audio else "no audio",
        }
        bagit.make_bag(str(staging), info, processes=1, checksums=["sha256", "sha512"])
        hits = scan_tree(staging, roster, label=bag_id)
        if hits:
            shown = "; ".join(str(h) for h in hits[:5])
            raise PipelineError(
                f"leak gate blocked the hand-off: {len(hits)} possible identifier(s) or "
                f"unreadable file(s) ({shown}{'; ...' if len(hits) > 5 else ''}); no bag was made.",
                hint="Fix the named session (roster, then export again) or leave it out with --sessions.",
            )
        try:
            bagit.Bag(str(staging)).validate(processes=1)
        except bagit.BagError as exc:
            raise PipelineError(
                f"the hand-off bag did not validate ({type(exc).__name__}); no bag was made."
            ) from None
        _set_modes(staging)
        bag = dest / bag_id
        os.replace(staging, bag)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    size = sum(p.stat().st_size for p in bag.rglob("*") if p.is_file())
    result = HandoffResult(bag, bag_id, ids, files, size, dict(sorted(left_out.items())))
    if passphrase is not None:
        result.encrypted = encrypt_bag(bag, dest / f"{bag_id}.tar.enc", passphrase)
        shutil.rmtree(bag)
    audit.append(
        logs_dir,
        "handoff",
        **{k: v for k, v in entry.items() if k not in ("time", "event")},
        bytes=size,
    )
    return result


# -- encryption for transfer ---------------------------------------------------------


def _key(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, **SCRYPT).derive(passphrase.encode("utf-8"))


def _nonce(prefix: bytes, counter: int, final: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if final else 0)


def _encrypt_stream(src: BinaryIO, dst: BinaryIO, passphrase: str) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, prefix = os.urandom(16), os.urandom(7)
    header = json.dumps(
        {
            "kdf": "scrypt",
            **SCRYPT,
            "salt": base64.b64encode(salt).decode(),
            "prefix": base64.b64encode(prefix).decode(),
            "chunk": CHUNK,
        }
    ).encode()
    aad = ENC_MAGIC + header + b"\n"
    dst.write(aad)
    aead = AESGCM(_key(passphrase, salt))
    counter, chunk = 0, src.read(CHUNK)
    while True:
        following = src.read(CHUNK) if len(chunk) == CHUNK else b""
        final = not following
        sealed = aead.encrypt(_nonce(prefix, counter, final), chunk, aad)
        dst.write(struct.pack(">I", len(sealed)) + sealed)
        if final:
            return
        counter, chunk = counter + 1, following


def _decrypt_stream(src: BinaryIO, dst: BinaryIO, passphrase: str) -> None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    damaged = PipelineError(
        "the encrypted bag could not be opened: wrong passphrase, or the file is damaged "
        "or cut short.",
        hint="Check the passphrase you were sent and the file's size.",
    )
    if src.read(len(ENC_MAGIC)) != ENC_MAGIC:
        raise PipelineError("this is not a qscribe encrypted bag (.tar.enc).")
    line = src.readline(4096)
    try:
        head = json.loads(line)
        salt, prefix = base64.b64decode(head["salt"]), base64.b64decode(head["prefix"])
        params = {k: int(head[k]) for k in ("n", "r", "p")}
    except (ValueError, KeyError, TypeError):
        raise damaged from None
    if params != SCRYPT:
        raise damaged
    aad = ENC_MAGIC + line
    aead = AESGCM(_key(passphrase, salt))
    counter = 0
    while True:
        size = src.read(4)
        if len(size) != 4:
            raise damaged  # ended before the final chunk
        sealed = src.read(struct.unpack(">I", size)[0])
        for final in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, counter, final), sealed, aad)
                break
            except InvalidTag:
                continue
        else:
            raise damaged
        dst.write(plain)
        if final:
            if src.read(1):
                raise damaged  # data after the final chunk
            return
        counter += 1


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """No lab account names or ids in the tar headers."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def encrypt_bag(bag: Path, target: Path, passphrase: str) -> Path:
    """``bag`` as one tar, encrypted under ``passphrase`` (AES-256-GCM, scrypt)."""
    with tempfile.TemporaryFile() as tar_file:
        with tarfile.open(fileobj=tar_file, mode="w") as tar:
            tar.add(bag, arcname=bag.name, filter=_anonymous)
        tar_file.seek(0)
        with atomic_path(target, SHARED_FILE) as tmp, open(tmp, "wb") as out:
            _encrypt_stream(tar_file, out, passphrase)
    return target


def decrypt_bag(enc: Path, out_dir: Path, passphrase: str) -> Path:
    """Decrypt and unpack an encrypted bag into ``out_dir``; returns the validated bag."""
    import bagit

    out_dir = make_dir(Path(out_dir), SHARED_DIR)
    with tempfile.TemporaryFile() as tar_file:
        try:
            with open(enc, "rb") as src:
                _decrypt_stream(src, tar_file, passphrase)
        except OSError as exc:
            raise PipelineError(f"{enc}: cannot be read ({exc.strerror}).") from None
        tar_file.seek(0)
        with tarfile.open(fileobj=tar_file, mode="r") as tar:
            tops = {Path(m.name).parts[0] for m in tar.getmembers() if m.name}
            if len(tops) != 1:
                raise PipelineError(f"{enc}: does not hold exactly one bag.")
            top = tops.pop()
            if (out_dir / top).exists():
                raise PipelineError(
                    f"{out_dir / top} already exists.", hint="Choose another --out folder."
                )
            tar.extractall(out_dir, filter="data")
    bag = out_dir / top
    try:
        bagit.Bag(str(bag)).validate(processes=1)
    except bagit.BagError as exc:
        raise PipelineError(
            f"{bag}: the decrypted bag did not validate ({type(exc).__name__})."
        ) from None
    return bag


def new_transfer_passphrase() -> str:
    return secrets.token_urlsafe(18)


# -- retention -----------------------------------------------------------------------


@dataclass
class PurgeResult:
    #: session id -> reason (handed off, older than N days, forced)
    purged: dict[str, str] = field(default_factory=dict)
    #: session id -> why it was kept
    kept: dict[str, str] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0


def session_age_days(session_root: Path, now: float | None = None) -> float:
    """Days since the session's audio was ingested (its ingest record, else its folder)."""
    rec = session_root / STAGE_DIRS["audio"] / "stage.json"
    when = (rec if rec.is_file() else session_root).stat().st_mtime
    return ((now or time.time()) - when) / 86400.0


def _identified_folders() -> list[str]:
    return [STAGE_DIRS[s] for s in IDENTIFIED_STAGES] + list(IDENTIFIED_FOLDERS)


def _identified_files(root: Path) -> list[Path]:
    """Raw audio and identified files of a session: its first stages and loose files."""
    out = [
        p
        for folder in _identified_folders()
        if (root / folder).is_dir()
        for p in sorted((root / folder).rglob("*"))
        if p.is_file() or p.is_symlink()
    ]
    out += [
        p
        for p in sorted(root.iterdir())
        if (p.is_file() or p.is_symlink()) and p.name != PURGED_MARK
    ]
    return out


def purge(
    work_root: Path,
    logs_dir: Path,
    *,
    sessions: Iterable[str] | None = None,
    older_than_days: float | None = None,
    force: bool = False,
    dry_run: bool = False,
    now: float | None = None,
) -> PurgeResult:
    """Remove raw audio and identified files of sessions handed off or past retention.

    Named ``sessions`` that qualify for neither are refused (an error) unless ``force``;
    without names, every session is looked at and the others are kept. Each deleted file
    is an audit entry (session id, file name inside the session folder, bytes).
    """
    work_root = Path(work_root)
    handed = audit.handed_off(logs_dir)
    named = [s.strip() for s in sessions if s.strip()] if sessions is not None else None
    if named is not None:
        missing = [s for s in named if not SESSION_ID.match(s) or not (work_root / s).is_dir()]
        if missing:
            raise PipelineError(
                f"no work folder for session(s) {', '.join(missing)} in {work_root}."
            )
        roots = [work_root / s for s in named]
    else:
        roots = sorted(p for p in work_root.iterdir() if p.is_dir()) if work_root.is_dir() else []
    result = PurgeResult()
    chosen: list[tuple[Path, str, list[Path]]] = []
    for root in roots:
        sid = root.name
        targets = _identified_files(root)
        if not targets:
            result.kept[sid] = "nothing identified left"
            continue
        age = session_age_days(root, now)
        if sid in handed:
            reason = "handed off"
        elif older_than_days is not None and age >= older_than_days:
            reason = f"older than {older_than_days:g} days"
        elif force:
            reason = "forced"
        else:
            result.kept[sid] = "not handed off" + (
                f", {age:.0f} of {older_than_days:g} days" if older_than_days is not None else ""
            )
            continue
        chosen.append((root, reason, targets))
    refused = [s for s in named or [] if result.kept.get(s, "").startswith("not handed off")]
    if refused:
        raise PipelineError(
            f"refused to purge session(s) {', '.join(refused)}: not handed off"
            + (f" and not older than {older_than_days:g} days" if older_than_days else "")
            + "; nothing was removed.",
            hint="Hand them off first, or pass --force to remove their identified files anyway.",
        )
    for root, reason, targets in chosen:
        sid = root.name
        result.purged[sid] = reason
        if dry_run:
            result.files += len(targets)
            result.bytes += sum(p.lstat().st_size for p in targets)
            continue
        removed = 0
        for p in targets:
            size = p.lstat().st_size
            p.unlink()
            rel = p.relative_to(root).as_posix()
            audit.append(logs_dir, "delete", session=sid, file=rel, bytes=size, reason=reason)
            removed += 1
            result.files += 1
            result.bytes += size
        for folder in _identified_folders():
            shutil.rmtree(root / folder, ignore_errors=True)
        write_json(root / PURGED_MARK, {"purged": audit.now(), "reason": reason, "files": removed})
        audit.append(logs_dir, "purge", session=sid, files=removed, reason=reason)
    return result
