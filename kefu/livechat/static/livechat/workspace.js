/* 接待台: the agent's live workspace. State comes from /api/v1/live/…; changes arrive on the
   event stream /live/stream (SSE). EventSource reconnects by itself after a network drop or a
   server restart and sends Last-Event-ID; the server replays what was missed, in order, and this
   page drops event ids and message ids it already has, so nothing shows twice. */
(function () {
  "use strict";
  var root = document.getElementById("lw");
  if (!root) { return; }
  var S = root.dataset, T = JSON.parse(document.getElementById("lw-i18n").textContent);
  var ME = +S.me, WHOLE = S.whole === "1";
  var $ = function (id) { return document.getElementById(id); };
  var chats = new Map(), open = null, msgs = new Map(), seenEvents = new Set(), es = null, eventId = 0;
  var touched = new Map();  // conversation id → id of the last event applied to it
  var lastTyping = 0, typingTimer = null, listTimer = null, scriptItems = [], scriptPick = 0, TITLE = document.title;

  function q(path) { return path + (path.indexOf("?") < 0 ? "?" : "&") + "shop=" + encodeURIComponent(S.shop); }
  function call(method, path, body, form) {
    var h = { "X-CSRFToken": S.csrf };
    if (body && !form) { h["Content-Type"] = "application/json"; }
    return fetch(q(path), { method: method, headers: h, credentials: "same-origin",
                            body: form ? body : (body ? JSON.stringify(body) : undefined) })
      .then(function (r) { return r.text().then(function (t) { var d = null; try { d = t ? JSON.parse(t) : null; } catch (e) { d = null; } return { ok: r.ok, status: r.status, data: d }; }); });
  }
  function uid() { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/-/g, ""); }
  // Times in the shop's time zone, whatever the browser's clock says.
  function hhmm(iso) { return new Date(iso).toLocaleTimeString("en-GB", { timeZone: S.tz || undefined, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); }
  function dur(s) {
    if (s < 60) { return s + " " + T.sec; }
    if (s < 3600) { return Math.floor(s / 60) + " " + T.min + " " + (s % 60) + " " + T.sec; }
    return Math.floor(s / 3600) + " " + T.hour + " " + Math.floor((s % 3600) / 60) + " " + T.min;
  }
  function showError(t) { var e = $("lw-error"); e.textContent = t || ""; e.hidden = !t; }
  function errText(r) { var d = r.data || {}; return (d.field ? d.field + ": " : "") + (d.message || ("HTTP " + r.status)); }

  // ---------------------------------------------------------------- the list
  function renderList() {
    var ul = $("lw-chats"), items = Array.from(chats.values());
    items.sort(function (a, b) { return (b.ended_at || "").localeCompare(a.ended_at || ""); });
    ul.innerHTML = "";
    items.forEach(function (c) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button"; b.className = "lw-chat-item" + (open === c.conversation_id ? " active" : "");
      b.dataset.id = c.conversation_id;
      var l1 = document.createElement("span"), name = document.createElement("b"), right = document.createElement("span");
      l1.className = "lw-line"; name.textContent = c.buyer_nick; l1.appendChild(name);
      if (c.queued) { var qb = document.createElement("span"); qb.className = "badge bg-yellow-lt"; qb.textContent = T.queued; right.appendChild(qb); }
      if (c.unread > 0) { var u = document.createElement("span"); u.className = "lw-unread"; u.textContent = c.unread; right.appendChild(u); }
      l1.appendChild(right);
      var l2 = document.createElement("span"); l2.className = "lw-line";
      var last = document.createElement("span"); last.className = "lw-last"; last.textContent = c.last_text; l2.appendChild(last);
      if (c.waiting_since) { var w = document.createElement("span"); w.className = "lw-wait"; w.dataset.since = c.waiting_since; w.textContent = T.waiting + " " + dur(Math.max(0, Math.round((Date.now() - Date.parse(c.waiting_since)) / 1000))); l2.appendChild(w); }
      b.appendChild(l1); b.appendChild(l2);
      b.onclick = function () { openChat(c.conversation_id); };
      li.appendChild(b); ul.appendChild(li);
    });
    $("lw-count").textContent = items.length;
    $("lw-empty").hidden = items.length > 0;
    var unread = items.reduce(function (n, c) { return n + c.unread; }, 0);
    document.title = (unread ? "(" + unread + ") " : "") + TITLE;
  }
  function loadList() {
    var since = eventId;
    return call("GET", "/api/v1/live/chats").then(function (r) {
      if (!r.ok) { return; }
      var fresh = new Map();
      r.data.chats.forEach(function (c) { fresh.set(c.conversation_id, c); });
      // An answer read before events the page has applied since (a new chat, a message, a read
      // mark, a close) must not undo them: for those chats the page's own state stands.
      touched.forEach(function (evId, id) {
        if (evId <= since) { touched.delete(id); return; }
        if (chats.has(id)) { fresh.set(id, chats.get(id)); } else { fresh.delete(id); }
      });
      fresh.forEach(function (c, id) { if (!chats.has(id) && eventId) { alertNew(c); } });
      chats = fresh;
      if (!eventId) { eventId = r.data.event_id; }
      renderList();
      if (open && !chats.has(open)) { markGone(); }
    });
  }
  function loadListSoon() { clearTimeout(listTimer); listTimer = setTimeout(loadList, 150); }
  setInterval(function () {  // waiting clocks tick; a safety refresh every 5 minutes
    Array.prototype.forEach.call(document.querySelectorAll(".lw-wait[data-since]"), function (w) {
      w.textContent = T.waiting + " " + dur(Math.max(0, Math.round((Date.now() - Date.parse(w.dataset.since)) / 1000)));
    });
  }, 1000);
  setInterval(loadList, 300000);

  // ---------------------------------------------------------------- notifications
  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.15; o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.25);
    } catch (e) { /* no sound device */ }
  }
  function alertNew(c) {
    beep();
    if (window.Notification && Notification.permission === "granted" && document.visibilityState !== "visible") {
      var n = new Notification(T.newChat + "：" + c.buyer_nick, { body: c.last_text || "", tag: "kefu-chat-" + c.conversation_id });
      n.onclick = function () { window.focus(); openChat(c.conversation_id); };
    }
  }
  $("lw-notify").onclick = function () {
    if (window.Notification) { Notification.requestPermission(); }
    beep();
  };

  // ---------------------------------------------------------------- the open chat
  function bubble(m) {
    var row = document.createElement("div");
    if (m.sender === "system") { row.className = "lw-sys"; row.textContent = m.text; return row; }
    var mine = m.sender === "agent" || m.sender === "bot";
    row.className = "lw-row" + (mine ? " mine" : "");
    var b = document.createElement("div"); b.className = "lw-bubble";
    var who = document.createElement("span"); who.className = "lw-who";
    who.textContent = m.sender === "buyer" ? T.buyer : (m.sender === "bot" ? T.bot : (m.agent || T.you));
    b.appendChild(who);
    if (m.images && m.images.length) {
      m.images.forEach(function (im) {
        var a = document.createElement("a"), img = document.createElement("img");
        a.href = "/live/images/" + im.id; a.target = "_blank"; a.rel = "noopener";
        img.src = "/live/images/" + im.id + "?thumb=1"; img.alt = T.image; a.appendChild(img); b.appendChild(a);
      });
    } else { b.appendChild(document.createTextNode(m.text)); }
    var meta = document.createElement("span"); meta.className = "lw-meta"; meta.textContent = hhmm(m.sent_at);
    if (mine) { meta.dataset.pk = m.pk; }
    b.appendChild(meta); row.appendChild(b); row.dataset.pk = m.pk;
    return row;
  }
  function readMarks() {
    var c = chats.get(open); if (!c) { return; }
    Array.prototype.forEach.call($("lw-log").querySelectorAll(".lw-meta[data-pk]"), function (m) {
      m.textContent = m.textContent.split(" · ")[0] + " · " + (+m.dataset.pk <= (c.buyer_read_pk || 0) ? T.read : T.unread);
    });
  }
  function appendMessage(m) {
    if (msgs.has(m.pk)) { return false; }
    msgs.set(m.pk, m);
    var log = $("lw-log"), el = bubble(m), after = null;
    Array.prototype.some.call(log.children, function (x) { if (x.dataset.pk && +x.dataset.pk > m.pk) { after = x; return true; } return false; });
    log.insertBefore(el, after);
    log.scrollTop = log.scrollHeight;
    return true;
  }
  function appendNote(n) {
    var d = document.createElement("div"); d.className = "lw-note";
    d.textContent = T.note + " · " + n.author + " · " + hhmm(n.created_at) + "：" + n.text;
    $("lw-log").appendChild(d); $("lw-log").scrollTop = $("lw-log").scrollHeight;
  }
  function markRead() {
    var c = chats.get(open);
    if (!c || document.visibilityState !== "visible") { return; }
    var last = 0; msgs.forEach(function (m, pk) { if (pk > last) { last = pk; } });
    if (last > (c.read_pk || 0)) {
      c.read_pk = last; c.unread = 0; renderList();
      call("POST", "/api/v1/live/chats/" + open + "/read", { message_pk: last });
    }
  }
  function openChat(id) {
    open = id; msgs = new Map(); showError("");
    $("lw-log").innerHTML = ""; $("lw-typing").hidden = true;
    renderList();
    return call("GET", "/api/v1/live/chats/" + id).then(function (r) {
      if (!r.ok || open !== id) { if (!r.ok) { showError(errText(r)); } return; }
      var c = r.data.chat; chats.set(id, Object.assign(chats.get(id) || {}, c));
      $("lw-buyer").textContent = c.buyer_nick + (c.buyer_nick !== c.buyer_id ? " · " + c.buyer_id : "");
      $("lw-actions").hidden = false; $("lw-form").hidden = !r.data.may_act;
      $("lw-take").hidden = !(c.queued || (!c.assignee_id && !r.data.may_act) || (WHOLE && c.assignee_id !== ME));
      $("lw-channel").textContent = c.channel === "webchat" ? T.webchat : T.platform;
      r.data.messages.forEach(appendMessage);
      r.data.notes.forEach(appendNote);
      readMarks(); markRead();
      if (window.htmx) { htmx.ajax("GET", "/live/chats/" + id + "/side", { target: "#lw-side", swap: "innerHTML" }); }
      $("lw-text").focus();
    });
  }
  function markGone(text) {
    if ($("lw-log").querySelector(".lw-gone")) { return; }  // said once per opened chat
    $("lw-form").hidden = true; $("lw-actions").hidden = true;
    var d = document.createElement("div"); d.className = "lw-sys lw-gone"; d.textContent = text || T.transferred;
    $("lw-log").appendChild(d);
  }

  // ---------------------------------------------------------------- the stream
  function handle(ev) {
    if (seenEvents.has(ev.id)) { return; }
    seenEvents.add(ev.id);
    if (seenEvents.size > 20000) { seenEvents = new Set(Array.from(seenEvents).slice(-10000)); }
    eventId = Math.max(eventId, ev.id);
    // typing and notes leave the list as it is: an answer newer than them stands for their chat
    if (ev.conversation_id && ev.kind !== "typing" && ev.kind !== "note") { touched.set(ev.conversation_id, ev.id); }
    var c = ev.conversation_id && chats.get(ev.conversation_id);
    if (ev.kind === "message") {
      var m = ev.message;
      if (!c && ev.conversation_id && m.sender === "buyer") {
        // A new chat: show it at once from the event, then fill in the details from the list.
        c = { conversation_id: ev.conversation_id, customer_id: ev.customer_id, buyer_id: ev.buyer, buyer_nick: ev.buyer,
              channel: m.channel, group: ev.group, assignee_id: ev.agent_id, queued: !!ev.queued, last_text: "",
              ended_at: m.sent_at, unread: 0, read_pk: 0, buyer_read_pk: 0, waiting_since: null, last_pk: 0 };
        chats.set(ev.conversation_id, c);
        alertNew(c);
        loadListSoon();
      }
      if (!c) { loadListSoon(); return; }
      c.last_text = m.text.slice(0, 80); c.ended_at = m.sent_at; c.last_pk = m.pk;
      if (m.sender === "buyer") {
        if (!c.waiting_since) { c.waiting_since = m.sent_at; }
        if (open === ev.conversation_id && appendMessage(m)) { markRead(); } else if (open !== ev.conversation_id) { c.unread += 1; beep(); }
        $("lw-typing").hidden = true;
      } else {
        if (m.sender === "agent") { c.waiting_since = null; }
        if (open === ev.conversation_id) { appendMessage(m); readMarks(); }
      }
      renderList();
    } else if (ev.kind === "assigned") {
      if (ev.prev_agent_id === ME && ev.agent_id !== ME && !WHOLE) { chats.delete(ev.conversation_id); renderList(); if (open === ev.conversation_id) { markGone(); } }
      else { loadListSoon(); if (open === ev.conversation_id) { openChat(open); } }
    } else if (ev.kind === "closed") {
      if (ev.closed) { chats.delete(ev.conversation_id); renderList(); if (open === ev.conversation_id) { var d = document.createElement("div"); d.className = "lw-sys"; d.textContent = T.closed; $("lw-log").appendChild(d); $("lw-form").hidden = true; } }
      else { loadListSoon(); }
    } else if (ev.kind === "typing" && ev.who === "buyer" && open === ev.conversation_id) {
      $("lw-typing").hidden = !ev.typing; clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { $("lw-typing").hidden = true; }, 6000);
    } else if (ev.kind === "read" && c) {
      if (ev.who === "buyer") { c.buyer_read_pk = Math.max(c.buyer_read_pk || 0, ev.message_pk); if (open === ev.conversation_id) { readMarks(); } }
      else if (ev.reader_id === ME) { c.read_pk = Math.max(c.read_pk || 0, ev.message_pk); c.unread = 0; renderList(); }
    } else if (ev.kind === "note" && open === ev.conversation_id) {
      appendNote(ev.note);
    } else if (ev.kind === "spam") {  // flagged or reported (gone); a rejected report brings the chat back
      if (ev.decided === "rejected") { loadListSoon(); }
      else if (chats.has(ev.conversation_id)) { chats.delete(ev.conversation_id); renderList(); if (open === ev.conversation_id) { markGone(ev.pending ? T.reported : null); } }
    } else if (ev.kind === "presence" && ev.agent_id === ME) {  // e.g. set away automatically, back online
      Array.prototype.forEach.call(document.querySelectorAll("#my-status button[name=status]"), function (b) {
        var on = b.value === ev.status;
        b.classList.toggle("active", on); b.classList.toggle(b.dataset.onClass, on); b.classList.toggle("btn-outline-secondary", !on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
      });
    } else if (ev.kind === "rating" && open === ev.conversation_id) {
      var s = document.createElement("div"); s.className = "lw-sys"; s.textContent = T.rated; $("lw-log").appendChild(s);
    }
  }
  function conn(state, text) { var e = $("lw-conn"); e.dataset.state = state; e.textContent = text; }
  function connect() {
    if (es) { es.close(); }
    es = new EventSource("/live/stream?workspace=1&after=" + eventId);
    es.onmessage = function (e) { try { handle(JSON.parse(e.data)); } catch (err) { /* skip a bad frame */ } };
    es.addEventListener("hello", function () { conn("up", T.connected); });
    es.addEventListener("reset", function () { es.close(); eventId = 0; touched.clear(); loadList().then(function () { if (open) { openChat(open); } connect(); }); });
    es.onerror = function () {
      conn("down", T.reconnecting);
      if (es.readyState === 2) { setTimeout(connect, 3000); }  // e.g. logged out: try again, the page will show
    };
  }

  // ---------------------------------------------------------------- sending
  var form = $("lw-form"), text = $("lw-text");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = text.value.trim(), id = open;
    if (!t || !id) { return; }
    $("lw-send").disabled = true; showError("");
    call("POST", "/api/v1/conversations/" + id + "/reply", { text: t, key: uid() }).then(function (r) {
      $("lw-send").disabled = false;
      if (!r.ok) { showError(errText(r)); return; }
      text.value = "";
      if (r.data.state !== "sent") { showError(T.outbox); }
      var c = chats.get(id); if (c) { c.waiting_since = null; renderList(); }
    }, function () { $("lw-send").disabled = false; showError(T.reconnecting); });
  });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    if (e.key === "/" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); openScripts(); }
  });
  text.addEventListener("input", function () {
    var now = Date.now();
    if (open && text.value && now - lastTyping > 3000) { lastTyping = now; call("POST", "/api/v1/live/chats/" + open + "/typing", { typing: true }); }
  });
  $("lw-file").addEventListener("change", function () {
    var f = this.files[0]; this.value = "";
    if (!f || !open) { return; }
    if (f.size > +S.maxMb * 1024 * 1024) { showError(T.image + " > " + S.maxMb + " MB"); return; }
    var fd = new FormData(); fd.append("file", f); fd.append("client_id", uid());
    call("POST", "/api/v1/live/chats/" + open + "/images", fd, true).then(function (r) { if (!r.ok) { showError(errText(r)); } });
  });

  // ---------------------------------------------------------------- actions
  function act(path, body, confirmText) {
    if (!open || (confirmText && !window.confirm(confirmText))) { return Promise.resolve(); }
    showError("");
    return call("POST", path, body || {}).then(function (r) { if (!r.ok) { showError(errText(r)); } return r; });
  }
  $("lw-transfer").onclick = function () {
    var to = $("lw-transfer-to").value;
    if (!to) { showError(T.chooseAgent); return; }
    act("/api/v1/conversations/" + open + "/transfer", { to_agent_id: +to, reason: "" });
  };
  $("lw-take").onclick = function () { act("/api/v1/conversations/" + open + "/transfer", { to_agent_id: ME, reason: "" }).then(loadList); };
  $("lw-close").onclick = function () { act("/api/v1/live/chats/" + open + "/close", {}, T.confirmClose); };
  $("lw-spam").onclick = function () {
    var id = open;
    act("/api/v1/live/chats/" + id + "/spam", {}, T.confirmSpam).then(function (r) {
      if (r && r.ok) { chats.delete(id); renderList(); if (open === id) { markGone(r.data.pending ? T.reported : null); } }
    });
  };
  $("lw-side-toggle").onclick = function () { $("lw-side").classList.toggle("show"); };
  Array.prototype.forEach.call(document.querySelectorAll("dialog [data-close]"), function (b) { b.onclick = function () { b.closest("dialog").close(); }; });
  $("lw-note-open").onclick = function () { $("lw-note").showModal(); $("lw-note-text").focus(); };
  $("lw-note-save").onclick = function () {
    var t = $("lw-note-text").value.trim(); if (!t) { return; }
    act("/api/v1/conversations/" + open + "/notes", { text: t }).then(function (r) { if (r && r.ok) { $("lw-note-text").value = ""; $("lw-note").close(); } });
  };

  // ---------------------------------------------------------------- scripts (Ctrl+/)
  function renderScripts() {
    var ul = $("lw-script-list"); ul.innerHTML = "";
    if (!scriptItems.length) { var e = document.createElement("li"); e.className = "list-group-item text-secondary"; e.textContent = T.noScripts; ul.appendChild(e); return; }
    scriptItems.forEach(function (s, i) {
      var li = document.createElement("li"); li.className = "list-group-item" + (i === scriptPick ? " active" : "");
      li.dataset.id = s.id; var b = document.createElement("b"); b.textContent = s.title; li.appendChild(b);
      li.appendChild(document.createTextNode(" " + s.body.slice(0, 60)));
      li.onclick = function () { insertScript(s.id); };
      ul.appendChild(li);
    });
  }
  function searchScripts() {
    call("GET", "/api/v1/scripts?limit=30&q=" + encodeURIComponent($("lw-script-q").value)).then(function (r) {
      scriptItems = r.ok ? r.data : []; scriptPick = 0; renderScripts();
    });
  }
  function openScripts() {
    if (!open) { return; }
    $("lw-script-error").hidden = true; $("lw-scripts").showModal(); $("lw-script-q").value = ""; $("lw-script-q").focus(); searchScripts();
  }
  function insertScript(id) {
    call("POST", "/api/v1/live/chats/" + open + "/script", { script_id: id }).then(function (r) {
      if (!r.ok) { var e = $("lw-script-error"); e.textContent = errText(r); e.hidden = false; return; }
      var s = text.selectionStart || 0, en = text.selectionEnd || 0;
      text.value = text.value.slice(0, s) + r.data.text + text.value.slice(en);
      $("lw-scripts").close(); text.focus();
    });
  }
  var sTimer = null;
  $("lw-script-q").addEventListener("input", function () { clearTimeout(sTimer); sTimer = setTimeout(searchScripts, 200); });
  $("lw-script-q").addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { scriptPick = Math.min(scriptPick + 1, scriptItems.length - 1); renderScripts(); e.preventDefault(); }
    if (e.key === "ArrowUp") { scriptPick = Math.max(scriptPick - 1, 0); renderScripts(); e.preventDefault(); }
    if (e.key === "Enter") { e.preventDefault(); if (scriptItems[scriptPick]) { insertScript(scriptItems[scriptPick].id); } }
  });
  $("lw-script-open").onclick = openScripts;
  document.addEventListener("keydown", function (e) { if (e.key === "/" && (e.ctrlKey || e.metaKey) && document.activeElement !== text) { e.preventDefault(); openScripts(); } });
  document.addEventListener("visibilitychange", markRead);
  window.addEventListener("focus", markRead);

  loadList().then(connect);
  window.kefuWorkspace = { chats: chats, open: openChat, eventId: function () { return eventId; } };
})();
