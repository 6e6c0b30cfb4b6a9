"""The de-identified view as one self-contained HTML file per session (for the hand-off).

No server, no external asset: the styles and the script are inline, the transcript is
built from the de-identified transcript only, and the de-identified audio (only when
``05_deid/audio.deid.m4a`` exists) is embedded in a letters-only base32 text the script
decodes, so it carries no digit runs or words the leak gate would have to guess about.
The file is written in the restricted folder first, passes the leak gate there, and only
then is copied to its place (0640, atomically).
"""

from __future__ import annotations

import base64
import html
import shutil
from pathlib import Path

from pipeline import corrections as layers
from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest
from pipeline.transcript import Transcript
from pipeline.workdir import SHARED_DIR, SHARED_FILE, SessionDir, atomic_path, make_dir, write_text
from pipeline.writers import clock, speaker_labels

#: RFC 4648 base32 with its digits 2-7 written as letters: the text is one word of letters.
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #d5d9de;padding:.6em 1em}
h1{font-size:1.1em;margin:0 0 .3em}main{max-width:52em;margin:1em auto;padding:0 1em}
.turn{background:#fff;border-left:6px solid #888;margin:.6em 0;padding:.4em .8em;border-radius:4px}
.who{font-size:.8em;font-weight:600;color:#444}.w{cursor:pointer;border-radius:3px}
.w.now{background:#ffe27a}.tag{color:#7a2e9e;font-weight:600}audio{width:100%}
.note{font-size:.8em;color:#555}
"""

SCRIPT = """
(function(){
var A=document.getElementById('a');var box=document.getElementById('audio-data');
if(box&&A){var L='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef',s=box.textContent.trim(),
out=new Uint8Array(Math.floor(s.length*5/8)),bits=0,val=0,j=0;
for(var i=0;i<s.length;i++){val=(val<<5)|L.indexOf(s[i]);bits+=5;
if(bits>=8){out[j++]=(val>>(bits-8))&255;bits-=8;}}
A.src=URL.createObjectURL(new Blob([out.subarray(0,j)],{type:'audio/mp4'}));}
var ws=Array.prototype.slice.call(document.querySelectorAll('.w'));
ws.forEach(function(w){w.addEventListener('click',function(){if(A&&A.src){
A.currentTime=parseFloat(w.dataset.s);A.play();}});});
var last=null;function tick(){if(!A)return;var t=A.currentTime,cur=null;
for(var i=0;i<ws.length;i++){var w=ws[i];if(parseFloat(w.dataset.s)<=t&&t<parseFloat(w.dataset.e)){cur=w;break;}}
if(cur!==last){if(last)last.classList.remove('now');if(cur)cur.classList.add('now');last=cur;}
if(!A.paused)requestAnimationFrame(tick);}
if(A){A.addEventListener('play',tick);A.addEventListener('seeked',tick);}
document.addEventListener('keydown',function(e){if(!A||!A.src)return;
if(e.code==='Space'){e.preventDefault();A.paused?A.play():A.pause();}
if(e.code==='ArrowLeft'){A.currentTime=Math.max(0,A.currentTime-5);}});
})();
"""

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]


def letters32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").translate(str.maketrans(B32, LETTERS))


def render(t: Transcript, audio: bytes | None = None) -> str:
    """The page of a de-identified transcript (refused for an identified one)."""
    if not t.deidentified:
        raise PipelineError(f"session {t.session_id}: only a de-identified transcript is exported.")
    labels = speaker_labels(t)
    colours: dict[str, str] = {}
    parts: list[str] = []
    last = object()
    for seg in t.segments:
        if not seg.text.strip():
            continue
        if seg.speaker != last:
            if parts:
                parts.append("</p></div>")
            last = seg.speaker
            colour = colours.setdefault(str(seg.speaker), PALETTE[len(colours) % len(PALETTE)])
            label = labels.get(seg.speaker or "", seg.speaker) or "SPEAKER"
            role = f" ({seg.role})" if seg.role and seg.role != "unknown" else ""
            parts.append(
                f'<div class="turn" style="border-left-color:{colour}"><div class="who">'
                f"{html.escape(label)}{html.escape(role)} "
                f'<span class="note">{clock(seg.start, ms=False)}</span></div><p>'
            )
        words = seg.words or []
        if not words:
            parts.append(html.escape(seg.text.strip()) + " ")
        for w in words:
            cls = "w tag" if layers_tag(w.text) else "w"
            parts.append(
                f'<span class="{cls}" data-s="{w.start:.2f}" data-e="{w.end:.2f}">'
                f"{html.escape(w.text)}</span> "
            )
    if parts:
        parts.append("</p></div>")
    player = (
        '<audio id="a" controls></audio>'
        if audio
        else '<p class="note">No de-identified audio was made for this session.</p>'
    )
    data = f'<script type="text/plain" id="audio-data">{letters32(audio)}</script>' if audio else ""
    title = html.escape(f"{t.session_id}: de-identified transcript")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{title}</h1>{player}"
        '<div class="note">Click a word to play from it; Space plays or pauses, '
        "the left arrow goes back 5 seconds.</div></header>"
        f"<main>{''.join(parts)}</main>{data}<script>{SCRIPT}</script></body></html>\n"
    )


def layers_tag(text: str) -> bool:
    from review.store import TAG

    return bool(TAG.search(text))


def export_session(session: SessionDir, manifest: SessionManifest | None, target: Path) -> Path:
    """Render, gate and place ``target``; a gate hit leaves nothing outside the work area."""
    from pipeline.deid.gate import scan_files

    src = session.root / "05_deid" / "transcript.json"
    if not src.is_file():
        raise PipelineError(f"session {session.session_id}: not de-identified yet.")
    t = Transcript.load(src)
    audio_path = session.root / "05_deid" / "audio.deid.m4a"
    audio = audio_path.read_bytes() if audio_path.is_file() else None
    staging = make_dir(session.root / "review")
    tmp = write_text(staging / "export.html", render(t, audio))
    try:
        roster = layers.session_roster(manifest, layers.read_deid_rules(session.root))
        hits = scan_files([tmp], roster, label=session.session_id)
        if hits:
            raise PipelineError(
                f"leak gate blocked the HTML of session {session.session_id}: {len(hits)} "
                f"possible identifier(s) ({'; '.join(str(h) for h in hits[:3])}); nothing was "
                "written.",
                hint="Mark the missed names in the review, then export again.",
            )
        make_dir(target.parent, SHARED_DIR)
        with atomic_path(target, SHARED_FILE) as out:
            shutil.copyfile(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return target
