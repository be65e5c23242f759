/* Kefu's page behaviour on top of Tabler/Bootstrap: toasts (Django messages and htmx results),
   the navigation's remembered open/closed sections and keyboard shortcuts. No third-party host. */
(function () {
  "use strict";
  var body = document.body;
  function bs() { return window.tabler && window.tabler.bootstrap; }
  function text(key, fallback) { return (body && body.dataset[key]) || fallback; }

  // ---------------------------------------------------------------- durations
  // The same reading as kefu.web.formatting.duration_text: "44 秒", "3 分 12 秒", "5 分钟", "2 小时 5 分".
  var UNITS = (body.dataset.lang || "zh-hans").indexOf("zh") === 0
    ? { s: "秒", ms: "分", m: "分钟", h: "小时", hm: "分", d: "天" }
    : { s: "s", ms: "min", m: "min", h: "h", hm: "min", d: "d" };
  function duration(seconds) {
    var sign = seconds < 0 ? "-" : "", s = Math.abs(Math.trunc(seconds)), a, b;
    if (s < 60) return sign + s + " " + UNITS.s;
    if (s < 3600) {
      a = Math.floor(s / 60); b = s % 60;
      return sign + (b ? a + " " + UNITS.ms + " " + b + " " + UNITS.s : a + " " + UNITS.m);
    }
    if (s < 86400) {
      a = Math.floor(s / 3600); b = Math.floor((s % 3600) / 60);
      return sign + a + " " + UNITS.h + (b ? " " + b + " " + UNITS.hm : "");
    }
    a = Math.floor(s / 86400); b = Math.floor((s % 86400) / 3600);
    return sign + a + " " + UNITS.d + (b ? " " + b + " " + UNITS.h : "");
  }
  window.kefuDuration = duration;

  // ---------------------------------------------------------------- toasts
  function showToast(el) {
    var B = bs();
    var level = el.dataset.level;
    if (B) B.Toast.getOrCreateInstance(el, { delay: level === "error" ? 10000 : 5000 }).show();
    else el.classList.add("show");
    el.addEventListener("hidden.bs.toast", function () { el.remove(); });
  }
  function toast(level, message) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    var css = level === "error" ? "text-bg-danger" : level === "warning" ? "text-bg-warning" : "text-bg-success";
    el.className = "toast kefu-toast " + css;
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.dataset.level = level;
    var row = document.createElement("div");
    row.className = "d-flex";
    var msg = document.createElement("div");
    msg.className = "toast-body";
    msg.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", text("msgClose", "×"));
    row.appendChild(msg);
    row.appendChild(close);
    el.appendChild(row);
    box.appendChild(el);
    showToast(el);
  }
  window.kefuToast = toast;

  // Messages an htmx response carries (kefu.web.middleware.HtmxMessagesMiddleware).
  body.addEventListener("kefu:messages", function (evt) {
    (evt.detail && evt.detail.items || []).forEach(function (m) { toast(m.level, m.text); });
  });
  body.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr, msg = "";
    var type = (xhr.getResponseHeader("Content-Type") || "");
    if (type.indexOf("text/plain") === 0 && xhr.responseText.length < 300) msg = xhr.responseText;
    else if (type.indexOf("application/json") === 0) {
      try { msg = JSON.parse(xhr.responseText).message || ""; } catch (e) { msg = ""; }
    }
    toast("error", msg || text("msgFailed", "Error") + " (" + xhr.status + ")");
  });
  body.addEventListener("htmx:sendError", function () { toast("error", text("msgOffline", "Network error")); });

  // ---------------------------------------------------------------- navigation sections
  var KEY = "kefu.nav.closed";
  function closedSections() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function remember(section, open) {
    var closed = closedSections().filter(function (s) { return s !== section; });
    if (!open) closed.push(section);
    try { localStorage.setItem(KEY, JSON.stringify(closed)); } catch (e) { /* private mode */ }
  }
  function initNav() {
    var closed = closedSections();
    document.querySelectorAll(".kefu-nav-section").forEach(function (li) {
      var panel = li.querySelector(".collapse");
      var button = li.querySelector(".kefu-nav-toggle");
      if (!panel || !button) return;
      // The section holding the current page always stays open.
      if (closed.indexOf(li.dataset.section) >= 0 && !li.classList.contains("active")) {
        panel.classList.remove("show");
        button.setAttribute("aria-expanded", "false");
        button.classList.add("collapsed");
      }
      panel.addEventListener("shown.bs.collapse", function () { remember(li.dataset.section, true); });
      panel.addEventListener("hidden.bs.collapse", function () { remember(li.dataset.section, false); });
    });
  }

  // ---------------------------------------------------------------- keyboard shortcuts
  // Global: ? help, / search, g+letter to go to a page. A page adds its own with
  // data-kefu-key="r" (clicks a button/link, focuses a field) and data-kefu-key-label.
  var GOTO = { h: "web:dashboard", c: "web:conversations", f: "followups:worklist", a: "aftersales:list",
               o: "orders:list" };
  var pending = null;
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function shortcutsModal() {
    var el = document.getElementById("kefu-shortcuts");
    if (!el) return;
    var list = document.getElementById("kefu-shortcuts-page");
    if (list) {
      list.innerHTML = "";
      document.querySelectorAll("[data-kefu-key][data-kefu-key-label]").forEach(function (t) {
        var tr = document.createElement("tr"), k = document.createElement("td"), d = document.createElement("td");
        t.dataset.kefuKey.split(" ").forEach(function (part) {
          var kbd = document.createElement("kbd");
          kbd.textContent = part;
          k.appendChild(kbd);
          k.appendChild(document.createTextNode(" "));
        });
        d.textContent = t.dataset.kefuKeyLabel;
        tr.appendChild(k);
        tr.appendChild(d);
        list.appendChild(tr);
      });
    }
    var B = bs();
    if (B) B.Modal.getOrCreateInstance(el).show();
  }
  function urlFor(name) {
    var a = document.querySelector('[data-url-name="' + name + '"]');
    return a ? a.getAttribute("href") : null;
  }
  document.addEventListener("keydown", function (evt) {
    var target = evt.target;
    if ((evt.ctrlKey || evt.metaKey) && evt.key === "Enter" && target && target.form
        && target.hasAttribute("data-kefu-submit")) {
      evt.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (evt.key === "Escape" && typing(target)) { target.blur(); return; }
    if (evt.ctrlKey || evt.metaKey || evt.altKey || typing(target)) return;
    if (pending === "g") {
      pending = null;
      var url = GOTO[evt.key] && urlFor(GOTO[evt.key]);
      if (url) { evt.preventDefault(); window.location.href = url; }
      return;
    }
    if (evt.key === "?") { evt.preventDefault(); shortcutsModal(); return; }
    if (evt.key === "/") {
      var search = document.querySelector("[data-kefu-search]");
      if (search) { evt.preventDefault(); search.focus(); search.select && search.select(); }
      return;
    }
    if (evt.key === "g") { pending = "g"; setTimeout(function () { pending = null; }, 1500); return; }
    var el = document.querySelector('[data-kefu-key="' + (evt.key === '"' ? '\\"' : evt.key) + '"]');
    if (!el) return;
    evt.preventDefault();
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) el.focus();
    else el.click();
  });
  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-kefu-shortcuts]")) shortcutsModal();
  });

  function init() {
    document.querySelectorAll(".kefu-toast").forEach(showToast);
    initNav();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
