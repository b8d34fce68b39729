// The targets page: every scrape target of the Prometheus servers behind the
// querier, by scrape pool, deduplicated by the replica labels as
// /api/v1/targets answers, in the layout of Prometheus's own targets page.
"use strict";

const HEALTH = { up: "UP", down: "DOWN", unknown: "UNKNOWN" };

function ago(rfc3339) {
  const t = Date.parse(rfc3339);
  if (isNaN(t) || t <= 0) return "Never";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s ago` : `${Math.floor(s / 3600)}h ago`;
}

function duration(seconds) {
  return seconds < 1 ? `${(seconds * 1000).toFixed(3)}ms` : `${seconds.toFixed(3)}s`;
}

function labels(set) {
  return el("div", {}, ...Object.keys(set).sort().map((k) => el("span", { class: "badge" }, `${k}="${set[k]}"`)));
}

async function render() {
  const body = await apiGet("/api/v1/targets", { state: "active" });
  const root = document.getElementById("targets");
  root.replaceChildren();
  if (body.status !== "success") {
    root.append(el("div", { class: "alert error" }, `Error fetching targets: ${body.error}`));
    return;
  }
  for (const w of body.warnings || []) root.append(el("div", { class: "alert warning" }, w));
  const onlyUnhealthy = document.getElementById("unhealthy").checked;
  const pools = new Map();
  for (const t of body.data.activeTargets) {
    if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
    pools.get(t.scrapePool).push(t);
  }
  if (!pools.size) root.append(el("p", { class: "muted" }, "No targets."));
  for (const pool of [...pools.keys()].sort()) {
    const targets = pools.get(pool);
    const up = targets.filter((t) => t.health === "up").length;
    if (onlyUnhealthy && up === targets.length) continue;
    const rows = targets.filter((t) => !onlyUnhealthy || t.health !== "up").map((t) =>
      el("tr", { class: "target" },
        el("td", { class: "endpoint" }, el("a", { href: t.globalUrl }, t.scrapeUrl)),
        el("td", {}, el("span", { class: `badge ${t.health === "up" ? "up" : "down"}` }, HEALTH[t.health] || t.health)),
        el("td", { class: "labels" }, labels(t.labels)),
        el("td", {}, ago(t.lastScrape)),
        el("td", {}, duration(t.lastScrapeDuration)),
        el("td", { class: "error" }, t.lastError)));
    root.append(el("h2", { class: "pool" }, `${pool} (${up}/${targets.length} up)`), el("table", {},
      el("thead", {}, el("tr", {}, ...["Endpoint", "State", "Labels", "Last Scrape", "Scrape Duration", "Error"]
        .map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows)));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("unhealthy").addEventListener("change", render);
  render();
  setInterval(render, 10000);
});
