// The graph page: panels with an expression, a Table and a Graph tab, and
// Thanos's Use Deduplication and Use Partial Response switches. Every
// panel's state lives in the URL (g0.expr, g0.tab, g0.range_input, ...), as in
// Prometheus's and Thanos's classic UI, so a link reproduces the view.
"use strict";

// Partial response defaults to the querier's --query.partial-response, as the API does.
const DEFAULTS = {
  expr: "", tab: "0", stacked: "0", range_input: "1h", end_input: "", moment_input: "", step_input: "",
  deduplicate: "1", partial_response: window.PARTIAL_RESPONSE === "0" ? "0" : "1", max_source_resolution: "0s",
};
// Thanos's Max Resolution choices: the max_source_resolution parameter of range queries.
const RESOLUTIONS = [
  ["auto", "Auto downsampling"], ["0s", "Only raw data"], ["5m", "Max 5m downsampling"], ["1h", "Max 1h downsampling"],
];
let metricNames = [];
const panels = [];

function panelsFromURL() {
  const byIndex = {};
  for (const [key, value] of new URLSearchParams(window.location.search)) {
    const m = key.match(/^g(\d+)\.(.+)$/);
    if (m && m[2] in DEFAULTS) (byIndex[m[1]] = byIndex[m[1]] || {})[m[2]] = value;
  }
  const states = Object.keys(byIndex).sort((a, b) => a - b).map((i) => ({ ...DEFAULTS, ...byIndex[i] }));
  return states.length ? states : [{ ...DEFAULTS }];
}

function saveURL() {
  const params = new URLSearchParams();
  panels.forEach((p, i) => {
    for (const key of Object.keys(DEFAULTS)) params.set(`g${i}.${key}`, p.state[key]);
  });
  window.history.replaceState(null, "", `${window.location.pathname}?${params}`);
}

// "2026-11-25 08:00" (UTC) or "" for now, to Unix seconds.
function parseEnd(text) {
  if (!text.trim()) return Date.now() / 1000;
  const t = Date.parse(text.trim().replace(" ", "T") + (text.includes("Z") ? "" : "Z"));
  return isNaN(t) ? null : t / 1000;
}

class Panel {
  constructor(state) {
    this.state = state;
    this.node = this.build();
  }

  input(cls, key, attrs) {
    const node = el("input", { type: "text", class: cls, value: this.state[key], ...attrs });
    node.addEventListener("change", () => { this.state[key] = node.value; saveURL(); });
    return node;
  }

  checkbox(cls, key, label) {
    const box = el("input", { type: "checkbox", class: cls });
    box.checked = this.state[key] === "1";
    box.addEventListener("change", () => { this.state[key] = box.checked ? "1" : "0"; saveURL(); this.execute(); });
    return el("label", {}, box, ` ${label}`);
  }

  select(cls, key, options, title) {
    const node = el("select", { class: cls, title }, ...options.map(([value, label]) => el("option", { value }, label)));
    node.value = this.state[key];
    node.addEventListener("change", () => { this.state[key] = node.value; saveURL(); this.execute(); });
    return node;
  }

  build() {
    this.expr = el("textarea", { class: "expression-input", rows: "1", placeholder: "Expression (press Shift+Enter for newlines)", spellcheck: "false" });
    this.expr.value = this.state.expr;
    this.expr.addEventListener("keydown", (ev) => this.onKey(ev));
    this.expr.addEventListener("input", () => { this.state.expr = this.expr.value; this.complete(); });
    this.suggestions = el("ul", { class: "autocomplete" });
    const execute = el("button", { class: "execute-btn", onclick: () => this.execute() }, "Execute");
    const remove = el("button", { class: "secondary remove-btn", onclick: () => removePanel(this) }, "Remove Panel");

    this.tabs = {
      0: el("a", { class: "tab-graph", onclick: () => this.setTab("0") }, "Graph"),
      1: el("a", { class: "tab-table", onclick: () => this.setTab("1") }, "Table"),
    };
    const rangeInput = this.input("range-input", "range_input", { title: "Range" });
    const shift = (sign) => () => {
      const steps = [60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800, 1209600];
      const cur = parseDuration(rangeInput.value) || 3600;
      const next = sign > 0 ? steps.find((s) => s > cur) || cur * 2 : [...steps].reverse().find((s) => s < cur) || cur;
      rangeInput.value = this.state.range_input = formatDuration(next);
      saveURL();
      this.execute();
    };
    this.graphControls = el("div", { class: "controls" },
      el("button", { class: "secondary small", onclick: shift(-1), title: "Shrink the range" }, "−"), rangeInput,
      el("button", { class: "secondary small", onclick: shift(1), title: "Widen the range" }, "+"),
      this.input("end-input", "end_input", { placeholder: "End time (UTC)", title: "End time, empty for now" }),
      this.input("step-input", "step_input", { placeholder: "Res. (s)", title: "Resolution in seconds, empty for auto" }),
      this.select("max-source-resolution", "max_source_resolution", RESOLUTIONS, "The coarsest downsampled data to read"));
    this.tableControls = el("div", { class: "controls" },
      this.input("moment-input", "moment_input", { placeholder: "Evaluation time (UTC)", title: "Empty for now" }));
    this.result = el("div", { class: "result" });
    this.messages = el("div", { class: "messages" });
    return el("div", { class: "panel" },
      el("div", { class: "expr-row" }, this.expr, execute),
      this.suggestions,
      el("div", { class: "options" },
        this.checkbox("dedup-checkbox", "deduplicate", "Use Deduplication"),
        this.checkbox("partial-response-checkbox", "partial_response", "Use Partial Response"), remove),
      el("div", { class: "tabs" }, this.tabs[0], this.tabs[1]),
      el("div", { class: "tab-body" }, this.graphControls, this.tableControls, this.messages, this.result));
  }

