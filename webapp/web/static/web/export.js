// The export page, with JavaScript: poll the export's JSON view every second and move the
// progress bar, until the export is done (show the download link, and until when the file
// is kept) or failed (show why).
// Without JavaScript the page reloads itself instead (a <noscript> refresh): same result.
"use strict";

(() => {
  const section = document.querySelector("[data-poll-url]");
  if (!section) return;
  const EVERY_MS = 1000;
  const RETRY_MS = 5000; // after a network error: the edge may be restarting
  const part = (id) => section.querySelector(`[data-testid="${id}"]`);
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n) => String(n).padStart(2, "0");
  // As the page prints it (Django's "j M Y, H:i"), in UTC.
  const utc = (d) =>
    `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;

  function render(data) {
    section.dataset.exportStatus = data.status;
    part("export-status").textContent = data.status.charAt(0).toUpperCase() + data.status.slice(1);
    part("export-progress-text").textContent = data.progress;
    part("export-progress").value = data.progress;
    part("export-progress").textContent = `${data.progress}%`;
    if (data.status === "failed") {
      part("export-error").textContent = data.error || "The export failed.";
      part("export-error").hidden = false;
    }
    part("export-ready").hidden = data.status !== "done";
    if (data.expires_at) {
      const time = part("export-expires").querySelector("time");
      time.dateTime = data.expires_at;
      time.textContent = utc(new Date(data.expires_at));
      part("export-expires").hidden = false;
    }
  }

  async function poll() {
    let response;
    try {
      response = await fetch(section.dataset.pollUrl, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
    } catch {
      setTimeout(poll, RETRY_MS);
      return;
    }
    const data = response.ok && !response.redirected ? await response.json().catch(() => null) : null;
    if (!data) {
      // Logged out, gone, or the platform is down: the page itself says which.
      window.location.reload();
      return;
    }
    render(data);
    if (data.status !== "done" && data.status !== "failed") setTimeout(poll, EVERY_MS);
  }

  setTimeout(poll, EVERY_MS);
})();
