// Import job page: the progress bar follows the job until it finishes, then the
// page reloads to show the report. The job lives in the database, so a reload
// (or coming back later) picks up where it is.
(function () {
  "use strict";

  const POLL_MS = 500;
  const section = document.getElementById("import-progress");
  if (!section) return;
  const bar = document.getElementById("import-bar");
  const fill = document.getElementById("import-bar-fill");
  const percent = document.getElementById("import-percent");
  const statusText = document.getElementById("import-status-text");
  const processed = document.getElementById("import-processed");

  // Widths are set from script: the CSP forbids inline style attributes.
  function show(progress) {
    const value = Math.max(0, Math.min(100, Math.round(progress * 100)));
    fill.style.width = `${value}%`;
    bar.setAttribute("aria-valuenow", String(value));
    percent.textContent = `${value} %`;
  }

  show(Number(fill.dataset.progress || 0) / 100);
  if (section.dataset.active !== "true") return;

  function poll() {
    fetch(section.dataset.statusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((job) => {
        if (!job) {
          window.setTimeout(poll, POLL_MS * 4);
          return;
        }
        show(job.progress);
        statusText.textContent = job.status_display;
        processed.textContent = String(job.processed_rows);
        if (job.active) {
          window.setTimeout(poll, POLL_MS);
        } else {
          window.location.reload();
        }
      })
      .catch(() => window.setTimeout(poll, POLL_MS * 4));
  }
  window.setTimeout(poll, POLL_MS);
})();