  onKey(ev) {
    const open = this.suggestions.children.length > 0;
    if (open && (ev.key === "Tab" || (ev.key === "Enter" && this.selected >= 0))) {
      ev.preventDefault();
      this.accept(this.suggestions.children[Math.max(this.selected, 0)].textContent);
    } else if (open && (ev.key === "ArrowDown" || ev.key === "ArrowUp")) {
      ev.preventDefault();
      const n = this.suggestions.children.length;
      this.selected = (this.selected + (ev.key === "ArrowDown" ? 1 : n - 1) + n) % n;
      [...this.suggestions.children].forEach((li, i) => li.classList.toggle("selected", i === this.selected));
    } else if (ev.key === "Escape") {
      this.suggestions.replaceChildren();
    } else if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      this.suggestions.replaceChildren();
      this.execute();
    }
  }

  // Metric names that complete the word before the cursor.
  complete() {
    this.selected = -1;
    const before = this.expr.value.slice(0, this.expr.selectionStart);
    const word = (before.match(/[a-zA-Z_:][a-zA-Z0-9_:]*$/) || [""])[0];
    const matches = word ? metricNames.filter((n) => n.startsWith(word) && n !== word).slice(0, 10) : [];
    this.suggestions.replaceChildren(...matches.map((n) => el("li", { onmousedown: (ev) => { ev.preventDefault(); this.accept(n); } }, n)));
  }

  accept(name) {
    const pos = this.expr.selectionStart;
    const before = this.expr.value.slice(0, pos).replace(/[a-zA-Z_:][a-zA-Z0-9_:]*$/, name);
    this.expr.value = before + this.expr.value.slice(pos);
    this.expr.selectionStart = this.expr.selectionEnd = before.length;
    this.state.expr = this.expr.value;
    this.suggestions.replaceChildren();
    saveURL();
  }

  setTab(tab) {
    this.state.tab = tab;
    this.tabs[0].classList.toggle("active", tab === "0");
    this.tabs[1].classList.toggle("active", tab === "1");
    this.graphControls.style.display = tab === "0" ? "" : "none";
    this.tableControls.style.display = tab === "1" ? "" : "none";
    saveURL();
    this.execute();
  }

  showMessages(body) {
    this.messages.replaceChildren(...(body.warnings || []).map((w) => el("div", { class: "alert warning" }, w)));
    if (body.status !== "success") {
      this.messages.append(el("div", { class: "alert error" }, `Error executing query: ${body.error}`));
    }
  }

  async execute() {
    const expr = this.expr.value.trim();
    this.state.expr = this.expr.value;
    saveURL();
    this.result.replaceChildren();
    this.messages.replaceChildren();
    if (!expr) return;
    const common = {
      query: expr,
      dedup: this.state.deduplicate === "1" ? "true" : "false",
      partial_response: this.state.partial_response === "1" ? "true" : "false",
    };
    const started = performance.now();
    if (this.state.tab === "1") {
      const time = this.state.moment_input ? parseEnd(this.state.moment_input) : undefined;
      const body = await apiGet("/api/v1/query", { ...common, time });
      this.showMessages(body);
      if (body.status === "success") this.renderTable(body.data);
    } else {
      const range = parseDuration(this.state.range_input);
      const end = parseEnd(this.state.end_input);
      if (range === null || end === null) {
        this.messages.append(el("div", { class: "alert error" }, "Invalid range or end time."));
        return;
      }
      const step = Number(this.state.step_input) || Math.max(Math.floor(range / 250), 1);
      const start = end - range;
      const maxSourceResolution = this.state.max_source_resolution;
      const body = await apiGet("/api/v1/query_range", { ...common, start, end, step, max_source_resolution: maxSourceResolution });
      this.showMessages(body);
      if (body.status === "success") {
        if (!body.data.result.length) this.result.append(el("p", { class: "muted" }, "No datapoints found."));
        else drawChart(this.result, body.data.result, start, end, step);
      }
    }
    this.result.append(el("div", { class: "muted stats" }, `Load time: ${Math.round(performance.now() - started)}ms`));
  }

  renderTable(data) {
    const rows = [];
    if (data.resultType === "vector") {
      for (const s of data.result) rows.push([seriesName(s.metric), s.value[1]]);
    } else if (data.resultType === "matrix") {
      for (const s of data.result) rows.push([seriesName(s.metric), s.values.map(([t, v]) => `${v} @${t}`).join("\n")]);
    } else {
      rows.push([data.resultType, data.result[1]]);
    }
    if (!rows.length) {
      this.result.append(el("p", { class: "muted" }, "Empty query result"));
      return;
    }
    this.result.append(el("table", { class: "result-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "Element"), el("th", {}, "Value"))),
      el("tbody", {}, ...rows.map(([name, value]) =>
        el("tr", { class: "result-row" }, el("td", { class: "series" }, name), el("td", { class: "value" }, value))))));
  }
}

function addPanel(state) {
  const panel = new Panel(state);
  panels.push(panel);
  document.getElementById("panels").append(panel.node);
  panel.setTab(state.tab === "1" ? "1" : "0");
  return panel;
}

function removePanel(panel) {
  const i = panels.indexOf(panel);
  if (i < 0) return;
  panels.splice(i, 1);
  panel.node.remove();
  if (!panels.length) addPanel({ ...DEFAULTS });
  saveURL();
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("add-panel").addEventListener("click", () => addPanel({ ...DEFAULTS }));
  for (const state of panelsFromURL()) addPanel(state);
  const names = await apiGet("/api/v1/label/__name__/values");
  if (names.status === "success") metricNames = names.data;
});
