// greenfleet dashboard: the endpoint page's live charts (uPlot), polled from /ui/endpoints/{name}/chart-data.
"use strict";

const PALETTE = ["#0969da", "#1a7f37", "#8250df", "#bc4c00", "#cf222e", "#116329", "#953800", "#6639ba"];
const CHARTS = [
  { title: "Invocations per second", lines: [["Invocations", "", []]] },
  { title: "Errors per second (4XX solid, 5XX dashed)",
    lines: [["Invocation4XXErrors", " 4XX", []], ["Invocation5XXErrors", " 5XX", [6, 4]]] },
  { title: "ModelLatency, ms (p50 solid, p99 dashed)",
    lines: [["ModelLatency p50", " p50", []], ["ModelLatency p99", " p99", [6, 4]]] },
  { title: "OverheadLatency, ms (p50 solid, p99 dashed)",
    lines: [["OverheadLatency p50", " p50", []], ["OverheadLatency p99", " p99", [6, 4]]] },
];

const utc = (ts) => (ts == null ? "--" : new Date(ts * 1e3).toISOString().slice(11, 19));

function chartOptions(spec, data, width) {
  const series = [{ label: "time (UTC)", value: (u, ts) => utc(ts) }];
  data.series.forEach((s, i) => {
    for (const [, suffix, dash] of spec.lines) {
      series.push({ label: s.label + suffix, stroke: PALETTE[i % PALETTE.length], width: 1.5, dash, spanGaps: false });
    }
  });
  return { width, height: 200, series, legend: { live: true }, cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max || 0, 1)] } },
    axes: [{ space: 70, values: (u, splits) => splits.map(utc) }, {}] };
}

function chartRows(spec, data) {
  const rows = [data.timestamps];
  for (const s of data.series) {
    for (const [metric] of spec.lines) rows.push(s.values[metric]);
  }
  return rows;
}

function startCharts(container) {
  let charts = [];
  let shape = "";
  const status = container.querySelector(".chart-status");
  const grid = container.querySelector(".charts");

  function build(data) {
    for (const c of charts) c.plot.destroy();
    grid.replaceChildren();
    charts = CHARTS.map((spec) => {
      const figure = document.createElement("figure");
      const caption = document.createElement("figcaption");
      caption.textContent = spec.title;
      figure.append(caption);
      figure.setAttribute("aria-label", spec.title + " for " + data.series.map((s) => s.label).join(", "));
      grid.append(figure);
      const width = Math.max(280, figure.clientWidth - 20);
      return { spec, plot: new uPlot(chartOptions(spec, data, width), chartRows(spec, data), figure) };
    });
  }

  async function tick() {
    if (document.hidden) return;
    const response = await fetch(container.dataset.chartUrl, { credentials: "same-origin" });
    if (response.status === 401) {
      window.location.assign("/ui/login?next=" + encodeURIComponent(window.location.pathname));
      return;
    }
    if (!response.ok) { status.textContent = "Charts unavailable: HTTP " + response.status; return; }
    const data = await response.json();
    const labels = data.series.map((s) => s.label).join("|");
    if (!data.series.length) { status.textContent = "No variant to chart."; return; }
    if (labels !== shape) { shape = labels; build(data); }
    else for (const c of charts) c.plot.setData(chartRows(c.spec, data));
    for (const c of charts) {
      // the legend reads the newest second unless the pointer is on the chart
      if (c.plot.cursor.left == null || c.plot.cursor.left < 0) c.plot.setLegend({ idx: data.timestamps.length - 1 });
    }
    status.textContent = "Updated " + new Date(data.timestamps[data.timestamps.length - 1] * 1e3).toISOString().slice(11, 19) + " UTC";
  }

  let busy = false;
  const run = async () => {
    if (busy) return;
    busy = true;
    try { await tick(); } catch (error) { status.textContent = "Charts: " + error.message; } finally { busy = false; }
  };
  run();
  window.setInterval(run, Number(container.dataset.interval || 1500));
}

for (const container of document.querySelectorAll("[data-chart-url]")) startCharts(container);
