/* 实时监控: who is online, chats each holds, buyers waiting. Any event of the shop on the stream
   refreshes the figures (at most every second); the waiting clocks tick every second. */
(function () {
  "use strict";
  var root = document.getElementById("sv"); if (!root) { return; }
  var S = root.dataset, T = JSON.parse(document.getElementById("sv-i18n").textContent), ME = +S.me;
  var $ = function (id) { return document.getElementById(id); }, timer = null, es = null, eventId = 0;
  function q(p) { return p + (p.indexOf("?") < 0 ? "?" : "&") + "shop=" + encodeURIComponent(S.shop); }
  function hms(iso) {  // in the shop's time zone, whatever the browser's clock says
    return new Date(iso).toLocaleTimeString("en-GB", { timeZone: S.tz || undefined, hourCycle: "h23" });
  }
  function dur(s) {
    if (s < 60) { return s + " " + T.sec; }
    if (s < 3600) { return Math.floor(s / 60) + " " + T.min + " " + (s % 60) + " " + T.sec; }
    return Math.floor(s / 3600) + " " + T.hour + " " + Math.floor((s % 3600) / 60) + " " + T.min;
  }
  function td(text, cls) { var c = document.createElement("td"); c.textContent = text; if (cls) { c.className = cls; } return c; }
  function post(path, then) {
    $("sv-error").hidden = true;
    fetch(q(path), { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": S.csrf }, body: "{}" })
      .then(function (r) { return r.json().then(function (d) { if (!r.ok) { $("sv-error").textContent = d.message || r.status; $("sv-error").hidden = false; } then(); }); });
  }
  function transfer(convId, to) {
    $("sv-error").hidden = true;
    fetch(q("/api/v1/conversations/" + convId + "/transfer"), { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": S.csrf }, body: JSON.stringify({ to_agent_id: to, reason: "" }) })
      .then(function (r) { return r.json().then(function (d) { if (!r.ok) { $("sv-error").textContent = d.message || r.status; $("sv-error").hidden = false; } load(); }); });
  }
  function renderSpam(list) {
    var tb = $("sv-spam").tBodies[0]; tb.innerHTML = "";
    (list || []).forEach(function (s) {
      var tr = document.createElement("tr"), who = document.createElement("td");
      if (s.conversation_id) { var a = document.createElement("a"); a.href = "/conversations/" + s.conversation_id + "/"; a.textContent = s.buyer; a.title = T.open; who.appendChild(a); }
      else { who.textContent = s.buyer; }
      tr.appendChild(who); tr.appendChild(td(s.reported_by)); tr.appendChild(td(hms(s.created_at)));
      var act = document.createElement("td"), ok = document.createElement("button"), no = document.createElement("button");
      ok.type = no.type = "button"; ok.className = "btn btn-sm btn-danger me-1"; no.className = "btn btn-sm btn-outline-secondary";
      ok.textContent = T.confirm; no.textContent = T.reject;
      ok.onclick = function () { post("/api/v1/live/spam-reports/" + s.id + "/confirm", load); };
      no.onclick = function () { post("/api/v1/live/spam-reports/" + s.id + "/reject", load); };
      act.appendChild(ok); act.appendChild(no); tr.appendChild(act); tb.appendChild(tr);
    });
    $("sv-spam-count").textContent = (list || []).length; $("sv-spam-card").hidden = !(list || []).length;
  }
  function render(d) {
    renderSpam(d.spam_reports);
    var tb = $("sv-agents").tBodies[0]; tb.innerHTML = "";
    d.agents.forEach(function (a) {
      var tr = document.createElement("tr"); tr.dataset.agent = a.id;
      tr.appendChild(td(a.name)); tr.appendChild(td(T[a.group] || "—"));
      var st = td(T[a.status] || a.status); st.className = "status-" + a.status; tr.appendChild(st);
      tr.appendChild(td(String(a.holding), "text-end")); tr.appendChild(td(String(a.waiting), "text-end" + (a.waiting ? " text-danger" : "")));
      tb.appendChild(tr);
    });
    var wb = $("sv-waiting").tBodies[0]; wb.innerHTML = "";
    var base = Date.now();
    d.waiting.forEach(function (w) {
      var tr = document.createElement("tr"); tr.dataset.conversation = w.conversation_id;
      tr.appendChild(td(w.buyer)); tr.appendChild(td(w.queued ? T.queued : (w.assignee || "—")));
      var clock = td(dur(w.waiting_seconds), "text-end sv-clock"); clock.dataset.since = String(base - w.waiting_seconds * 1000); tr.appendChild(clock);
      var act = document.createElement("td"), take = document.createElement("button"), sel = document.createElement("select");
      take.type = "button"; take.className = "btn btn-sm btn-primary me-1"; take.textContent = T.take;
      take.onclick = function () { transfer(w.conversation_id, ME); };
      sel.className = "form-select form-select-sm d-inline-block w-auto"; sel.setAttribute("aria-label", T.reassign);
      sel.innerHTML = "<option value=''></option>" + $("sv-agent-options").innerHTML; sel.options[0].textContent = T.to;
      sel.onchange = function () { if (sel.value) { transfer(w.conversation_id, +sel.value); } };
      act.appendChild(take); act.appendChild(sel); tr.appendChild(act); wb.appendChild(tr);
    });
    $("sv-waiting-count").textContent = d.waiting.length; $("sv-none").hidden = d.waiting.length > 0;
    $("sv-at").textContent = T.updated + " " + hms(d.at);
  }
  var asked = 0, shown = 0;
  function load() {  // loads may overlap: an answer older than the one shown is dropped
    var n = ++asked;
    return fetch(q("/api/v1/live/overview"), { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (d) { if (!eventId) { eventId = d.event_id; } if (n > shown) { shown = n; render(d); } });
  }
  function soon() { if (!timer) { timer = setTimeout(function () { timer = null; load(); }, 1000); } }
  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll(".sv-clock"), function (c) { c.textContent = dur(Math.max(0, Math.round((Date.now() - +c.dataset.since) / 1000))); });
  }, 1000);
  function connect() {
    es = new EventSource("/live/stream?after=" + eventId);
    es.addEventListener("hello", function () { $("sv-conn").textContent = T.connected; });
    es.onmessage = function (e) { var ev = JSON.parse(e.data); if (ev.kind !== "typing" && ev.kind !== "read") { soon(); } };
    es.addEventListener("reset", soon);
    es.onerror = function () { $("sv-conn").textContent = T.reconnecting; if (es.readyState === 2) { setTimeout(connect, 3000); } };
  }
  load().then(connect);
})();
