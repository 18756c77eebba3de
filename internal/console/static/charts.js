// Small SVG charts: horizontal bars and stacked bars. No library, nothing
// loaded from elsewhere.
"use strict";
const SVGNS = "http://www.w3.org/2000/svg";
// label is a row's name, shortened to fit; the whole name is its tooltip.
function label(x, y, name, max) {
  const short = name.length > max ? name.slice(0, max - 1) + "…" : name;
  const e = svgEl("text", { x, y, "text-anchor": "end" }, short);
  e.appendChild(svgEl("title", {}, name));
  return e;
}
function svgEl(name, attrs, text) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
// barChart: rows [{label, value (0..1)}], shown as percentages.
function barChart(title, rows) {
  const rowH = 24, labelW = 140, w = 400, h = rows.length * rowH + 8;
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": title });
  svg.appendChild(svgEl("title", {}, title));
  rows.forEach((r, i) => {
    const y = i * rowH + 4, bw = Math.max(0, Math.min(1, r.value)) * (w - labelW - 60);
    svg.appendChild(label(labelW - 6, y + 14, r.label, 17));
    svg.appendChild(svgEl("rect", { x: labelW, y: y + 2, width: bw, height: rowH - 6, fill: r.value >= 0.8 ? "#176a2c" : r.value >= 0.5 ? "#0b5cad" : "#a4161a" }));
    svg.appendChild(svgEl("text", { x: labelW + bw + 4, y: y + 14 }, (100 * r.value).toFixed(1) + "%"));
  });
  return svg;
}
// stackedBars: rows [{label, parts:[n...]}], series [{name, color}].
function stackedBars(title, rows, series) {
  const rowH = 26, labelW = 230, w = 700, h = rows.length * rowH + 8;
  const max = Math.max(1, ...rows.map(r => r.parts.reduce((a, b) => a + b, 0)));
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": title });
  svg.appendChild(svgEl("title", {}, title));
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    svg.appendChild(label(labelW - 6, y + 14, r.label, 30));
    let x = labelW;
    r.parts.forEach((n, j) => {
      const bw = n / max * (w - labelW - 50);
      if (bw > 0) {
        const rect = svgEl("rect", { x, y: y + 2, width: bw, height: rowH - 6, fill: series[j].color });
        rect.appendChild(svgEl("title", {}, `${series[j].name}: ${n}`));
        svg.appendChild(rect);
      }
      x += bw;
    });
    svg.appendChild(svgEl("text", { x: x + 4, y: y + 14 }, String(r.parts.reduce((a, b) => a + b, 0))));
  });
  return svg;
}
function legend(series) {
  const d = document.createElement("div");
  d.className = "legend";
  for (const s of series) {
    const sp = document.createElement("span");
    sp.textContent = s.name;
    sp.style.setProperty("--c", s.color);
    d.appendChild(sp);
  }
  return d;
}
