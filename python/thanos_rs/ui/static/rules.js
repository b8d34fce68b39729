// The rules page: every rule group the querier's endpoints evaluate, deduplicated,
// as Prometheus's and Thanos's rules pages show them.
"use strict";

function seconds(s) {
  return s < 1 ? `${(s * 1000).toFixed(3)}ms` : `${s.toFixed(3)}s`;
}

function healthBadge(health) {
  const cls = health === "ok" ? "up" : health === "err" ? "down" : "";
  return el("span", { class: `badge health ${cls}` }, health.toUpperCase());
}

async function render() {
  const body = await apiGet("/api/v1/rules");
  const root = document.getElementById("rules");
  root.replaceChildren();
  if (body.status !== "success") {
    root.append(el("div", { class: "alert error" }, `Error fetching rules: ${body.error}`));
    return;
  }
  for (const w of body.warnings || []) root.append(el("div", { class: "alert warning" }, w));
  const groups = body.data.groups;
  if (!groups.length) root.append(el("p", { class: "muted" }, "No rules."));
  for (const g of groups) {
    const rows = g.rules.map((r) => el("tr", { class: "rule" },
      el("td", {}, el("pre", { class: "rule-def" }, ruleYAML(r))),
      el("td", {}, healthBadge(r.health)),
      el("td", { class: "rule-error" }, r.lastError || ""),
      el("td", {}, ago(r.lastEvaluation)),
      el("td", {}, seconds(r.evaluationTime))));
    root.append(el("div", { class: "panel group" },
      el("h2", { class: "group-name" }, `${g.file} > ${g.name}`),
      el("p", { class: "muted" },
        `Interval ${formatDuration(g.interval)}, last evaluation ${ago(g.lastEvaluation)}, took ${seconds(g.evaluationTime)}`),
      el("table", {},
        el("thead", {}, el("tr", {}, ...["Rule", "State", "Error", "Last Evaluation", "Evaluation Time"]
          .map((h) => el("th", {}, h)))),
        el("tbody", {}, ...rows))));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  render();
  setInterval(render, 10000);
});
