// Inline SVG charts for the scalelab page: horizontal bars, scatter, grouped bars (log scale).
// Text goes in with textContent only, never markup.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2456a6", "#e08a1e", "#2b9a66", "#b3261e", "#7b4bb7", "#5d6875", "#0f8aa3", "#c2185b"];

  function el(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(width, height, label) {
    return el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": label });
  }

  // items: [{label, value, text}]; opts: {limit, limitLabel}. Bars scaled to max(value, limit).
  function barList(items, opts) {
    opts = opts || {};
    const rowH = 20, left = 150, right = 120, width = 460;
    const height = items.length * rowH + 24;
    const s = svg(width, height, opts.title || "bars");
    const max = Math.max(opts.limit || 0, ...items.map((d) => d.value), 1e-30);
    const scale = (v) => ((width - left - right) * Math.max(0, v)) / max;
    items.forEach((d, i) => {
      const y = 6 + i * rowH;
      s.appendChild(el("text", { x: left - 6, y: y + 12, "text-anchor": "end" }, d.label));
      s.appendChild(el("rect", { x: left, y: y + 2, width: Math.max(1, scale(d.value)), height: rowH - 6, fill: PALETTE[i % PALETTE.length], rx: 2 }));
      s.appendChild(el("text", { x: left + scale(d.value) + 5, y: y + 12 }, d.text));
    });
    if (opts.limit) {
      const x = left + scale(opts.limit);
      s.appendChild(el("line", { x1: x, x2: x, y1: 2, y2: height - 14, stroke: "#b3261e", "stroke-dasharray": "4 3" }));
      s.appendChild(el("text", { x: x, y: height - 3, "text-anchor": "middle", fill: "#b3261e" }, opts.limitLabel || ""));
    }
    return s;
  }

  function ticks(lo, hi, log) {
    if (log) {
      const out = [];
      const steps = Math.log10(hi / lo) < 2.5 ? [1, 2, 5] : [1];  // few decades: 1-2-5 ticks
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) steps.forEach((m) => out.push(m * 10 ** e));
      return out.filter((t) => t >= lo / 1.0001 && t <= hi * 1.0001);
    }
    const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
    const k = [1, 2, 5, 10].find((m) => (hi - lo) / (step * m) <= 6) || 10;
    const out = [];
    for (let t = Math.ceil(lo / (step * k)) * step * k; t <= hi + 1e-12; t += step * k) out.push(t);
    return out;
  }

  function axisScale(lo, hi, a, b, log) {
    if (log) {
      const l0 = Math.log10(lo), l1 = Math.log10(hi);
      return (v) => a + ((Math.log10(v) - l0) / (l1 - l0 || 1)) * (b - a);
    }
    return (v) => a + ((v - lo) / (hi - lo || 1)) * (b - a);
  }

  function pad(lo, hi, log) {
    if (lo === hi) return log ? [lo / 2, hi * 2] : [lo - 1, hi + 1];
    if (log) return [lo / 1.3, hi * 1.3];
    const m = (hi - lo) * 0.08;
    return [Math.max(0, lo - m), hi + m];
  }

  // points: [{x, y, label, highlight}]; opts: {xlabel, ylabel, logx, logy, xfmt, yfmt, line}
  function scatter(points, opts) {
    const width = 560, height = 300, L = 70, R = 16, T = 12, B = 42;
    const s = svg(width, height, opts.title || "scatter");
    const pts = points.filter((p) => isFinite(p.x) && isFinite(p.y) && (!opts.logx || p.x > 0) && (!opts.logy || p.y > 0));
    if (!pts.length) return s;
    const [x0, x1] = pad(Math.min(...pts.map((p) => p.x)), Math.max(...pts.map((p) => p.x)), opts.logx);
    const [y0, y1] = pad(Math.min(...pts.map((p) => p.y)), Math.max(...pts.map((p) => p.y)), opts.logy);
    const sx = axisScale(x0, x1, L, width - R, opts.logx), sy = axisScale(y0, y1, height - B, T, opts.logy);
    for (const t of ticks(x0, x1, opts.logx)) {
      s.appendChild(el("line", { x1: sx(t), x2: sx(t), y1: T, y2: height - B, class: "gridline" }));
      s.appendChild(el("text", { x: sx(t), y: height - B + 14, "text-anchor": "middle" }, opts.xfmt(t)));
    }
    for (const t of ticks(y0, y1, opts.logy)) {
      s.appendChild(el("line", { x1: L, x2: width - R, y1: sy(t), y2: sy(t), class: "gridline" }));
      s.appendChild(el("text", { x: L - 5, y: sy(t) + 4, "text-anchor": "end" }, opts.yfmt(t)));
    }
    s.appendChild(el("line", { x1: L, x2: width - R, y1: height - B, y2: height - B, class: "axis" }));
    s.appendChild(el("line", { x1: L, x2: L, y1: T, y2: height - B, class: "axis" }));
    s.appendChild(el("text", { x: (L + width - R) / 2, y: height - 6, "text-anchor": "middle" }, opts.xlabel));
    s.appendChild(el("text", { x: 12, y: (T + height - B) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(T + height - B) / 2})` }, opts.ylabel));
    if (opts.line) {
      const sorted = pts.filter((p) => !p.extra).sort((a, b) => a.x - b.x);
      s.appendChild(el("polyline", { points: sorted.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" "), fill: "none", stroke: "#9fb6d6", "stroke-width": 1.5 }));
    }
    for (const p of pts) {
      const dot = el("circle", { cx: sx(p.x), cy: sy(p.y), r: p.highlight ? 6 : 4, fill: p.highlight ? "#e08a1e" : "#2456a6", opacity: 0.85 });
      dot.appendChild(el("title", {}, p.label));
      s.appendChild(dot);
    }
    return s;
  }

  // groups: [label]; series: {name: [ratio|null per group]}; log scale with a line at 1.
  function groupedBars(groups, series, opts) {
    const width = 620, height = 280, L = 56, R = 10, T = 22, B = 58;
    const s = svg(width, height, opts.title || "ratios");
    const names = Object.keys(series);
    const vals = names.flatMap((n) => series[n]).filter((v) => v !== null && v > 0 && isFinite(v));
    if (!vals.length) return s;
    const lo = Math.min(1, ...vals) / 1.5, hi = Math.max(1, ...vals) * 1.5;
    const sy = axisScale(lo, hi, height - B, T, true);
    const gw = (width - L - R) / groups.length, bw = (gw * 0.8) / names.length;
    for (const t of ticks(lo, hi, true)) {
      s.appendChild(el("line", { x1: L, x2: width - R, y1: sy(t), y2: sy(t), class: "gridline" }));
      s.appendChild(el("text", { x: L - 5, y: sy(t) + 4, "text-anchor": "end" }, t >= 1 ? `${t}x` : `${t}x`));
    }
    groups.forEach((g, i) => {
      names.forEach((n, j) => {
        const v = series[n][i];
        if (v === null || !(v > 0) || !isFinite(v)) return;
        const x = L + i * gw + gw * 0.1 + j * bw, y1 = sy(1), y2 = sy(v);
        const bar = el("rect", { x, y: Math.min(y1, y2), width: Math.max(1, bw - 2), height: Math.max(1, Math.abs(y2 - y1)), fill: PALETTE[j % PALETTE.length] });
        bar.appendChild(el("title", {}, `${g} ${n}: ${v.toPrecision(3)}x`));
        s.appendChild(bar);
      });
      s.appendChild(el("text", { x: L + i * gw + gw / 2, y: height - B + 14, "text-anchor": "end", transform: `rotate(-25 ${L + i * gw + gw / 2} ${height - B + 14})` }, g));
    });
    s.appendChild(el("line", { x1: L, x2: width - R, y1: sy(1), y2: sy(1), stroke: "#1d232b" }));
    names.forEach((n, j) => {
      s.appendChild(el("rect", { x: L + j * 120, y: 4, width: 10, height: 10, fill: PALETTE[j % PALETTE.length] }));
      s.appendChild(el("text", { x: L + j * 120 + 14, y: 13 }, n));
    });
    return s;
  }

  window.Charts = { barList, scatter, groupedBars };
})();
