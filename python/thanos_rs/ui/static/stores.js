// The stores page: every endpoint the querier knows, by component, as Thanos shows them.
"use strict";

// Times that mean "no bound": Go's zero time and before (a sidecar's default
// --min-time is year 0), or beyond what a Date holds (MaxInt64).
function bounded(ms) {
  return ms > -62135596800000 && ms < 8.64e15;
}

// What the range means, as a tooltip on the row's time cells: Thanos's page's
// words (StorePoolPanel's storeTimeRangeMsg), so that the two read alike.
function rangeNote(s) {
  const lo = bounded(s.minTime), hi = bounded(s.maxTime);
  if (!lo && !hi) return "This store's time range data is not available";
  if (!lo) return "This store has no minimum time limit";
  if (!hi) return "This store has no maximum time limit";
  return "";
}

function timeCell(cls, ms, note) {
  return el("td", { class: cls, title: note }, bounded(ms) ? formatTime(ms) : "-");
}

function labelSets(sets) {
  if (!sets || !sets.length) return el("span", { class: "muted" }, "-");
  return el("div", {}, ...sets.map((set) =>
    el("div", {}, ...Object.keys(set).sort().map((k) => el("span", { class: "badge" }, `${k}="${set[k]}"`)))));
}

async function render() {
  const body = await apiGet("/api/v1/stores");
  const root = document.getElementById("stores");
  root.replaceChildren();
  if (body.status !== "success") {
    root.append(el("div", { class: "alert error" }, `Error fetching stores: ${body.error}`));
    return;
  }
  const types = Object.keys(body.data).sort();
  if (!types.length) root.append(el("p", { class: "muted" }, "No stores."));
  for (const type of types) {
    const rows = body.data[type].map((s) => {
      const up = s.lastError === null;
      return el("tr", { class: "store" },
        el("td", { class: "endpoint" }, s.name),
        el("td", {}, el("span", { class: `badge ${up ? "up" : "down"}` }, up ? "UP" : "DOWN")),
        el("td", {}, labelSets(s.labelSets)),
        timeCell("min-time", s.minTime, rangeNote(s)),
        timeCell("max-time", s.maxTime, rangeNote(s)),
        el("td", {}, ago(s.lastCheck)),
        el("td", {}, s.lastError || ""));
    });
    root.append(el("h2", {}, type), el("table", {},
      el("thead", {}, el("tr", {}, ...["Endpoint", "Status", "Announced LabelSets", "Min Time (UTC)",
        "Max Time (UTC)", "Last Successful Health Check", "Last Message"].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows)));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  render();
  setInterval(render, 10000);
});
