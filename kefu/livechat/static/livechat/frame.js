/* The chat panel of the widget (inside Kefu's iframe): session, history, live stream (SSE with
   replay on reconnect), sending with retries (idempotent by client id), images, typing, read
   marks, the order card and the CSAT stars. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("kf-config").textContent), T = cfg.t;
  var base = "/live/w/" + encodeURIComponent(cfg.key);
  var boot = {};
  try { boot = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}"); } catch (e) { boot = {}; }
  history.replaceState(null, "", location.pathname + location.search);  // the token leaves the URL
  var $ = function (id) { return document.getElementById(id); };
  var logEl = $("kf-log"), text = $("kf-text"), form = $("kf-form"), statusEl = $("kf-status");
  var session = null, es = null, byPk = {}, pending = {}, agentReadPk = 0, lastAgentPk = 0, sentReadPk = 0;
  var shown = false, unread = 0, orderPending = boot.order || "", lastTyping = 0, typingTimer = null, online = false;
  var parentOrigin = "*";

  function tell(msg) { if (window.parent !== window) { window.parent.postMessage(msg, parentOrigin); } }
  function uid() { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/-/g, ""); }
  function hhmm(iso) { var d = new Date(iso); return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2); }
  function scroll() { logEl.scrollTop = logEl.scrollHeight; }
  function setStatus(s, off) { statusEl.textContent = s; statusEl.className = "kf-status" + (off ? " off" : ""); }

  function call(method, path, body, isForm) {
    var headers = { "X-Kefu-Session": session || "" };
    if (!isForm) { headers["Content-Type"] = "application/json"; }
    return fetch(base + path, { method: method, headers: headers, body: isForm ? body : (body ? JSON.stringify(body) : undefined),
                                credentials: "omit", cache: "no-store" })
      .then(function (r) { return r.text().then(function (t) { var d = {}; try { d = t ? JSON.parse(t) : {}; } catch (e) { d = {}; } return { status: r.status, data: d }; }); });
  }

  function sys(t, cls) { var p = document.createElement("div"); p.className = "kf-sys" + (cls ? " " + cls : ""); p.textContent = t; logEl.appendChild(p); scroll(); return p; }

  function bubble(m, el) {
    var mine = m.sender === "buyer";
    var row = el || document.createElement("div");
    row.className = "kf-row" + (mine ? " me" : "");
    row.innerHTML = "";
    if (m.sender === "system") { row.className = "kf-sys"; row.textContent = m.text; return row; }
    var b = document.createElement("div");
    b.className = "kf-bubble";
    if (!mine && m.agent) { var who = document.createElement("span"); who.className = "kf-who"; who.textContent = m.agent; b.appendChild(who); }
    if (m.images && m.images.length) {
      m.images.forEach(function (im) {
        var a = document.createElement("a"), img = document.createElement("img");
        a.href = base + "/images/" + im.id + "?t=" + encodeURIComponent(session); a.target = "_blank"; a.rel = "noopener";
        img.src = base + "/images/" + im.id + "?thumb=1&t=" + encodeURIComponent(session); img.alt = T.image;
        a.appendChild(img); b.appendChild(a);
      });
    } else { b.appendChild(document.createTextNode(m.text)); }
    var meta = document.createElement("span"); meta.className = "kf-meta";
    meta.textContent = m.sent_at ? hhmm(m.sent_at) : "";
    if (mine && m.pk) { meta.setAttribute("data-pk", m.pk); meta.textContent += " · " + (m.pk <= agentReadPk ? T.read : T.unread); }
    b.appendChild(meta); row.appendChild(b);
    return row;
  }

  function add(m) {
    if (byPk[m.pk]) { return false; }
    var el = null;
    if (m.sender === "buyer") {
      var cid = m.message_id.split("-").pop();
      if (pending[cid]) { el = pending[cid].el; delete pending[cid]; }
    }
    el = bubble(m, el);
    byPk[m.pk] = el;
    if (!el.parentNode) { logEl.appendChild(el); }
    if (m.sender === "agent" || m.sender === "bot") { lastAgentPk = Math.max(lastAgentPk, m.pk); }
    scroll();
    return true;
  }

  function refreshReadMarks() {
    Array.prototype.forEach.call(logEl.querySelectorAll(".me .kf-meta[data-pk]"), function (meta) {
      var pk = +meta.getAttribute("data-pk");
      meta.textContent = meta.textContent.split(" · ")[0] + " · " + (pk <= agentReadPk ? T.read : T.unread);
    });
  }

  function markRead() {
    if (!shown || document.visibilityState === "hidden" || lastAgentPk <= sentReadPk || !session) { return; }
    sentReadPk = lastAgentPk;
    unread = 0; tell({ type: "kefu:unread", n: 0 });
    call("POST", "/read", { message_pk: lastAgentPk });
  }

  function showRating(inv, agent) {
    if (document.querySelector(".kf-rate[data-inv='" + inv + "']")) { return; }
    var box = document.createElement("div"), score = 0;
    box.className = "kf-rate"; box.setAttribute("data-inv", inv);
    box.innerHTML = "<div></div><div class='kf-stars'></div><input maxlength='500'><button type='button' class='go'></button>";
    box.firstChild.textContent = T.rate + (agent ? "（" + T.rateFor + agent + "）" : "");
    var stars = box.querySelector(".kf-stars"), input = box.querySelector("input"), go = box.querySelector(".go");
    input.placeholder = T.comment; go.textContent = T.submit; go.disabled = true;
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var s = document.createElement("button"); s.type = "button"; s.textContent = "★"; s.title = T.scores[n - 1];
        s.setAttribute("aria-label", n + " · " + T.scores[n - 1]);
        s.onclick = function () { score = n; go.disabled = false; Array.prototype.forEach.call(stars.children, function (c, k) { c.className = k < n ? "on" : ""; }); };
        stars.appendChild(s);
      })(i);
    }
    go.onclick = function () {
      go.disabled = true;
      call("POST", "/rating", { invitation_id: inv, score: score, comment: input.value }).then(function (r) {
        if (r.status < 300 || r.data.code === "already_rated") { box.innerHTML = ""; box.textContent = T.thanks; }
        else { go.disabled = false; }
      });
    };
    logEl.appendChild(box); scroll();
  }

  function handle(ev) {
    if (ev.kind === "message") {
      var m = ev.message;
      if (add(m) && (m.sender === "agent" || m.sender === "bot") && !(shown && document.visibilityState !== "hidden")) {
        unread += 1; tell({ type: "kefu:unread", n: unread });
      }
      $("kf-typing").hidden = true;
      markRead();
    } else if (ev.kind === "typing" && ev.who === "agent") {
      $("kf-typing").hidden = !ev.typing;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { $("kf-typing").hidden = true; }, 6000);
    } else if (ev.kind === "read" && ev.who === "agent") {
      agentReadPk = Math.max(agentReadPk, ev.message_pk); refreshReadMarks();
    } else if (ev.kind === "closed" && ev.event === "closed") {
      sys(T.closed);
    } else if (ev.kind === "rating") {
      showRating(ev.invitation_id, ev.agent);
    }
  }

  function connect(after) {
    if (es) { es.close(); }
    es = new EventSource(base + "/stream?t=" + encodeURIComponent(session) + "&after=" + after);
    es.onmessage = function (e) { try { handle(JSON.parse(e.data)); } catch (err) { /* a bad frame is skipped */ } };
    es.addEventListener("reset", function () { es.close(); start(); });
    es.onopen = function () { setStatus(online ? T.online : T.offline, !online); };
    es.onerror = function () {
      setStatus(T.reconnecting, true);
      if (es.readyState === 2) { setTimeout(start, 3000); }  // refused (e.g. session gone): start over
    };
  }

  function start() {
    call("POST", "/session", { visitor_token: boot.v || null, user_id: boot.uid || null, user_hash: boot.uh || null,
                               user_name: boot.un || null, order_id: boot.order || null, page: boot.page || "" })
      .then(function (r) {
        if (r.status !== 200) {
          if (r.data.code === "identity_refused") { sys(T.refused, "kf-err"); form.hidden = true; return; }
          setStatus(T.reconnecting, true); setTimeout(start, 5000); return;
        }
        var d = r.data, first = !session;
        session = d.session; online = d.online;
        if (d.visitor_token) { boot.v = d.visitor_token; tell({ type: "kefu:visitor", token: d.visitor_token }); }
        agentReadPk = d.agent_read_pk || 0;
        if (first) {
          $("kf-title").textContent = d.title;
          sys(d.online ? d.greeting : d.offline_greeting);
          if (d.order) {
            var o = $("kf-order"); o.hidden = false; o.textContent = "";
            var b = document.createElement("b"); b.textContent = T.order + " " + d.order.order_id; o.appendChild(b);
            if (d.order.title) { o.appendChild(document.createTextNode(d.order.title + " · ¥" + d.order.amount + " · " + d.order.status)); }
          }
        }
        d.history.forEach(add); refreshReadMarks();
        if (d.pending_rating) { showRating(d.pending_rating.invitation_id, d.pending_rating.agent); }
        if (d.blocked) { sys(T.blocked, "kf-err"); form.hidden = true; }
        setStatus(online ? T.online : T.offline, !online);
        connect(d.event_id);
        markRead();
      }, function () { setStatus(T.reconnecting, true); setTimeout(start, 5000); });
  }

  // One ordered queue: messages reach the server in the order the buyer wrote them, each retried
  // (same client id, so a retry never doubles) until the server answers.
  var outbox = [], busy = false, delay = 1000;
  function pump() {
    if (busy || !outbox.length || !session) { return; }
    busy = true;
    var item = outbox[0], body = item.form || { client_id: item.cid, text: item.text, order_id: item.order };
    call("POST", item.form ? "/images" : "/messages", body, !!item.form).then(function (r) {
      busy = false;
      if (r.status === 200 || r.status === 201) { outbox.shift(); delay = 1000; add(r.data.message); pump(); return; }
      if (r.status === 429 || r.status >= 500 || r.status === 401) { retry(item); return; }
      var meta = item.el.querySelector(".kf-meta");
      meta.textContent = r.data.message || "error"; meta.className = "kf-meta kf-err";
      delete pending[item.cid]; outbox.shift(); pump();
    }, function () { busy = false; retry(item); });
  }
  function retry(item) {
    var meta = item.el.querySelector(".kf-meta"); if (meta) { meta.textContent = T.failed; }
    setTimeout(pump, delay); delay = Math.min(delay * 2, 8000);
  }
  function queue(item) {
    item.el = bubble({ sender: "buyer", text: item.text, images: [], sent_at: null });
    item.el.querySelector(".kf-meta").textContent = T.sending;
    logEl.appendChild(item.el); scroll();
    pending[item.cid] = item;
    outbox.push(item);
    pump();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = text.value.trim();
    if (!t || !session) { return; }
    text.value = "";
    queue({ cid: uid(), text: t, order: orderPending });
    orderPending = "";
  });
  text.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); } });
  text.addEventListener("input", function () {
    var now = Date.now();
    if (session && now - lastTyping > 3000 && text.value) { lastTyping = now; call("POST", "/typing", { typing: true }); }
  });
  $("kf-file").addEventListener("change", function () {
    var f = this.files[0]; this.value = "";
    if (!f || !session) { return; }
    if (f.size > cfg.maxMb * 1024 * 1024) { sys(T.tooBig + " (≤ " + cfg.maxMb + " MB)", "kf-err"); return; }
    var cid = uid(), fd = new FormData(); fd.append("file", f); fd.append("client_id", cid);
    if (orderPending) { fd.append("order_id", orderPending); orderPending = ""; }
    queue({ cid: cid, text: "[" + T.image + "]", form: fd });
  });
  $("kf-close").addEventListener("click", function () { tell({ type: "kefu:close" }); });
  window.addEventListener("message", function (e) {
    if (e.source !== window.parent || !e.data) { return; }
    parentOrigin = e.origin;
    if (e.data.type === "kefu:open") { shown = true; markRead(); text.focus(); }
    if (e.data.type === "kefu:hidden") { shown = false; }
  });
  document.addEventListener("visibilitychange", markRead);
  if (window.parent === window) { shown = true; }  // opened on its own (tests, a full-page chat link)
  tell({ type: "kefu:ready" });
  start();
})();
