/* An agent's weekly QA score and review count, drawn with the plotly.js Kefu serves (like web/charts.js). */
(function () {
  "use strict";
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  var CONFIG = { displayModeBar: false, responsive: true };
  function layout(title, y) {
    return {
      margin: { l: 48, r: 12, t: 36, b: 36 }, height: 240, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      font: { family: '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif', size: 12 },
      title: { text: title, font: { size: 14 }, x: 0, xanchor: "left" },
      xaxis: { type: "date", tickformat: "%m-%d", gridcolor: "#eee" }, yaxis: Object.assign({ gridcolor: "#eee" }, y)
    };
  }
  function draw() {
    var t = data("qa-trend"), labels = data("qa-labels") || {};
    if (!window.Plotly || !t || !t.weeks.length) return;
    var a = document.getElementById("chart-qa-score"), b = document.getElementById("chart-qa-reviews");
    if (a) window.Plotly.newPlot(a, [{ x: t.weeks, y: t.scores, type: "scatter", mode: "lines+markers",
      line: { color: "#1f6feb", width: 2 }, marker: { size: 5 } }], layout(labels.score, { range: [0, 100] }), CONFIG);
    if (b) window.Plotly.newPlot(b, [{ x: t.weeks, y: t.reviews, type: "bar", marker: { color: "#2da44e" } }],
      layout(labels.reviews, { rangemode: "tozero" }), CONFIG);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
