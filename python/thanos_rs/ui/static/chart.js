// A line chart in SVG: time on x, values on y, one line per series, a legend,
// and the values under the cursor on hover. Lines break where a series has
// no point for a step; a point with no neighbour to join is drawn as a dot, so
// that a series present at a single step still shows.
"use strict";

const PALETTE = ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9", "#705da0",
  "#508642", "#cca300", "#447ebc", "#c15c17", "#890f02", "#0a437c", "#6d1f62", "#584477"];
const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

// Round tick steps: 1, 2 or 5 times a power of ten.
function niceStep(span, count) {
  const raw = span / count;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}

const SUFFIXES = [["T", 1e12], ["G", 1e9], ["M", 1e6], ["k", 1e3]];

// Tick labels from lo to hi every step: one suffix for the axis (from its
// largest value) and as many decimals as the step needs, so that no two
// labels read the same (1.2345k, 1.235k, ... rather than 1.23k five times).
function tickFormatter(lo, hi, step) {
  const top = Math.max(Math.abs(lo), Math.abs(hi));
  const [suffix, scale] = SUFFIXES.find(([, f]) => top >= f) || ["", 1];
  const decimals = Math.min(Math.max(0, Math.ceil(-Math.log10(step / scale) - 1e-9)), 12);
  return (v) => `${+(v / scale).toFixed(decimals)}${suffix}`;
}

// The value range to show: the data's, or for a flat series (or none) one
// around it, 10 % of the value either way (1 around zero), so the line sits
// mid-chart between distinct ticks.
function valueRange(lines) {
  let lo = Infinity, hi = -Infinity;
  for (const l of lines) for (const [, v] of l.points) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!isFinite(lo)) return [0, 1];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - pad, hi + pad];
  }
  return [lo, hi];
}

function clock(ms) {
  return new Date(ms).toISOString().slice(11, 16);
}

// Draws `series` ([{metric, values: [[t, "v"], ...]}]) from start to end (s)
// every step (s) into `container`.
function drawChart(container, series, start, end, step) {
  container.replaceChildren();
  const box = el("div", { class: "chart" });
  const tooltip = el("div", { class: "tooltip" });
  container.append(box);
  const width = Math.max(container.clientWidth || 800, 300);
  const height = 320;
  const m = { left: 60, right: 10, top: 10, bottom: 24 };
  const lines = series.map((s, i) => ({
    name: seriesName(s.metric),
    color: PALETTE[i % PALETTE.length],
    points: s.values.map(([t, v]) => [t * 1000, parseFloat(v)]).filter(([, v]) => isFinite(v)),
  }));
  let [lo, hi] = valueRange(lines);
  const yStep = niceStep(hi - lo, 5);
  lo = Math.floor(lo / yStep) * yStep;
  hi = Math.ceil(hi / yStep) * yStep;
  const t0 = start * 1000, t1 = end * 1000;
  const x = (t) => m.left + ((t - t0) / Math.max(t1 - t0, 1)) * (width - m.left - m.right);
  const y = (v) => height - m.bottom - ((v - lo) / (hi - lo)) * (height - m.top - m.bottom);

  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none" });
  const tick = tickFormatter(lo, hi, yStep);
  for (let k = 0; lo + k * yStep <= hi + yStep / 2; k++) {
    const v = lo + k * yStep;  // not summed step by step: no drift in the labels
    root.append(svg("line", { class: "grid", x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }));
    const label = svg("text", { class: "axis y-tick", x: m.left - 6, y: y(v) + 4, "text-anchor": "end" });
    label.textContent = tick(v);
    root.append(label);
  }
  const xStep = niceStep((t1 - t0) / 60000, 8) * 60000;
  for (let t = Math.ceil(t0 / xStep) * xStep; t <= t1; t += xStep) {
    root.append(svg("line", { class: "grid", x1: x(t), x2: x(t), y1: m.top, y2: height - m.bottom }));
    const label = svg("text", { class: "axis", x: x(t), y: height - 6, "text-anchor": "middle" });
    label.textContent = clock(t);
    root.append(label);
  }
  const gap = step * 1000 * 1.5;
  for (const l of lines) {
    let d = "";
    l.points.forEach(([t, v], i) => {
      const joinsPrev = i > 0 && t - l.points[i - 1][0] <= gap;
      const joinsNext = i + 1 < l.points.length && l.points[i + 1][0] - t <= gap;
      d += `${joinsPrev ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      if (!joinsPrev && !joinsNext) {
        root.append(svg("circle", { class: "point", cx: x(t).toFixed(1), cy: y(v).toFixed(1), r: 2.5, fill: l.color }));
      }
    });
    root.append(svg("path", { class: "series", d, fill: "none", stroke: l.color, "stroke-width": 1.5 }));
  }
  const cursor = svg("line", { y1: m.top, y2: height - m.bottom, stroke: "#999", visibility: "hidden" });
  root.append(cursor);
  box.append(root, tooltip);

  root.addEventListener("mousemove", (ev) => {
    const rect = root.getBoundingClientRect();
    const px = ((ev.clientX - rect.left) / rect.width) * width;
    const t = t0 + ((px - m.left) / (width - m.left - m.right)) * (t1 - t0);
    const rows = [];
    for (const l of lines) {
      let best = null;
      for (const p of l.points) if (best === null || Math.abs(p[0] - t) < Math.abs(best[0] - t)) best = p;
      if (best && Math.abs(best[0] - t) <= gap) rows.push([l, best]);
    }
    if (!rows.length) { tooltip.style.display = "none"; cursor.setAttribute("visibility", "hidden"); return; }
    const at = rows[0][1][0];
    cursor.setAttribute("x1", x(at));
    cursor.setAttribute("x2", x(at));
    cursor.setAttribute("visibility", "visible");
    tooltip.replaceChildren(el("div", {}, formatTime(at)),
      ...rows.slice(0, 10).map(([l, p]) => el("div", {}, el("span", { class: "swatch", style: `background:${l.color}` }),
        `${l.name}: ${p[1]}`)));
    tooltip.style.display = "block";
    tooltip.style.left = `${Math.min(ev.clientX - rect.left + 12, rect.width - 260)}px`;
    tooltip.style.top = `${ev.clientY - rect.top + 12}px`;
  });
  root.addEventListener("mouseleave", () => { tooltip.style.display = "none"; cursor.setAttribute("visibility", "hidden"); });

  container.append(el("div", { class: "legend" }, ...lines.map((l) =>
    el("div", { class: "legend-item" }, el("span", { class: "swatch", style: `background:${l.color}` }), l.name))));
}
