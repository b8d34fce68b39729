// The alerts page: every alerting rule with its alerts, deduplicated, firing
// first, as Prometheus's and Thanos's alerts pages show them; a state filter
// and each rule's definition on a click.
"use strict";

const STATES = ["firing", "pending", "inactive"];
const shown = new Set(STATES);
const open = new Set();

function labelBadges(set) {
  return el("div", {}, ...Object.keys(set || {}).sort().map((k) => el("span", { class: "badge" }, `${k}="${set[k]}"`)));
}

function ruleDetails(r) {
  return el("div", { class: "rule-details" },
    el("pre", { class: "rule-def" }, ruleYAML(r)),
    r.alerts.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["Labels", "State", "Active Since", "Value"].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...r.alerts.map((a) => el("tr", { class: "alert-row" },
        el("td", {}, labelBadges(a.labels)),
        el("td", {}, el("span", { class: `badge state ${a.state}` }, a.state.toUpperCase())),
        el("td", {}, a.activeAt ? formatTime(Date.parse(a.activeAt)) : ""),
        el("td", { class: "value" }, a.value))))) : el("p", { class: "muted" }, "No active alerts."));
}

async function render() {
  const body = await apiGet("/api/v1/rules", { type: "alert" });
  const root = document.getElementById("alerts");
  root.replaceChildren();
  if (body.status !== "success") {
    root.append(el("div", { class: "alert error" }, `Error fetching alerts: ${body.error}`));
    return;
  }
  const rules = body.data.groups.flatMap((g) => g.rules.map((r) => ({ ...r, key: `${g.file};${g.name};${r.name}` })));
  const count = Object.fromEntries(STATES.map((s) => [s, rules.filter((r) => r.state === s).length]));
  const filters = el("div", { class: "options state-filter" }, ...STATES.map((s) => {
    const box = el("input", { type: "checkbox", class: `filter-${s}`, onchange: (e) => {
      if (e.target.checked) shown.add(s); else shown.delete(s);
      render();
    } });
    box.checked = shown.has(s);
    return el("label", {}, box, ` ${s[0].toUpperCase()}${s.slice(1)} (${count[s]})`);
  }));
  root.append(filters);
  for (const w of body.warnings || []) root.append(el("div", { class: "alert warning" }, w));
  const visible = rules.filter((r) => shown.has(r.state))
    .sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state));
  if (!rules.length) root.append(el("p", { class: "muted" }, "No alerting rules."));
  for (const r of visible) {
    const header = el("div", { class: `alert-rule-header ${r.state}`, onclick: () => {
      if (open.has(r.key)) open.delete(r.key); else open.add(r.key);
      render();
    } }, `${r.name} (${r.alerts.length} active)`);
    const panel = el("div", { class: "panel alert-rule" }, header);
    if (open.has(r.key)) panel.append(ruleDetails(r));
    root.append(panel);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  render();
  setInterval(render, 10000);
});
