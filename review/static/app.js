/* qscribe review: one page, no external assets. Identified data: served to 127.0.0.1 only. */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var TOKEN = params.get("token") || sessionStorage.getItem("qscribe-token") || "";
  if (TOKEN) sessionStorage.setItem("qscribe-token", TOKEN);
  if (params.has("token")) history.replaceState(null, "", "/" + location.hash);
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
  var S = { data: null, sid: null, words: [], current: null, selected: null, deid: false, canExport: false };
  var $ = function (id) { return document.getElementById(id); };
  var audio = $("audio");

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else if (k === "style") e.style.cssText = attrs[k]; /* CSSOM: allowed under the CSP */
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function say(text, error) {
    var m = $("message");
    m.textContent = text;
    m.className = error ? "error" : "";
    m.hidden = false;
    clearTimeout(say.t);
    say.t = setTimeout(function () { m.hidden = true; }, error ? 9000 : 3500);
  }

  function api(path, body) {
    var opts = { headers: { "X-Qscribe-Token": TOKEN }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = JSON.parse(t); } catch (e) { data = { error: t }; }
        if (!r.ok) {
          var err = new Error((data && data.error) || ("HTTP " + r.status));
          err.status = r.status;
          throw err;
        }
        return data;
      });
    });
  }

  function save(kind, body, done) {
    if (!S.data) return;
    body.version = S.data.version;
    $("busy").hidden = false;
    return api("/api/sessions/" + encodeURIComponent(S.sid) + "/" + kind, body).then(function (data) {
      $("busy").hidden = true;
      document.body.dataset.lastError = "";
      show(data);
      loadList();
      if (data.warning) say(data.warning, true); else say(done || "Saved.");
    }, function (err) {
      $("busy").hidden = true;
      say(err.message, true);
      document.body.dataset.lastError = String(err.status || "");
    });
  }

  function loadList() {
    return api("/api/sessions").then(function (d) {
      S.canExport = d.can_export;
      var ul = $("session-list");
      ul.textContent = "";
      d.sessions.forEach(function (s) {
        ul.appendChild(el("li", {
          class: s.id === S.sid ? "active" : "", "data-sid": s.id,
          onclick: function () { open(s.id); }
        }, [el("span", { class: "sid", text: s.id }), el("span", { class: "st", text: s.status })]));
      });
      $("app").hidden = false;
      if (!S.sid && d.sessions.length) {
        var want = decodeURIComponent(location.hash.slice(1));
        open(d.sessions.some(function (s) { return s.id === want; }) ? want : d.sessions[0].id);
      }
    }, function (err) { document.body.dataset.denied = "1"; document.body.textContent = err.message; });
  }

  function open(sid) {
    S.sid = sid;
    location.hash = encodeURIComponent(sid);
    return api("/api/sessions/" + encodeURIComponent(sid)).then(function (data) {
      var same = S.data && S.data.session_id === sid;
      show(data);
      if (!same) {
        audio.src = data.audio ? "/api/sessions/" + encodeURIComponent(sid) + "/audio" : "";
        S.selected = null;
        renderWord();
      }
      Array.prototype.forEach.call($("session-list").children, function (li) {
        li.className = li.dataset.sid === sid ? "active" : "";
      });
    }, function (err) { say(err.message, true); });
  }

  function colour(voice) {
    var ids = (S.data.voices || []).map(function (v) { return v.id; });
    var i = ids.indexOf(voice);
    return PALETTE[(i < 0 ? ids.length : i) % PALETTE.length];
  }

  function show(data) {
    S.data = data;
    document.body.dataset.version = data.version;
    $("empty").hidden = true;
    $("session").hidden = false;
    $("title").textContent = data.session_id;
    $("status").textContent = data.status.status;
    $("export").hidden = !S.canExport;
    renderTranscript();
    renderVoices();
    renderRules();
    drawTimeline();
    if (S.selected) {
      var again = S.words.filter(function (w) { return Math.abs(w.data.start - S.selected.start) < 0.001; })[0];
      S.selected = again ? again.data : null;
      S.selectedTurn = again ? again.turn : null;
      if (again) again.node.classList.add("selected");
    }
    renderWord();
  }

  function codeChips(turn) {
    var box = el("div", { class: "codes" });
    (turn.codes || []).forEach(function (c) {
      var chip = el("span", { class: "code " + c.state, "data-code": c.code, "data-state": c.state,
        title: c.method ? c.method + (c.score != null ? " " + c.score.toFixed(2) : "") : "" },
        [document.createTextNode(c.code)]);
      function act(action, label) {
        return el("button", { type: "button", class: "code-" + action, text: label, onclick: function () {
          save("codes", { segment_id: turn.code_segment, code: c.code, action: action }, "Code " + action + "ed.");
        } });
      }
      if (c.state === "suggested" || c.state === "rejected") chip.appendChild(act("accept", "\u2713"));
      if (c.state === "suggested" || c.state === "accepted") chip.appendChild(act("reject", "\u2717"));
      if (c.state === "added") chip.appendChild(act("remove", "\u2717"));
      box.appendChild(chip);
    });
    if (turn.code_segment != null && S.data.codebook.length) {
      var sel = el("select", { class: "add-code", "aria-label": "add a code" },
        [el("option", { value: "", text: "+ code" })].concat(S.data.codebook.map(function (c) {
          return el("option", { value: c.id, text: c.id + " " + c.label });
        })));
      sel.addEventListener("change", function () {
        if (sel.value) save("codes", { segment_id: turn.code_segment, code: sel.value, action: "add" }, "Code added.");
      });
      box.appendChild(sel);
    }
    return box;
  }

  function renderTranscript() {
    var box = $("transcript");
    box.textContent = "";
    S.words = [];
    S.current = null;
    var turns = S.deid ? S.data.deid_turns : S.data.turns;
    if (S.deid && !S.data.deidentified) {
      box.appendChild(el("p", { class: "note", text: "Not de-identified yet." }));
      return;
    }
    turns.forEach(function (turn) {
      var p = el("p");
      turn.words.forEach(function (w) {
        var red = !S.deid && w.tag;
        var span = el("span", { class: "w" + (red ? " red" : ""), "data-start": w.start, "data-end": w.end });
        span.textContent = w.text;
        if (red) span.title = "replaced by " + w.tag;
        span.addEventListener("click", function () { select(w, span, turn); seek(w.start); });
        p.appendChild(span);
        if (red && w.tag_first) p.appendChild(el("span", { class: "pseudo", text: w.tag }));
        p.appendChild(document.createTextNode(" "));
        S.words.push({ start: w.start, end: w.end, node: span, data: w, turn: turn });
      });
      var who = el("div", { class: "who" }, [
        el("span", { class: "label", text: turn.label }),
        el("span", { class: "role", text: turn.role || "" }),
        el("span", { class: "time", text: clock(turn.start) })]);
      box.appendChild(el("div", { class: "turn", "data-speaker": turn.speaker || "", style: "border-left-color:" + colour(turn.speaker) },
        [who, p, codeChips(turn)]));
    });
    S.words.sort(function (a, b) { return a.start - b.start; });
  }

  function clock(t) {
    t = Math.max(0, Math.floor(t));
    var h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
    return (h ? h + ":" : "") + (h && m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function select(w, span, turn) {
    Array.prototype.forEach.call(document.querySelectorAll(".w.selected"), function (n) { n.classList.remove("selected"); });
    span.classList.add("selected");
    S.selected = w;
    S.selectedTurn = turn;
    renderWord();
  }

  function renderWord() {
    var w = S.selected;
    $("word-none").hidden = !!w;
    $("word-box").hidden = !w;
    if (!w) return;
    var turn = S.selectedTurn;
    var info = "\u201c" + w.text + "\u201d at " + clock(w.start) + " (" + w.start.toFixed(2) + " s)";
    if (w.tag) info += ", replaced by " + w.tag;
    $("word-info").textContent = info;
    $("fix-text").value = w.text;
    var editable = !S.deid;
    ["fix-save", "missed-save", "allow-save", "move-turn", "move-rest"].forEach(function (id) { $(id).disabled = !editable; });
    $("missed-row").hidden = !!w.tag;
    $("allow-row").hidden = !w.tag;
    var mp = $("missed-person");
    mp.textContent = "";
    mp.appendChild(el("option", { value: "", text: "(not a manifest person)" }));
    S.data.people.forEach(function (p) { mp.appendChild(el("option", { value: p.id, text: p.id + " " + p.name })); });
    var mv = $("move-voice");
    mv.textContent = "";
    S.data.voices.forEach(function (v) {
      if (!turn || v.id !== turn.speaker) mv.appendChild(el("option", { value: v.id, text: v.label + " (" + v.id + ")" }));
    });
  }

  function tagWords(w) {
    /* the identified words one pseudonym replaced: the run of words with its tag, from its first */
    var ws = S.selectedTurn.words, k = ws.indexOf(w);
    while (k > 0 && !ws[k].tag_first && ws[k - 1].tag === w.tag) k--;
    var out = [ws[k]];
    for (var n = k + 1; n < ws.length && ws[n].tag === w.tag && !ws[n].tag_first; n++) out.push(ws[n]);
    return out;
  }

  function renderVoices() {
    var box = $("voices");
    box.textContent = "";
    var people = S.data.people;
    S.data.voices.forEach(function (v) {
      var ans = S.data.answers[v.id] || {};
      var role = el("select", { class: "voice-role", "aria-label": "role" },
        ["", "facilitator", "staff", "member", "unknown"].map(function (r) {
          var o = el("option", { value: r, text: r || "(role)" });
          if ((ans.role || "") === r) o.selected = true;
          return o;
        }));
      var person = el("select", { class: "voice-person", "aria-label": "person" },
        [el("option", { value: "", text: "(person)" })].concat(people.map(function (p) {
          var o = el("option", { value: p.id, text: p.id + " " + p.name + " (" + p.role + ")" });
          if ((ans.person || v.person || "") === p.id && ans.person) o.selected = true;
          return o;
        })));
      var apply = el("button", { type: "button", class: "voice-save", text: "Save", onclick: function () {
        var a = {}; a[v.id] = { role: role.value || null, person: person.value || null };
        save("speakers", { answers: a }, "Speaker saved; transcript updated.");
      } });
      var merge = el("select", { class: "voice-merge", "aria-label": "merge into" },
        [el("option", { value: "", text: "merge into\u2026" })].concat(S.data.voices.filter(function (o) { return o.id !== v.id; }).map(function (o) {
          return el("option", { value: o.id, text: o.label });
        })));
      merge.addEventListener("change", function () {
        if (merge.value) save("speakers", { merge: { voice: v.id, into: merge.value } }, "Voices merged.");
      });
      box.appendChild(el("div", { class: "voice", "data-voice": v.id }, [
        el("span", { class: "swatch", style: "background:" + colour(v.id) }),
        el("div", {}, [el("strong", { class: "voice-label", text: v.label }),
          document.createTextNode(" " + (v.role || "") + (v.person ? " \u00b7 " + v.person : "") + " \u00b7 " + v.id +
            (v.talk_time != null ? " \u00b7 " + clock(v.talk_time) : ""))]),
        el("div", { class: "controls" }, [role, person, apply, merge])]));
    });
  }

  function renderRules() {
    var ul = $("rules");
    ul.textContent = "";
    var r = S.data.rules;
    r.missed.forEach(function (m, i) {
      ul.appendChild(el("li", {}, [document.createTextNode("missed " + m.kind + ": " + m.text + (m.person ? " (" + m.person + ")" : "") + " "),
        el("button", { type: "button", text: "undo", onclick: function () { save("redactions", { remove_missed: i }); } })]));
    });
    r.allow.forEach(function (a) {
      ul.appendChild(el("li", {}, [document.createTextNode("not a name: " + a + " "),
        el("button", { type: "button", text: "undo", onclick: function () { save("redactions", { remove_allow: a }); } })]));
    });
    if (!r.missed.length && !r.allow.length) ul.appendChild(el("li", { class: "note", text: "none" }));
  }

  function drawTimeline() {
    var c = $("timeline");
    var w = c.clientWidth || 800;
    c.width = w;
    var ctx = c.getContext("2d");
    var d = S.data, dur = d.duration || 1;
    var voices = d.voices.map(function (v) { return v.id; });
    var rows = Math.max(voices.length, 1), rh = (c.height - 4) / rows;
    ctx.clearRect(0, 0, w, c.height);
    d.turns.forEach(function (t) {
      var r = Math.max(voices.indexOf(t.speaker), 0);
      ctx.fillStyle = colour(t.speaker);
      ctx.fillRect(t.start / dur * w, 2 + r * rh, Math.max((t.end - t.start) / dur * w, 1), rh - 2);
    });
    var x = (audio.currentTime || 0) / dur * w;
    ctx.fillStyle = "#000";
    ctx.fillRect(x, 0, 2, c.height);
  }

  function seek(t) {
    audio.currentTime = t;
    highlight();
  }

  function highlight() {
    var t = audio.currentTime, ws = S.words, lo = 0, hi = ws.length - 1, found = null;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (ws[mid].start <= t + 1e-3) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    var cur = found != null && t < ws[found].end + 0.25 ? ws[found] : null;
    if (cur !== S.current) {
      if (S.current) S.current.node.classList.remove("current");
      if (cur) {
        cur.node.classList.add("current");
        if (!audio.paused) {
          var r = cur.node.getBoundingClientRect();
          if (r.top < 180 || r.bottom > innerHeight - 20) cur.node.scrollIntoView({ block: "center" });
        }
      }
      S.current = cur;
    }
    if (S.data) drawTimeline();
  }

  function loop() { highlight(); if (!audio.paused) requestAnimationFrame(loop); }
  audio.addEventListener("play", loop);
  audio.addEventListener("seeked", highlight);
  audio.addEventListener("timeupdate", highlight);

  $("timeline").addEventListener("click", function (e) {
    var r = this.getBoundingClientRect();
    if (S.data) seek((e.clientX - r.left) / r.width * (S.data.duration || 0));
  });

  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (/INPUT|SELECT|TEXTAREA|BUTTON/.test(tag) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.code === "Space") { e.preventDefault(); if (audio.paused) audio.play(); else audio.pause(); }
    else if (e.code === "ArrowLeft" || e.code === "KeyJ") { e.preventDefault(); seek(Math.max(0, audio.currentTime - 5)); }
    else if (e.code === "ArrowRight" || e.code === "KeyL") { e.preventDefault(); seek(audio.currentTime + 5); }
  });

  $("deid-view").addEventListener("change", function () {
    S.deid = this.checked;
    S.selected = null;
    renderTranscript();
    renderWord();
  });

  $("fix-save").addEventListener("click", function () {
    var w = S.selected, words = [w];
    if ($("fix-line").checked) words = S.selectedTurn.words;
    else if (w.tag) words = tagWords(w);
    save("text", { start: words[0].start, end: words[words.length - 1].end, text: $("fix-text").value },
      "Correction saved; transcript updated.");
  });

  $("missed-save").addEventListener("click", function () {
    var text = $("fix-text").value.replace(/^[^\w]+|[^\w]+$/g, "");
    save("redactions", { missed: { text: text, kind: $("missed-kind").value, person: $("missed-person").value || null } },
      "Name added to the session's roster; de-identification reran.");
  });

  $("allow-save").addEventListener("click", function () {
    var text = tagWords(S.selected).map(function (x) { return x.text; }).join(" ").replace(/^[^\w]+|[^\w]+$/g, "");
    save("redactions", { allow: text }, "Marked as not a name; de-identification reran.");
  });

  function move(rest) {
    var w = S.selected, turn = S.selectedTurn;
    var start = rest ? w.start : turn.words[0].start;
    save("speakers", { move: { start: start, end: turn.end + 0.001, voice: $("move-voice").value } }, "Words moved.");
  }
  $("move-turn").addEventListener("click", function () { move(false); });
  $("move-rest").addEventListener("click", function () { move(true); });

  $("mark-checked").addEventListener("click", function () {
    save("state", { redactions_checked: true }, "Redactions marked as checked.");
  });
  $("export").addEventListener("click", function () {
    $("busy").hidden = false;
    api("/api/sessions/" + encodeURIComponent(S.sid) + "/export", {}).then(function (d) {
      $("busy").hidden = true;
      say("Exported (leak gate passed): " + d.path);
    }, function (err) { $("busy").hidden = true; say(err.message, true); });
  });
  addEventListener("resize", function () { if (S.data) drawTimeline(); });

  if (!TOKEN) { document.body.dataset.denied = "1"; return; }
  loadList();
})();
