// Helpers shared by the pages: API calls and how series and times are written.
"use strict";

const PREFIX = window.PATH_PREFIX || "";

// Calls the HTTP API; resolves to the whole JSON body (errors included).
async function apiGet(path, params) {
  const url = new URL(PREFIX + path, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.append(k, v);
  }
  const resp = await fetch(url);
  try {
    return await resp.json();
  } catch (e) {
    return { status: "error", errorType: "internal", error: `HTTP ${resp.status}: ${resp.statusText}` };
  }
}

// name{label="value", ...}, as Prometheus writes a series.
function seriesName(metric) {
  const name = metric.__name__ || "";
  const labels = Object.keys(metric)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  return `${name}{${labels.join(", ")}}`;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// Durations as the classic UI writes them: 1w, 2d, 1h, 30m, 15s.
const UNITS = [["y", 31536000], ["w", 604800], ["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];

function parseDuration(text) {
  const m = String(text).trim().match(/^(\d+)([ywdhms])$/);
  if (!m) return null;
  return Number(m[1]) * Object.fromEntries(UNITS)[m[2]];
}

function formatDuration(seconds) {
  for (const [unit, size] of UNITS) {
    if (seconds % size === 0 && seconds >= size) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

// UTC "YYYY-MM-DD HH:MM:SS".
function formatTime(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
}

// How long ago an RFC 3339 time was: "12s ago", "3m 4s ago"; Go's zero time is "Never".
function ago(rfc3339) {
  const t = Date.parse(rfc3339);
  if (isNaN(t) || t <= 0) return "Never";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s ago` : `${Math.floor(s / 3600)}h ago`;
}

// A rule as it stands in its rule file.
function ruleYAML(r) {
  const lines = r.type === "alerting" ? [`alert: ${r.name}`] : [`record: ${r.name}`];
  lines.push(`expr: ${r.query}`);
  if (r.type === "alerting" && r.duration) lines.push(`for: ${formatDuration(r.duration)}`);
  if (r.type === "alerting" && r.keepFiringFor) lines.push(`keep_firing_for: ${formatDuration(r.keepFiringFor)}`);
  for (const key of ["labels", "annotations"]) {
    const set = r[key] || {};
    const names = Object.keys(set).sort();
    if (names.length) lines.push(`${key}:`, ...names.map((k) => `  ${k}: ${JSON.stringify(set[k])}`));
  }
  return lines.join("\n");
}
