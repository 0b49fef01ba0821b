// Rapport's charts: every <canvas data-chart="ID"> is drawn with Chart.js from the
// JSON block <script type="application/json" id="ID"> the server rendered next to
// it (no inline script, so the strict CSP holds). Each chart also has a table of
// its figures in a <details> element for screen readers and keyboard users.
(function () {
  "use strict";

  const drawn = [];
  // Tests and the console can see what was drawn.
  window.rapportCharts = drawn;

  function percentTick(value) {
    return `${Math.round(value * 100)}%`;
  }

  function config(spec) {
    const many = spec.labels.length > 60;
    const datasets = spec.datasets.map((dataset) => ({
      ...dataset,
      spanGaps: true,
      tension: 0.2,
      // Marks and assessment points keep their own size on long spans.
      pointRadius: dataset.pointRadius ?? (many ? 0 : 2),
    }));
    const y = {};
    if (spec.yMin !== null && spec.yMin !== undefined) y.min = spec.yMin;
    if (spec.yMax !== null && spec.yMax !== undefined) y.max = spec.yMax;
    if (spec.percent) y.ticks = { callback: percentTick };
    // The unit of the figures, on the axis (issue 18: charts labelled with units).
    if (spec.yTitle) y.title = { display: true, text: spec.yTitle };
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y },
        plugins: { legend: { position: "bottom" } },
        // Tooltips and axes format numbers for the page's language ("0,5" in Dutch).
        locale: document.documentElement.lang || undefined,
      },
    };
  }

  function draw(canvas) {
    if (canvas.dataset.ready === "1" || typeof Chart === "undefined") return;
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    drawn.push(new Chart(canvas, config(spec)));
    canvas.dataset.ready = "1";
  }

  function drawAll(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  drawAll(document);
  // Fragments swapped in by htmx may bring charts of their own.
  document.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
})();
