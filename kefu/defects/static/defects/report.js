/* Return-reasons report charts, drawn with the plotly.js served by Kefu itself (no CDN). */
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var CONFIG = { displayModeBar: false, responsive: true };
  var FONT = { family: '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif', size: 12 };
  function title(text) { return { text: text, font: { size: 14 }, x: 0, xanchor: "left" }; }
  function draw() {
    if (!window.Plotly) return;
    var c = data("report-chart"), labels = data("report-labels") || {};
    if (!c) return;
    var el = document.getElementById("chart-reasons");
    if (el) {
      var traces = c.series.map(function (s) {
        return { x: c.periods, y: s.cases, name: s.label, type: "bar" };
      });
      window.Plotly.newPlot(el, traces, {
        barmode: "stack", height: 300, font: FONT, title: title(labels.reasons),
        margin: { l: 48, r: 12, t: 36, b: 48 }, xaxis: { type: "date", tickformat: "%m-%d" },
        yaxis: { rangemode: "tozero", gridcolor: "#eee" }, legend: { orientation: "h" }
      }, CONFIG);
    }
    var el2 = document.getElementById("chart-skus");
    if (el2) {
      var top = c.top_skus.slice().reverse();
      window.Plotly.newPlot(el2, [{
        y: top.map(function (t) { return t.sku; }), x: top.map(function (t) { return t.cases; }),
        type: "bar", orientation: "h", marker: { color: "#d4380d" },
        text: top.map(function (t) { return "¥" + t.cost; }), textposition: "auto",
        hovertemplate: "%{y}<br>" + labels.cases + " %{x}<br>" + labels.cost + " %{text}<extra></extra>"
      }], {
        height: Math.max(220, 28 * top.length + 80), font: FONT, title: title(labels.skus),
        margin: { l: 120, r: 12, t: 36, b: 36 }, yaxis: { type: "category" }, xaxis: { rangemode: "tozero" }
      }, CONFIG);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
