// The page controller: forms built from /api/options, state in the URL (parameter names are the
// CLI's flags), one request per change (older ones aborted), progress polled while a search runs.
"use strict";
(function () {
  const { h } = window.Views;
  const CSV_TABLES = {
    train: ["plans", "pareto", "breakdown", "memory"],
    serve: ["options", "pareto"],
    whatif: ["rows", "assumptions", "parameters"],
    claims: ["claims"],
  };
  const LABELS = { train: "Train", serve: "Serve", whatif: "What-if", claims: "Claims" };
  // Each form: fields in order; kind decides the widget and which URL parameters it owns.
  const FORMS = {
    train: [
      ["legend", "Model"], ["model"],
      ["legend", "Cluster"], ["cluster", "cluster", "accelerator x count"], ["network"],
      ["legend", "Workload"], ["batch", "batch", "global batch"],
      ["number", "seq", "sequence length (tokens)"], ["text", "train-tokens", "tokens to train (e.g. 14.8T)"],
      ["check", "fp8", "FP8 where the device has it"],
      ["legend", "Search"], ["select", "objective", "rank by", "objectives"], ["number", "top", "plans to list"],
      ["legend", "Site"], ["text", "price-usd-per-hour", "USD per device-hour (2.5, or h800=2,h200=3; blank = catalog)"],
      ["text", "co2-kg-per-kwh", "grid kg CO2 per kWh (blank = 0.45, world average)"],
    ],
    serve: [
      ["legend", "Model"], ["model"],
      ["legend", "Hardware"], ["cluster", "cluster", "accelerator x count"], ["network"],
      ["legend", "Requests and targets"], ["number", "prompt", "prompt tokens"], ["number", "output", "output tokens"],
      ["select", "dtype", "weight dtype", "serve_dtypes"],
      ["text", "ttft-ms", "TTFT target (ms, blank = none)"], ["text", "tpot-ms", "TPOT target (ms, blank = none)"],
      ["number", "top", "deployments to list"],
      ["text", "price-usd-per-hour", "USD per device-hour (blank = catalog)"],
    ],
    whatif: [
      ["legend", "Model"], ["model"], ["select", "phase", "phase", "phases"],
      ["legend", "Hardware"], ["cluster", "baseline", "baseline: accelerator x count"],
      ["text", "vs", "compare with (comma-separated: h200x2048, gb200x2048, tpu-v5px2048, photonic, cim, fpga)"],
      ["legend", "Training (phase train)"], ["number", "global-batch", "global batch (sequences)"], ["number", "seq", "sequence length"],
      ["text", "train-tokens", "tokens to train"], ["check", "quick", "reduced plan space (faster)"],
      ["legend", "Serving (phase infer)"], ["number", "prompt", "prompt tokens"], ["number", "output", "output tokens"],
      ["text", "ttft-ms", "TTFT target (ms)"], ["text", "tpot-ms", "TPOT target (ms)"], ["number", "serve-devices", "devices per cluster"],
      ["legend", "Both"], ["select", "precision", "precision", null, ["fp8", "bf16"]],
      ["text", "price-usd-per-hour", "USD per device-hour (2.5, or h100=2,gb200=4; blank = catalog)"],
      ["text", "co2-kg-per-kwh", "grid kg CO2 per kWh (blank = 0.45)"],
    ],
    claims: [["legend", "The claims ledger"], ["note", "The seed article's twelve claims about DeepSeek-V3 and AI hardware, each set against a measurement, a validated model prediction or a datasheet, judged by one written rule. Nothing to choose: it takes a few seconds (gradient flow is measured with PyTorch)."]],
  };

  const state = { view: "train", params: {}, options: null, ctrl: null, rendered: 0, timers: [] };
  const $ = (id) => document.getElementById(id);

  function defaults(view) {
    return { ...state.options.defaults[view] };
  }

  function fromUrl() {
    const q = new URLSearchParams(location.search);
    const view = LABELS[q.get("view")] ? q.get("view") : "train";
    const params = defaults(view);
    for (const key of new Set(q.keys())) {
      if (key === "view") continue;
      params[key] = key === "set" ? q.getAll(key) : q.get(key);
    }
    if (params["batch-tokens"] && !q.has("global-batch")) delete params["global-batch"];
    state.view = view;
    state.params[view] = params;
  }

  function query(view, params, extra) {
    const q = new URLSearchParams();
    q.set("view", view);
    for (const [k, v] of Object.entries(params)) {
      if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
      else if (v !== undefined && v !== null) q.set(k, v);
    }
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q;
  }

  // ---- form widgets ----------------------------------------------------------------------
  function expandAccelerator(short) {
    const ids = state.options.accelerators.map((a) => a.id);
    if (ids.includes(short)) return short;
    const hits = ids.filter((i) => i.startsWith(short));
    return hits.length === 1 ? hits[0] : short;
  }

  function wrap(fields, label, ...inputs) {
    return h("div", { class: "field", "data-fields": fields }, label ? h("label", {}, label) : null, ...inputs, h("div", { class: "err" }));
  }

  function select(id, values, current, onchange) {
    const s = h("select", { id, onchange }, values.map(([v, t]) => h("option", { value: v }, t)));
    if (!values.some(([v]) => v === current)) s.appendChild(h("option", { value: current }, current));
    s.value = current;
    return s;
  }

  function widget(spec, params) {
    const [kind, name, label, optKey, fixedOpts] = spec;
    const changed = () => { readForm(); refresh(); };
    if (kind === "legend") return h("legend", {}, spec[1]);
    if (kind === "note") return h("p", { class: "hint" }, spec[1]);
    if (kind === "model") {
      const models = state.options.models.map((m) => [m.id, `${m.id} (${m.name})`]);
      if (params.mspec) models.unshift(["__upload__", `uploaded: ${params.__uploadName || "config.json"}`]);
      const sel = select("f-model", models, params.mspec ? "__upload__" : params.model, changed);
      const file = h("input", { type: "file", id: "f-upload", accept: ".json,application/json", onchange: upload });
      return wrap("model mspec", "model (catalog, or upload a Hugging Face config.json)", sel, file);
    }
    if (kind === "cluster") {
      const m = /^(.+?)x(\d+)$/.exec(params[name] || "") || [null, params[name] || "", ""];
      const accs = state.options.accelerators.filter((a) => !a.emerging).map((a) => [a.id, a.id]);
      const acc = select(`f-${name}-acc`, accs, expandAccelerator(m[1]), changed);
      const count = h("input", { type: "number", id: `f-${name}-count`, min: 1, value: m[2], oninput: debounced });
      return wrap(name, label, h("div", { class: "pair" }, acc, count));
    }
    if (kind === "network") {
      const nets = [["", "the accelerator's default"], ...state.options.networks.map((n) => [n.id, n.name])];
      return wrap("network", "scale-out network", select("f-network", nets, params.network || "", changed));
    }
    if (kind === "batch") {
      const tokens = params["batch-tokens"] !== undefined && params["global-batch"] === undefined;
      const input = h("input", { type: "text", id: "f-batch", value: tokens ? params["batch-tokens"] : params["global-batch"] || "", oninput: debounced });
      const unit = select("f-batch-unit", [["seqs", "sequences"], ["tokens", "tokens (e.g. 16M)"]], tokens ? "tokens" : "seqs", changed);
      return wrap("global-batch batch-tokens", label, h("div", { class: "pair" }, input, unit));
    }
    if (kind === "check") {
      const box = h("input", { type: "checkbox", id: `f-${name}`, onchange: changed });
      box.checked = ["1", "true", "on", "yes"].includes(String(params[name]).toLowerCase());
      const w = wrap(name, null, box, " ", h("label", { for: `f-${name}` }, label));
      w.classList.add("check");
      return w;
    }
    if (kind === "select") {
      const values = (fixedOpts || state.options[optKey]).map((v) => [v, v]);
      return wrap(name, label, select(`f-${name}`, values, params[name] || "", changed));
    }
    const input = h("input", { type: kind === "number" ? "number" : "text", id: `f-${name}`, value: params[name] ?? "", oninput: debounced, onchange: debounced });
    return wrap(name, label, input);
  }

  let debounceTimer = null;
  function debounced() {
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(() => { readForm(); refresh(); }, 450);
  }

  function buildForm() {
    const form = $("form");
    form.replaceChildren(...FORMS[state.view].map((spec) => widget(spec, state.params[state.view])));
    document.querySelectorAll("#tabs button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === state.view)));
  }

  function readForm() {
    const view = state.view;
    const p = state.params[view];
    const val = (id) => ($(id) ? $(id).value.trim() : undefined);
    for (const [kind, name] of FORMS[view]) {
      if (kind === "legend" || kind === "note") continue;
      if (kind === "model") {
        const v = val("f-model");
        if (v !== "__upload__") { p.model = v; delete p.mspec; delete p.__uploadName; }
      } else if (kind === "cluster") {
        p[name] = `${val(`f-${name}-acc`)}x${val(`f-${name}-count`)}`;
      } else if (kind === "network") {
        if (val("f-network")) p.network = val("f-network"); else delete p.network;
      } else if (kind === "batch") {
        const tokens = val("f-batch-unit") === "tokens";
        delete p["global-batch"]; delete p["batch-tokens"];
        p[tokens ? "batch-tokens" : "global-batch"] = val("f-batch");
      } else if (kind === "check") {
        p[name] = $(`f-${name}`).checked ? "1" : "0";
      } else {
        p[name] = val(`f-${name}`);
      }
    }
    delete p.pick;
  }

  async function upload(event) {
    const file = event.target.files[0];
    if (!file) return;
    clearErrors();
    const resp = await fetch("/api/model", { method: "POST", headers: { "content-type": "application/json" }, body: await file.text() });
    const body = await resp.json();
    if (!resp.ok) { showError(body.error); return; }
    const p = state.params[state.view];
    p.mspec = body.results.mspec;
    p.__uploadName = body.results.model.name;
    buildForm();
    refresh();
  }

  // ---- errors, progress, exports -----------------------------------------------------------
  function clearErrors() {
    $("page-error").hidden = true;
    document.querySelectorAll(".err").forEach((e) => { e.textContent = ""; });
    document.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  }

  function showError(error) {
    const field = error.field;
    let slot = null;
    if (field && field.startsWith("set:")) slot = document.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (!slot && field) slot = [...document.querySelectorAll("[data-fields]")].find((w) => w.dataset.fields.split(" ").includes(field));
    if (slot) {
      slot.querySelector(".err").textContent = error.message;
      slot.querySelectorAll("input, select").forEach((i) => i.setAttribute("aria-invalid", "true"));
    } else {
      $("page-error").textContent = error.message;
      $("page-error").hidden = false;
    }
  }

  function exports(view, params) {
    const api = (extra) => `/api/${view}?${query(view, clean(params), extra)}`;
    const links = [h("a", { href: api({ format: "json" }), download: `scalelab-${view}.json`, id: "export-json" }, "JSON")];
    for (const t of CSV_TABLES[view]) links.push(h("a", { class: "csv", href: api({ format: "csv", table: t }), download: `scalelab-${view}-${t}.csv` }, `CSV ${t}`));
    $("exports").replaceChildren(...links);
  }

  function progress(id, started) {
    const status = $("status"), bar = $("bar-fill");
    status.hidden = false;
    bar.parentElement.classList.add("indeterminate");
    bar.style.width = "30%";
    $("stage").textContent = "working";
    const tick = setInterval(() => { $("elapsed").textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`; }, 100);
    const poll = setInterval(async () => {
      try {
        const r = await fetch(`/api/progress/${id}`);
        if (!r.ok) return;
        const p = await r.json();
        $("stage").textContent = p.stage;
        if (p.total > 0) {
          bar.parentElement.classList.remove("indeterminate");
          bar.style.width = `${Math.max(5, (100 * p.done) / p.total)}%`;
        }
      } catch (e) { /* the answer is on its way */ }
    }, 250);
    return () => { clearInterval(tick); clearInterval(poll); status.hidden = true; };
  }

  function clean(params) {
    const out = {};
    for (const [k, v] of Object.entries(params)) if (!k.startsWith("__")) out[k] = v;
    return out;
  }

  // ---- the request cycle --------------------------------------------------------------------
  async function refresh(push) {
    const view = state.view;
    const params = clean(state.params[view]);
    const q = query(view, params);
    if (push) history.pushState(null, "", `/?${q}`); else history.replaceState(null, "", `/?${q}`);
    exports(view, params);
    if (state.ctrl) state.ctrl.abort();
    const ctrl = new AbortController();
    state.ctrl = ctrl;
    const id = Math.random().toString(36).slice(2, 12);
    const started = performance.now();
    document.body.dataset.state = "loading";
    $("results").classList.add("stale");
    $("headline").classList.add("stale");
    const stop = progress(id, started);
    try {
      q.delete("view");
      q.set("req", id);
      const resp = await fetch(`/api/${view}?${q}`, { signal: ctrl.signal });
      const body = await resp.json();
      if (state.ctrl !== ctrl) return;
      clearErrors();
      if (!resp.ok) {
        showError(body.error);
        document.body.dataset.state = "error";
        return;
      }
      render(view, body.results);
      document.body.dataset.state = "ready";
    } catch (e) {
      if (e.name === "AbortError") return;
      showError({ field: null, message: `no answer from the server: ${e.message}` });
      document.body.dataset.state = "error";
    } finally {
      if (state.ctrl === ctrl) {
        stop();
        $("results").classList.remove("stale");
        $("headline").classList.remove("stale");
      } else {
        stop();
      }
    }
  }

  function render(view, results) {
    const ctx = {
      params: state.params[view],
      set: (extra) => { Object.assign(state.params[view], extra); render(view, results); history.replaceState(null, "", `/?${query(view, clean(state.params[view]))}`); },
      edit: (key, value) => {
        const p = state.params[view];
        const edits = (p.set || []).filter((e) => !e.startsWith(`${key}=`));
        if (value !== "") edits.push(`${key}=${value}`);
        p.set = edits;
        refresh();
      },
    };
    const { headline, out } = window.Views[view](results, ctx);
    $("headline").replaceChildren(...headline);
    $("results").replaceChildren(...out);
    $("cli").textContent = results.cli || "";
    const up = document.querySelector('#f-model option[value="__upload__"]');
    if (up && results.model && results.model.uploaded) up.textContent = `uploaded: ${results.model.name}`;
    state.rendered += 1;
    document.body.dataset.rendered = String(state.rendered);
  }

  function switchView(view) {
    if (!state.params[view]) state.params[view] = defaults(view);
    state.view = view;
    $("headline").replaceChildren();
    $("results").replaceChildren();
    clearErrors();
    buildForm();
    refresh(true);
  }

  async function start() {
    const resp = await fetch("/api/options");
    state.options = (await resp.json()).results;
    fromUrl();
    buildForm();
    document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => switchView(b.dataset.view)));
    $("share").addEventListener("click", async () => {
      try { await navigator.clipboard.writeText(location.href); $("share").textContent = "Link copied"; }
      catch (e) { window.prompt("Copy this link:", location.href); }
      setTimeout(() => { $("share").textContent = "Copy link"; }, 1500);
    });
    window.addEventListener("popstate", () => { fromUrl(); buildForm(); refresh(); });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
