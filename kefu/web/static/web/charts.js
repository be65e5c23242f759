/* Dashboard and agent charts, drawn with the plotly.js served by Kefu itself (no CDN). */
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var CONFIG = { displayModeBar: false, responsive: true };
  var BASE = {
    margin: { l: 48, r: 12, t: 36, b: 36 }, height: 240,
    font: { family: '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif', size: 12 },
    paper_bgcolor: "#fff", plot_bgcolor: "#fff",
    xaxis: { type: "date", tickformat: "%m-%d", gridcolor: "#eee" },
    yaxis: { gridcolor: "#eee", rangemode: "tozero" }
  };
  function layout(title, extra) {
    return Object.assign({}, BASE, { title: { text: title, font: { size: 14 }, x: 0, xanchor: "left" } }, extra || {});
  }
  // Money axes as a Chinese reader counts: ¥3万, ¥1.5万 from 10,000 up (the ticks computed here, so
  // the axis starts at a plain 0, not "¥0万"); elsewhere ¥30k. The hover keeps the exact amount.
  function niceTicks(max) {
    var raw = max / 4, p = Math.pow(10, Math.floor(Math.log10(raw))), n = raw / p;
    var step = (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * p, vals = [0];
    while (vals[vals.length - 1] < max) vals.push(+(vals.length * step).toFixed(6));
    return vals;
  }
  function moneyScale(series) {
    var max = 0;
    series.forEach(function (ys) { (ys || []).forEach(function (v) { if (v != null && +v > max) max = +v; }); });
    var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
    if (zh && max >= 10000) {
      var vals = niceTicks(max / 10000);
      var text = vals.map(function (v) { return v === 0 ? "0" : "¥" + v.toLocaleString("zh-CN") + "万"; });
      return { div: 10000, axis: { tickmode: "array", tickvals: vals, ticktext: text,
                                   range: [0, vals[vals.length - 1] * 1.05], autorange: false } };
    }
    return { div: 1, axis: { tickprefix: "¥", tickformat: "~s" } };
  }
  function scaled(ys, div) {
    return (ys || []).map(function (v) { return v == null ? null : +v / div; });
  }
  // `team`: the same series for the team's average agent, drawn as a grey dashed line beside it.
  function line(id, x, y, title, color, kind, team, names, money) {
    var el = document.getElementById(id);
    if (!el) return;
    var m = money ? moneyScale([y, team]) : null;
    var trace = kind === "bar"
      ? { x: x, y: y, type: "bar", marker: { color: color } }
      : { x: x, y: y, type: "scatter", mode: "lines+markers", line: { color: color, width: 2 },
          marker: { size: 4 }, connectgaps: false };
    var traces = [trace], extra = {};
    if (team) {
      trace.name = names.agent;
      traces.push({ x: x, y: team, type: "scatter", mode: "lines", name: names.team,
                    line: { color: "#6e7781", width: 2, dash: "dash" }, connectgaps: false });
      extra = { showlegend: true, legend: { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" } };
    }
    if (m) {
      traces.forEach(function (tr) {
        tr.customdata = tr.y;
        tr.y = scaled(tr.y, m.div);
        tr.hovertemplate = "%{x|%m-%d} ¥%{customdata:,.2f}<extra>" + (tr.name || "") + "</extra>";
      });
      extra.yaxis = Object.assign({}, BASE.yaxis, m.axis);
    }
    window.Plotly.newPlot(el, traces, layout(title, extra), CONFIG);
  }
  function draw() {
    if (!window.Plotly) return;
    var labels = data("chart-labels") || {};
    var t = data("trend-data");
    var team = data("team-data") || {};
    if (t) {
      line("chart-receptions", t.days, t.receptions, labels.receptions, "#1f6feb", "bar", team.receptions, labels);
      line("chart-reply_rate", t.days, t.reply_rate, labels.reply_rate, "#2da44e", null, team.reply_rate, labels);
      line("chart-response_seconds", t.days, t.response_seconds, labels.response_seconds, "#8250df", null,
           team.response_seconds, labels);
      line("chart-conversion_rate", t.days, t.conversion_rate, labels.conversion_rate, "#bf8700", null,
           team.conversion_rate, labels);
      line("chart-sales", t.days, t.sales, labels.sales, "#d4380d", "bar", team.sales, labels, true);
    }
    var h = data("load-data");
    var el = document.getElementById("chart-load");
    if (h && el) {
      var peak = Math.max.apply(null, [1].concat(h.receptions.map(function (r) { return Math.max.apply(null, r); })));
      window.Plotly.newPlot(el, [{
        zmin: 0, zmax: peak,
        z: h.receptions, x: h.hours, y: h.days, type: "heatmap", colorscale: "YlOrRd", reversescale: true,
        hovertemplate: labels.day + " %{y}<br>" + labels.hour + " %{x}:00<br>" + labels.load + " %{z}<extra></extra>"
      }], Object.assign({}, BASE, {
        height: Math.max(260, 16 * h.days.length + 80), margin: { l: 90, r: 12, t: 12, b: 40 },
        xaxis: { title: { text: labels.hour }, dtick: 1, tickformat: "d" },
        yaxis: { type: "category", autorange: "reversed", automargin: true }
      }), CONFIG);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
