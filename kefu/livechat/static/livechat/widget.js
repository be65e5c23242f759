/* Kefu web-chat widget loader. Paste on any page of the shop's site:
   <script src="https://KEFU-HOST/live/widget.js" data-shop-key="wk_…" async></script>
   Optional: data-lang="en", data-order-id="…", and for a logged-in buyer data-user-id,
   data-user-hash (hex HMAC-SHA256 of the user id with the shop's identity secret, computed by the
   shop's server) and data-user-name. The chat itself runs in an iframe served by Kefu, so the
   page's CSS and JS cannot reach it; this loader only draws the launcher in a shadow root. */
(function () {
  "use strict";
  var s = document.currentScript;
  if (!s || window.__kefuWidget) { return; }
  var key = s.getAttribute("data-shop-key") || "";
  if (!key) { return; }
  var origin = new URL(s.src, location.href).origin;
  var attr = function (n) { return s.getAttribute("data-" + n) || ""; };
  var lang = attr("lang") || ((navigator.language || "zh").toLowerCase().indexOf("en") === 0 ? "en" : "zh-hans");
  var cookie = "kefu_v_" + key.replace(/[^A-Za-z0-9_]/g, "");
  var readCookie = function () {
    var m = document.cookie.match(new RegExp("(?:^|; )" + cookie + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  };
  var host = document.createElement("div");
  host.setAttribute("data-kefu-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML =
    "<style>:host{all:initial}" +
    ".b{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;" +
    "background:#206bc4;color:#fff;font:600 14px/1 system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646}" +
    ".n{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#d63939;color:#fff;" +
    "font:600 12px/20px system-ui,sans-serif;text-align:center;padding:0 5px;box-sizing:border-box;display:none}" +
    ".f{position:fixed;right:20px;bottom:88px;width:370px;height:560px;max-height:calc(100vh - 108px);border:0;" +
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff;z-index:2147483647;display:none}" +
    "@media (max-width:480px){.f{right:0;bottom:0;width:100vw;height:100vh;max-height:100vh;border-radius:0}}</style>" +
    "<button class='b' type='button' aria-label='" + (lang === "en" ? "Chat with us" : "在线客服") + "'>" +
    (lang === "en" ? "Chat" : "客服") + "<span class='n'></span></button>";
  var button = root.querySelector(".b"), badge = root.querySelector(".n"), frame = null, open = false;
  function makeFrame() {
    if (frame) { return frame; }
    frame = document.createElement("iframe");
    frame.className = "f";
    frame.title = lang === "en" ? "Chat" : "在线客服";
    frame.setAttribute("allow", "clipboard-write");
    var boot = { v: readCookie(), uid: attr("user-id"), uh: attr("user-hash"), un: attr("user-name"),
                 order: attr("order-id"), page: location.href.slice(0, 300) };
    frame.src = origin + "/live/w/" + encodeURIComponent(key) + "/frame?lang=" + lang + "#" +
      encodeURIComponent(JSON.stringify(boot));
    root.appendChild(frame);
    return frame;
  }
  function show(v) {
    open = v;
    makeFrame().style.display = v ? "block" : "none";
    if (v) { badge.style.display = "none"; frame.contentWindow && frame.contentWindow.postMessage({ type: "kefu:open" }, origin); }
    else { frame.contentWindow && frame.contentWindow.postMessage({ type: "kefu:hidden" }, origin); }
  }
  button.addEventListener("click", function () { show(!open); });
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow || !e.data) { return; }
    var d = e.data;
    if (d.type === "kefu:visitor" && typeof d.token === "string") {
      document.cookie = cookie + "=" + encodeURIComponent(d.token) + "; path=/; max-age=31536000; SameSite=Lax" +
        (location.protocol === "https:" ? "; Secure" : "");
    } else if (d.type === "kefu:unread") {
      badge.textContent = d.n > 99 ? "99+" : String(d.n);
      badge.style.display = d.n > 0 && !open ? "block" : "none";
    } else if (d.type === "kefu:close") {
      show(false);
    } else if (d.type === "kefu:ready") {
      frame.contentWindow.postMessage({ type: open ? "kefu:open" : "kefu:hidden" }, origin);
    }
  });
  (document.body || document.documentElement).appendChild(host);
  // A returning visitor's chat loads at once (hidden) so a reply that came meanwhile shows on the badge.
  if (readCookie() || attr("user-id")) { makeFrame(); }
  window.__kefuWidget = { open: function () { show(true); }, close: function () { show(false); } };
})();
