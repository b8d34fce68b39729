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
