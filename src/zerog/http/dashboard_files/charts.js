// Small charts in plain SVG: stacked columns over time, and horizontal bars. Labels are text
// nodes like everything else on the page.

import { h, svg } from "./dom.js";

/**
 * Stacked columns: ``columns`` is [{label, values: [n per series]}], oldest first;
 * ``series`` is [{name, cls}]. Each column has a <title> with its numbers.
 */
export function columnChart(columns, series, { width = 1200, height = 150 } = {}) {
  const top = Math.max(1, ...columns.map((c) => c.values.reduce((a, b) => a + b, 0)));
  const pad = { left: 32, bottom: 18, top: 8 };
  const plotH = height - pad.bottom - pad.top;
  const step = (width - pad.left) / Math.max(1, columns.length);
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart",
    role: "img",
    "aria-label": series.map((s) => s.name).join(" and ") + " per column",
  });
  chart.append(axis(pad.left, pad.top, plotH, width, top));
  columns.forEach((column, index) => {
    const x = pad.left + index * step + 1;
    let y = pad.top + plotH;
    const group = svg("g", { class: "column" });
    group.append(svg("title", {}, `${column.label}: ${describe(column.values, series)}`));
    column.values.forEach((value, s) => {
      const barH = (value / top) * plotH;
      y -= barH;
      if (value > 0) {
        group.append(svg("rect", { x, y, width: Math.max(1, step - 2), height: barH, class: series[s].cls }));
      }
    });
    chart.append(group);
    if (column.tick) {
      const at = { x: x + step / 2, y: height - 4, class: "tick", "text-anchor": "middle" };
      chart.append(svg("text", at, column.tick));
    }
  });
  return h("figure", { class: "chart-box" }, chart, legend(series));
}

function axis(left, top, plotH, width, max) {
  return svg(
    "g",
    { class: "axis" },
    svg("line", { x1: left, y1: top + plotH, x2: width, y2: top + plotH }),
    svg("text", { x: left - 4, y: top + 8, "text-anchor": "end", class: "tick" }, String(max)),
    svg("text", { x: left - 4, y: top + plotH, "text-anchor": "end", class: "tick" }, "0"),
  );
}

function describe(values, series) {
  return values.map((v, i) => `${v} ${series[i].name}`).join(", ");
}

function legend(series) {
  return h(
    "figcaption",
    { class: "legend" },
    series.map((s) => h("span", { class: "key" }, h("span", { class: `swatch ${s.cls}` }), s.name)),
  );
}

/** Horizontal bars: rows of {label, value, text, cls}, scaled to the largest value. */
export function barList(rows) {
  const top = Math.max(Number.EPSILON, ...rows.map((r) => r.value || 0));
  return h(
    "div",
    { class: "bar-list" },
    rows.map((row) => {
      const bar = h("span", { class: `hbar ${row.cls || ""}` });
      bar.style.width = `${(((row.value || 0) / top) * 100).toFixed(1)}%`;
      return h(
        "div",
        { class: "bar-row" },
        h("span", { class: "bar-label" }, row.label),
        h("span", { class: "bar-track" }, bar),
        h("span", { class: "bar-value" }, row.text),
      );
    }),
  );
}
