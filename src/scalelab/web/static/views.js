// Rendering of each view's answer (SI numbers from the API) into cards, tables and charts.
// All text goes in with textContent: model names from an uploaded config.json stay text.
"use strict";
(function () {
  const dash = "-";
  const ok = (v) => v !== null && v !== undefined && isFinite(v);
  const fixed = (v, d) => (ok(v) ? Number(v).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : dash);
  const sig = (v, d = 3) => {
    if (!ok(v)) return dash;
    const a = Math.abs(v);
    if (a !== 0 && a < 1e-3) return Number(v).toPrecision(d);  // 2.1e-11, never "0"
    return Number(Number(v).toPrecision(d)).toLocaleString("en-US", { maximumFractionDigits: 6 });
  };
  const num = (v) => (ok(v) && Math.abs(v) >= 1e6 ? Number(v).toLocaleString("en-US", { notation: "compact", maximumSignificantDigits: 3 }) : sig(v));
  const F = {
    fixed, sig,
    pct: (v) => (ok(v) ? `${(100 * v).toFixed(1)}%` : dash),
    gib: (b) => (ok(b) ? `${(b / 2 ** 30).toFixed(1)}` : dash),
    ms: (s) => (ok(s) ? sig(s * 1e3, 3) : dash),
    days: (s) => (ok(s) ? fixed(s / 86400, 1) : dash),
    musd: (v) => (ok(v) ? fixed(v / 1e6, 2) : dash),
    x: (r) => (ok(r) ? (r >= 100 ? `${fixed(r, 0)}x` : `${r.toFixed(2)}x`) : dash),
    int: (v) => (ok(v) ? fixed(v, 0) : dash),
    compact: (v) => (ok(v) ? Number(v).toLocaleString("en-US", { notation: "compact", maximumSignificantDigits: 3 }) : dash),
  };

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function card(id, key, value, sub) {
    return h("div", { class: "card", id }, h("div", { class: "k" }, key), h("div", { class: "v" }, value), sub ? h("div", { class: "s" }, sub) : null);
  }

  // columns: [[title, fn(row) -> string, numeric?]]; opts: {id, onPick, selected, rowKey}
  function table(columns, rows, opts) {
    opts = opts || {};
    const head = h("tr", {}, columns.map(([t, , n]) => h("th", { class: n ? "num" : null }, t)));
    const body = rows.map((r, i) => {
      const key = opts.rowKey ? opts.rowKey(r, i) : i;
      const tr = h("tr", { class: [opts.onPick ? "pick" : "", key === opts.selected ? "selected" : ""].join(" ").trim() || null, "data-key": key },
        columns.map(([, fn, n]) => h("td", { class: n ? "num" : null }, fn(r, i))));
      if (opts.onPick) tr.addEventListener("click", () => opts.onPick(r, i));
      return tr;
    });
    return h("table", { id: opts.id }, h("thead", {}, head), h("tbody", {}, body));
  }

  function panel(title, ...children) {
    return h("div", { class: "panel" }, title ? h("h2", {}, title) : null, ...children);
  }

  function note(text) {
    return text ? h("div", { class: "note" }, text) : null;
  }

  // ---- Train -------------------------------------------------------------------------------
  function train(r, ctx) {
    const plans = r.plans;
    const pick = Math.min(Math.max(1, parseInt(ctx.params.pick || "1", 10) || 1), Math.max(1, plans.length));
    const p = plans[pick - 1];
    const headline = [];
    const out = [];
    if (!p) {
      headline.push(card("hl-step", "no plan fits", dash, r.no_fit || ""));
      out.push(panel("No plan fits", note(r.explanation.join("\n"))));
      return { headline, out };
    }
    const q = p;
    const tag = `plan #${p.rank} of ${r.num_evaluated.toLocaleString("en-US")} evaluated`;
    headline.push(
      card("hl-step", "step time (s)", fixed(q.step_time_s, 2), tag),
      card("hl-mfu", "MFU", F.pct(q.mfu), `HFU ${F.pct(q.hfu)}`),
      card("hl-days", "time to train (days)", F.days(q.run_time_s), `${F.compact(q.train_tokens)} tokens`),
      card("hl-cost", "cost ($M)", F.musd(q.cost_usd), `${F.int(q.device_hours)} device-hours`),
      card("hl-energy", "energy (GWh)", ok(q.energy_kwh) ? fixed(q.energy_kwh / 1e6, 2) : dash, `${F.sig(q.joules_per_token)} J/token`),
      card("hl-mem", "memory / device (GiB)", F.gib(q.memory_per_device_bytes), `of ${F.gib(q.hbm_bytes)} GiB HBM`),
    );
    const cols = [
      ["#", (x) => String(x.rank)],
      ["plan", (x) => x.label + (x.num_equivalent ? ` (+${x.num_equivalent.toLocaleString("en-US")} equivalent)` : "")],
      ["step (s)", (x) => fixed(x.step_time_s, 2), true],
      ["MFU", (x) => F.pct(x.mfu), true],
      ["memory/device (GiB)", (x) => F.gib(x.memory_per_device_bytes) + (x.near_memory_limit ? " (near limit)" : ""), true],
      ["run (days)", (x) => F.days(x.run_time_s), true],
      ["cost ($M)", (x) => F.musd(x.cost_usd), true],
      ["energy (GWh)", (x) => (ok(x.energy_kwh) ? fixed(x.energy_kwh / 1e6, 2) : dash), true],
    ];
    out.push(panel(`Best plans by ${r.objective} (${r.num_evaluated.toLocaleString("en-US")} evaluated in ${fixed(r.search_s, 2)} s) — click a plan for its details`,
      table(cols, plans, { id: "plans", rowKey: (x) => x.rank, selected: p.rank, onPick: (x) => ctx.set({ pick: String(x.rank) }) }),
      h("ul", { class: "explain" }, r.explanation.map((line) => h("li", {}, line)))));
    const labels = r.breakdown_labels || {};
    const steps = Object.entries(q.breakdown_s).map(([k, v]) => ({ label: labels[k] || k, value: v, text: `${fixed(v, 3)} s (${F.pct(v / q.step_time_s)})` }));
    const mem = [{ label: "total", value: q.memory_per_device_bytes, text: `${F.gib(q.memory_per_device_bytes)} GiB` }].concat(
      Object.entries(q.memory_breakdown_bytes).map(([k, v]) => ({ label: k.replace(/_/g, " "), value: v, text: `${F.gib(v)} GiB` })));
    out.push(h("div", { class: "grid2" },
      panel(`Step time breakdown, plan #${p.rank} (${fixed(q.step_time_s, 2)} s)`, Charts.barList(steps, { title: "step breakdown" })),
      panel(`Memory per device, plan #${p.rank} (${q.memory_device})`, Charts.barList(mem, { title: "memory", limit: q.hbm_bytes, limitLabel: "HBM" }),
        note(q.fits_in_memory ? "" : `does not fit: ${F.gib(q.memory_overflow_bytes)} GiB over`))));
    const run = [
      ["tokens to train", F.compact(q.train_tokens)], ["wall time (days)", F.days(q.run_time_s)],
      ["device-hours", F.int(q.device_hours)], ["cost ($)", F.int(q.cost_usd)],
      ["energy (kWh)", F.int(q.energy_kwh)], ["CO2 (t)", ok(q.co2_kg) ? fixed(q.co2_kg / 1e3, 0) : dash],
      ["energy per token (J)", F.sig(q.joules_per_token)], ["tokens/s", F.int(q.tokens_per_s)],
      ["micro-batches per step", String(q.num_micro_batches)],
    ];
    const front = r.pareto.filter((x) => ok(x.run_time_s) && ok(x.cost_usd));
    out.push(h("div", { class: "grid2" },
      panel(`Whole run, plan #${p.rank}`, table([["quantity", (x) => x[0]], ["value", (x) => x[1], true]], run, { id: "run" })),
      panel("Pareto front: time vs cost", Charts.scatter(front.map((x) => ({ x: x.run_time_s / 86400, y: x.cost_usd / 1e6, label: `#${x.rank} ${x.label}`, highlight: x.rank === p.rank })),
        { title: "pareto", xlabel: "days to train", ylabel: "cost ($M)", xfmt: (t) => sig(t, 3), yfmt: (t) => sig(t, 3), line: true }))));
    return { headline, out };
  }

  // ---- Serve -------------------------------------------------------------------------------
  function joulesCard(r) {
    return card("hl-joules", "J per output token", F.sig(r.best.joules_per_token), "facility energy, all pools");
  }

  function serve(r) {
    const b = r.best;
    const headline = [
      card("hl-usd", "$ per M output tokens", fixed(b.usd_per_million_output_tokens, 3), b.mode),
      card("hl-tpot", "TPOT (ms)", F.ms(b.tpot_s), `target ${ok(r.workload.tpot_target_s) ? F.ms(r.workload.tpot_target_s) : "none"}`),
      card("hl-ttft", "TTFT (ms)", F.ms(b.ttft_s), `target ${ok(r.workload.ttft_target_s) ? F.ms(r.workload.ttft_target_s) : "none"}`),
      card("hl-gpu", "output tok/s per GPU", F.int(b.output_tokens_per_s_per_device), `${F.int(b.output_tokens_per_s_per_node)} per node of ${b.devices_per_node}${b.idle_devices ? `, ${b.idle_devices} idle` : ""}`),
      joulesCard(r),
      card("hl-conc", "max concurrency", F.int(b.max_concurrency), `${F.int(b.sequences_per_replica)} seqs/replica`),
    ];
    const cols = [
      ["mode", (o) => o.mode], ["deployment", (o) => o.deployment],
      ["seqs/replica", (o) => F.int(o.sequences_per_replica), true],
      ["TTFT ms", (o) => F.ms(o.ttft_s), true], ["TPOT ms", (o) => F.ms(o.tpot_s), true],
      ["out tok/s/GPU", (o) => F.int(o.output_tokens_per_s_per_device), true],
      ["$/M out tok", (o) => fixed(o.usd_per_million_output_tokens, 3), true],
      ["J/token", (o) => F.sig(o.joules_per_token), true],
    ];
    const out = [
      panel(`Deployments meeting the targets, cheapest first (${r.evaluated.toLocaleString("en-US")} evaluated)`, table(cols, r.options, { id: "options" })),
      panel("Latency-throughput frontier (within the TTFT target; orange: the cheapest deployment)",
        h("div", { class: "chart" }, Charts.scatter(r.pareto.map((o) => ({ x: o.tpot_s * 1e3, y: o.output_tokens_per_s_per_device, label: o.deployment }))
          .concat([{ x: b.tpot_s * 1e3, y: b.output_tokens_per_s_per_device, label: `cheapest: ${b.deployment}`, highlight: true, extra: true }]),
          { title: "frontier", xlabel: "TPOT (ms)", ylabel: "output tokens/s per GPU", logx: true, logy: true, xfmt: (t) => sig(t, 2), yfmt: (t) => sig(t, 2), line: true }))),
      panel("Frontier points, fastest first", table(cols, r.pareto, { id: "pareto" }),
        note("J/token is computed for the deployments listed above; frontier points that are not among them show -")),
    ];
    return { headline, out };
  }

  // ---- What-if -----------------------------------------------------------------------------
  function whatifTables(r) {
    const rows = r.rows;
    if (r.phase === "train") {
      return [
        panel(`Training ${r.model.name}: best plan by time`, table([
          ["cluster", (x) => x.label], ["devices", (x) => F.int(x.num_devices), true], ["plan", (x) => x.plan_text],
          ["step s", (x) => fixed(x.step_time_s, 2), true], ["MFU", (x) => F.pct(x.mfu), true],
          ["days", (x) => F.days(x.run_time_s), true], ["time vs base", (x) => F.x(x.time_ratio), true],
        ], rows, { id: "whatif-speed" }), note(r.setting)),
        panel("Whole-run totals", table([
          ["cluster", (x) => x.label], ["device-h (M)", (x) => (ok(x.device_hours) ? fixed(x.device_hours / 1e6, 2) : dash), true],
          ["cost ($M)", (x) => F.musd(x.cost_usd), true], ["GWh", (x) => (ok(x.energy_kwh) ? fixed(x.energy_kwh / 1e6, 2) : dash), true],
          ["CO2 (kt)", (x) => (ok(x.co2_kg) ? fixed(x.co2_kg / 1e6, 2) : dash), true], ["J/token", (x) => F.sig(x.joules_per_token), true],
          ["cost vs", (x) => F.x(x.cost_ratio), true], ["energy vs", (x) => F.x(x.energy_ratio), true],
        ], rows, { id: "whatif-totals" }), note(rows.filter((x) => x.note).map((x) => `${x.label}: ${x.note}`).join("\n"))),
      ];
    }
    return [
      panel(`Serving ${r.model.name}: decode speed`, table([
        ["target", (x) => x.label], ["devices", (x) => F.int(x.num_devices), true], ["deployment", (x) => x.deployment],
        ["seqs/replica", (x) => F.int(x.sequences_per_replica), true], ["TPOT ms", (x) => F.ms(x.tpot_s), true],
        ["fastest ms", (x) => F.ms(x.fastest_tpot_s), true], ["tok/s/request", (x) => fixed(x.tokens_per_s_per_request, 1), true],
        ["TPOT vs base", (x) => F.x(x.tpot_ratio), true],
      ], rows, { id: "whatif-speed" }), note(r.setting)),
      panel("Throughput, money, energy", table([
        ["target", (x) => x.label], ["out tok/s/node", (x) => F.int(x.output_tokens_per_s_per_node), true],
        ["$/M out tok", (x) => fixed(x.usd_per_million_output_tokens, 3), true], ["J/token", (x) => F.sig(x.joules_per_token), true],
        ["$ vs base", (x) => F.x(x.usd_ratio), true], ["J vs base", (x) => F.x(x.joules_ratio), true],
      ], rows, { id: "whatif-totals" }), note(rows.filter((x) => x.note).map((x) => `${x.label}: ${x.note}`).join("\n"))),
    ];
  }

  function assumptions(r, ctx) {
    const panels = [];
    for (const row of r.rows) {
      const inputs = table([
        ["parameter", (p) => h("span", {}, p.key, " ", p.edited ? h("span", { class: "tag edited" }, "edited") : null)],
        ["value", (p) => h("span", { "data-field": `set:${p.target}.${p.key}` },
          h("input", { type: "text", value: sig(p.value, 6).replace(/,/g, ""), "aria-label": `${p.target} ${p.key}`, "data-edit": `${p.target}.${p.key}`,
            onchange: (e) => ctx.edit(`${p.target}.${p.key}`, e.target.value) }),
          p.edited ? h("button", { type: "button", title: "back to the catalog value", onclick: () => ctx.edit(`${p.target}.${p.key}`, "") }, "reset") : null,
          h("div", { class: "err" }))],
        ["source", (p) => h("span", {}, p.assumption ? h("span", { class: "tag" }, "assumption") : null, " ", p.source)],
      ], row.editable, { id: null });
      inputs.querySelectorAll("td:nth-child(3)").forEach((td) => td.classList.add("src"));
      panels.push(panel(`${row.label}: assumptions`, h("ul", { class: "explain" }, row.assumptions.map((a) => h("li", {}, a))), inputs));
    }
    return panels;
  }

  function whatif(r, ctx) {
    const rows = r.rows;
    const base = rows[0];
    let headline;
    if (r.phase === "train") {
      const done = rows.filter((x) => ok(x.run_time_s));
      const fastest = done.reduce((a, x) => (!a || x.run_time_s < a.run_time_s ? x : a), null);
      headline = [
        card("hl-base", `baseline ${base.label} (days)`, F.days(base.run_time_s), `${F.musd(base.cost_usd)} $M`),
        card("hl-best", `fastest: ${fastest ? fastest.label : dash} (days)`, fastest ? F.days(fastest.run_time_s) : dash, fastest ? `${F.x(fastest.cost_ratio)} the cost` : ""),
      ];
    } else {
      const done = rows.filter((x) => ok(x.usd_per_million_output_tokens));
      const cheapest = done.reduce((a, x) => (!a || x.usd_per_million_output_tokens < a.usd_per_million_output_tokens ? x : a), null);
      headline = [
        card("hl-base", `baseline ${base.label}: TPOT (ms)`, F.ms(base.tpot_s), `$${fixed(base.usd_per_million_output_tokens, 3)}/M tokens`),
        card("hl-best", `cheapest: ${cheapest ? cheapest.label : dash} ($/M)`, cheapest ? fixed(cheapest.usd_per_million_output_tokens, 3) : dash, cheapest ? `${F.sig(cheapest.joules_per_token)} J/token` : ""),
      ];
    }
    const series = r.phase === "train"
      ? { "time to train": rows.map((x) => x.time_ratio), cost: rows.map((x) => x.cost_ratio), energy: rows.map((x) => x.energy_ratio) }
      : { TPOT: rows.map((x) => x.tpot_ratio), "$ per token": rows.map((x) => x.usd_ratio), "J per token": rows.map((x) => x.joules_ratio) };
    const out = [
      ...whatifTables(r),
      panel(`Each target against ${base.label} (below 1 is better, log scale)`, h("div", { class: "chart" }, Charts.groupedBars(rows.map((x) => x.label), series, { title: "ratios" }))),
      ...assumptions(r, ctx),
    ];
    return { headline, out };
  }

  // ---- Claims ------------------------------------------------------------------------------
  function ledgerTable(r) {
    const parts = (c) => (c.parts || []).map((pt) =>
      h("li", {}, `${pt.quantity}: claimed ${num(pt.claimed)}, scalelab ${pt.measured === null ? "-" : num(pt.measured)}${pt.kind ? ` (${pt.kind})` : ""}`));
    return table([
      ["", (c) => `(${c.id})`],
      ["claim (as stated)", (c) => c.claim],
      ["scalelab's evidence", (c) => h("div", {}, c.measured, c.basis ? ` [${c.basis}]` : "", h("ul", { class: "explain" }, parts(c)))],
      ["verdict", (c) => c.verdict_text || c.verdict],
      ["reproduce with", (c) => h("code", {}, c.command || "-")],
    ], r.claims, { id: "claims" });
  }

  function claims(r) {
    const headline = [card("hl-claims", "claims checked", String(r.claims.length), `about ${r.subject}`)];
    for (const [label, n] of Object.entries(r.verdict_counts || {})) {
      headline.push(card(`hl-${label.replace(/\W+/g, "-")}`, label, String(n), "claims"));
    }
    return { headline, out: [panel("Seed-article claims: evidence and verdicts", h("p", { class: "hint" }, `Source: ${r.seed}`),
      ledgerTable(r), note(r.rule))] };
  }

  window.Views = { train, serve, whatif, claims, h, F };
})();
