// graphc's page of the forward and backward pass: stepping, highlighting, hover, inputs. The
// program graphc wrote into the page is evaluated by evaluate.js; nothing is fetched.
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("graphc-data").textContent);

  const { evaluate, fmt, repr, OPS } = window.graphcEvaluator;

  // ------------------------------------------------------------------------------ state
  const F = DATA.forward.length, B = DATA.backward.length;
  const state = { step: 0, values: {}, terms: {}, error: null, playing: null,
                  point: DATA.point ? DATA.point.slice() : null };
  const forwardAt = {}, backwardAt = {};
  DATA.forward.forEach((s, i) => { forwardAt[s.node] = i + 1; });
  DATA.backward.forEach((s, i) => { backwardAt[s.node] = i + 1; });
  const $ = (id) => document.getElementById(id);

  function compute() {
    if (DATA.tensor) return;
    if (DATA.fixed) {  // an op the page cannot compute: graphc's values at the given point
      state.values = DATA.fixed.values;
      state.terms = DATA.fixed.terms;
      return;
    }
    const inputs = {};
    DATA.variables.forEach((v, i) => { inputs[v] = state.point[i]; });
    const run = evaluate(DATA.program, inputs, {});
    state.values = run.values;
    state.error = run.error;
    state.terms = run.error ? {} : evaluate(DATA.terms, {}, run.values).values;
  }

  // The shown text of a node's value and of an adjoint (undefined if not known).
  function valueOf(node) {
    if (DATA.tensor) { const p = DATA.python[node]; return p === undefined ? undefined : p; }
    const v = state.values[node];
    return v === undefined ? undefined : fmt(v);
  }
  function adjointOf(row) {
    if (row.adjoint === null || row.adjoint === undefined) return DATA.tensor ? "0" : fmt(0);
    return valueOf(row.adjoint);
  }
  // In a box: six digits (as the picture), or an array's norm.
  function shortValue(node) {
    if (node === null || node === undefined) return "0";
    if (DATA.tensor) {
      const text = DATA.python[node];
      const norm = text === undefined ? null : /norm ([^,]+)/.exec(text);
      return text === undefined ? "?" : norm ? "norm " + norm[1] : text;
    }
    const v = state.values[node];
    return v === undefined ? "?" : fmt(v, 6);
  }
  function fullValue(node) {
    if (DATA.tensor) return valueOf(node);
    const v = state.values[node];
    return v === undefined ? undefined : repr(v);
  }

  // ------------------------------------------------------------------- building the page
  const codeLines = [];
  function buildCode() {
    const pre = $("code");
    DATA.code.forEach((line, i) => {
      const span = document.createElement("span");
      span.className = "line";
      span.id = "line-" + i;
      span.textContent = line.text;
      // a long line wraps, its continuation indented past the line's own indent
      const indent = line.text.length - line.text.trimStart().length + 4;
      span.style.paddingLeft = "calc(1.6em + " + indent + "ch)";
      span.style.textIndent = "-" + indent + "ch";
      if (line.node !== null) span.dataset.node = line.node;
      pre.appendChild(span);
      codeLines.push(span);
    });
  }

  const forwardRows = {}, backwardRows = [];
  function cell(tr, text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function buildTables() {
    $("output-name").textContent = DATA.output;
    const body = document.querySelector("#forward-table tbody");
    DATA.variables.forEach((v, i) => {
      const tr = document.createElement("tr");
      tr.dataset.node = DATA.inputs[i];
      cell(tr, "", "mark"); cell(tr, v, "name"); cell(tr, "input", "operation"); cell(tr, "", "value");
      body.appendChild(tr);
      forwardRows["input-" + i] = tr;
    });
    DATA.forward.forEach((s, i) => {
      const tr = document.createElement("tr");
      tr.id = "forward-row-" + (i + 1);
      tr.dataset.node = s.node;
      cell(tr, "", "mark"); cell(tr, s.name, "name"); cell(tr, s.operation, "operation"); cell(tr, "", "value");
      body.appendChild(tr);
      forwardRows[i + 1] = tr;
    });
    const back = document.querySelector("#backward-table tbody");
    DATA.backward.forEach((s, i) => {
      const tr = document.createElement("tr");
      tr.id = "backward-row-" + (i + 1);
      tr.dataset.node = s.node;
      cell(tr, "", "mark"); cell(tr, s.name, "name"); cell(tr, s.accumulated, "accumulated");
      cell(tr, "", "value"); cell(tr, s.code || "(folded in)", "code");
      back.appendChild(tr);
      backwardRows.push(tr);
    });
  }

  function buildInputs() {
    const form = $("inputs");
    form.addEventListener("submit", (event) => event.preventDefault());  // Enter in a box
    DATA.variables.forEach((v, i) => {
      const label = document.createElement("label");
      label.htmlFor = "input-" + v;
      label.textContent = v + " =";
      const input = document.createElement("input");
      input.id = "input-" + v;
      input.name = v;
      input.spellcheck = false;
      form.append(label, input);
      if (DATA.tensor || DATA.fixed) {
        input.value = DATA.tensor ? DATA.nodes[DATA.inputs[i]].shape || "scalar" : String(state.point[i]);
        input.disabled = true;
        input.setAttribute("aria-describedby", "fixed-note");
        return;
      }
      input.value = String(state.point[i]);
      input.addEventListener("input", () => {
        const text = input.value.trim();
        const number = text === "" ? NaN : Number(text);
        if (!Number.isFinite(number)) {
          input.setAttribute("aria-invalid", "true");
          say(v + ": " + JSON.stringify(text) + " is not a finite number", true);
          return;
        }
        input.removeAttribute("aria-invalid");
        state.point[i] = number;
        compute();
        render(true);
      });
    });
    if (DATA.tensor || DATA.fixed) {
      const note = document.createElement("span");
      note.id = "fixed-note";
      note.className = "fixed";
      note.textContent = DATA.tensor
        ? "(inputs with vectors and matrices are fixed: the page re-evaluates scalar formulas)"
        : "(inputs are fixed: the page cannot compute " + DATA.fixed.missing.join(", ") + ")";
      form.appendChild(note);
    }
  }

  // -------------------------------------------------------------------------- rendering
  function say(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }

  function current() {
    const s = state.step;
    if (s >= 1 && s <= F) return { pass: "forward", index: s, row: DATA.forward[s - 1] };
    if (s > F) return { pass: "backward", index: s - F, row: DATA.backward[s - F - 1] };
    return { pass: "start", index: 0, row: null };
  }

  function render(announce) {
    const s = state.step;
    const now = current();
    const known = (node) => !(node in forwardAt) || forwardAt[node] <= s;
    // the graph
    document.querySelectorAll("#graph .node").forEach((g) => {
      const node = +g.dataset.node;
      const info = DATA.nodes[node];
      const valueEl = g.querySelector("text.value");
      if (valueEl) setText(valueEl, known(node) ? "= " + shortValue(node) : "");
      const adjEl = g.querySelector("text.adjoint");
      const at = backwardAt[node];
      if (adjEl) {
        const shown = at !== undefined && s - F >= at;
        const row = at !== undefined ? DATA.backward[at - 1] : null;
        setText(adjEl, shown ? info.adjoint_name + " = " + shortValue(row.adjoint) : "");
      }
      const isCurrent = now.row !== null && now.row.node === node;
      g.classList.toggle("current", isCurrent);
      setText(g.querySelector("text.marker"), isCurrent ? "\u25B6 now" : "");
      if (isCurrent) g.setAttribute("aria-current", "step"); else g.removeAttribute("aria-current");
      g.setAttribute("aria-label", describe(node, false));
    });
    document.querySelectorAll("#graph .edge").forEach((e) => {
      const from = +e.dataset.from, to = +e.dataset.to;
      e.classList.toggle("active", now.pass === "forward" && now.row.node === to);
      const term = now.pass === "backward" ? now.row.terms.find((t) => t.edge === +e.id.slice(5)) : null;
      e.classList.toggle("adjoint", !!term || (now.pass === "backward" && DATA.tensor && now.row.node === from));
      setText(e.querySelector("text.term"), term ? termLabel(term) : "");
    });
    placeLabels();
    // the code
    const done = new Set(), here = new Set();
    const steps = DATA.forward.concat(DATA.backward);
    steps.forEach((st, i) => st.lines.forEach((l) => { if (i + 1 <= s) done.add(l); if (i + 1 === s) here.add(l); }));
    codeLines.forEach((el, i) => {
      const assigns = DATA.code[i].node !== null;
      el.classList.toggle("current", here.has(i));
      el.classList.toggle("done", done.has(i));
      el.classList.toggle("pending", assigns && !done.has(i));
      if (here.has(i)) el.setAttribute("aria-current", "step"); else el.removeAttribute("aria-current");
    });
    // the tables
    DATA.variables.forEach((v, i) => {
      setText(forwardRows["input-" + i].querySelector(".value"), valueOf(DATA.inputs[i]) ?? "?");
    });
    DATA.forward.forEach((st, i) => {
      const tr = forwardRows[i + 1];
      const shown = i + 1 <= s;
      const v = valueOf(st.node);
      setText(tr.querySelector(".value"), shown ? (v === undefined ? "(not computed: domain error)" : v) : "");
      mark(tr, now.pass === "forward" && now.index === i + 1, shown);
    });
    DATA.backward.forEach((st, i) => {
      const tr = backwardRows[i];
      const shown = s - F >= i + 1;
      const v = adjointOf(st);
      setText(tr.querySelector(".value"), shown ? (v === undefined ? "(not computed: domain error)" : v) : "");
      mark(tr, now.pass === "backward" && now.index === i + 1, shown);
    });
    keepInView(document.querySelector("#graph .node.current"));
    setText($("counter"), counterText());
    $("prev").disabled = s === 0; $("first").disabled = s === 0;
    $("next").disabled = s === F + B; $("last").disabled = s === F + B;
    const text = explain(now);
    setText($("explain"), text);
    if (state.error) {
      const name = DATA.nodes[state.error.node] ? DATA.nodes[state.error.node].name : "a derivative";
      say("domain error at " + name + ": " + state.error.message, true);
    } else if (announce) {
      say(text.split("\n")[0], false);
    }
  }

  // Each shown chain-rule term goes to the first of its candidate spots (points along its own
  // arrow, nearest the middle first, on the arrow or above or below it) that covers no box, no
  // term placed before it and no other arrow. Where every spot crosses an arrow it takes the
  // spot crossing fewest arrows; a box or another term it covers only where every spot does.
  let edgePoints = null, boxRects = null;
  function geometry() {
    edgePoints = {};
    document.querySelectorAll("#graph .edge").forEach((e) => {
      const path = e.querySelector("path"), length = path.getTotalLength(), points = [];
      for (let d = 0; d <= length; d += 1) { const p = path.getPointAtLength(d); points.push([p.x, p.y]); }
      edgePoints[e.id] = { path, length, points };
    });
    boxRects = [...document.querySelectorAll("#graph .node rect")].map((r) => r.getBBox());
  }
  const LABEL_SPOTS = { fractions: [0.5], offsets: [-4, 14, -14, 24, -24] };
  for (let k = 1; k <= 11; k++) LABEL_SPOTS.fractions.push(0.5 - 0.04 * k, 0.5 + 0.04 * k);
  const meets = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  function placeLabels() {
    if (!edgePoints) geometry();
    const placed = [];
    document.querySelectorAll("#graph .edge").forEach((e) => {
      const label = e.querySelector("text.term");
      if (!label.textContent) return;
      const own = edgePoints[e.id];
      let best = null;
      for (const fraction of LABEL_SPOTS.fractions) {
        const p = own.path.getPointAtLength(own.length * fraction);
        for (const dy of LABEL_SPOTS.offsets) {
          label.setAttribute("x", p.x.toFixed(1));
          label.setAttribute("y", (p.y + dy).toFixed(1));
          const b = label.getBBox();
          // covering a box or a term outweighs any number of arrows crossed
          let cost = 0;
          for (const r of boxRects) if (meets(b, r)) cost += 1000;
          for (const q of placed) if (meets(b, q)) cost += 1000;
          for (const id in edgePoints) {
            if (id === e.id) continue;
            if (edgePoints[id].points.some(([x, y]) => x > b.x && x < b.x + b.width && y > b.y && y < b.y + b.height)) cost += 1;
          }
          if (best === null || cost < best.cost) best = { cost, x: p.x.toFixed(1), y: (p.y + dy).toFixed(1) };
          if (cost === 0) break;
        }
        if (best.cost === 0) break;
      }
      label.setAttribute("x", best.x);
      label.setAttribute("y", best.y);
      placed.push(label.getBBox());
    });
  }

  // A graph wider than its panel scrolls there (never the page): bring the current box in.
  function keepInView(g) {
    const box = $("graph-box");
    if (!g || box.scrollWidth <= box.clientWidth) return;
    const r = g.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (r.left < b.left || r.right > b.right) box.scrollLeft += (r.left + r.right) / 2 - (b.left + b.right) / 2;
  }

  function mark(tr, isCurrent, shown) {
    tr.classList.toggle("current", isCurrent);
    tr.classList.toggle("pending", !shown);
    setText(tr.querySelector(".mark"), isCurrent ? "\u25B6" : "");
    if (isCurrent) tr.setAttribute("aria-current", "step"); else tr.removeAttribute("aria-current");
  }

  function counterText() {
    const now = current();
    if (now.pass === "start") return "start (" + (F + B) + " steps: " + F + " forward, " + B + " backward)";
    return now.pass + " pass, step " + now.index + " of " + (now.pass === "forward" ? F : B);
  }

  // On an arrow: the value of the term it adds (six digits); the explanation spells it out.
  function termLabel(term) {
    const v = state.terms[term.term];
    return DATA.tensor || v === undefined ? "" : fmt(v, 6);
  }

  function explain(now) {
    if (now.pass === "start") {
      if (!F) return "Start: nothing to compute (the formula has no operations).";
      const given = DATA.variables.map((v, i) => v + " = " + (valueOf(DATA.inputs[i]) ?? "?")).join(", ");
      return "Start: the inputs " + given + ". Press \u2192 (or Next) to run the forward pass, one node at a time.";
    }
    const row = now.row;
    if (now.pass === "forward") {
      const v = valueOf(row.node);
      return "forward step " + now.index + " of " + F + ": " + row.name + " = " + row.operation + " = " + (v ?? "?");
    }
    let text = "backward step " + now.index + " of " + B + ": " + row.name + " = " + row.accumulated + " = " + (adjointOf(row) ?? "?");
    for (const term of row.terms) {
      const user = DATA.nodes[term.user];
      const v = state.terms[term.term];
      text += "\n  from " + (user ? user.label : "?") + ": " + term.text + (v === undefined ? "" : " = " + fmt(v));
    }
    if (!row.code) text += "\n  (the code folds this adjoint into the lines that use it)";
    return text;
  }

  function describe(node, full) {
    const info = DATA.nodes[node];
    const s = state.step;
    const reached = !(node in forwardAt) || forwardAt[node] <= s;
    const lines = [info.label];
    if (info.shape) lines.push("shape " + info.shape);
    if (info.kind !== "const") {
      const v = full ? fullValue(node) : valueOf(node);
      lines.push("value: " + (reached ? (v ?? "?") : "not computed yet"));
      const at = backwardAt[node];
      if (at !== undefined) {
        const row = DATA.backward[at - 1];
        const a = s - F >= at ? (full && !DATA.tensor && row.adjoint !== null ? repr(state.values[row.adjoint]) : adjointOf(row)) : undefined;
        lines.push("adjoint " + info.adjoint_name + ": " + (a === undefined ? "not computed yet" : a));
      }
    }
    if (info.span) lines.push("in the formula: " + info.span);
    return lines.join(full ? "\n" : "; ");
  }

  // --------------------------------------------------------------------- interaction
  function go(step) {
    state.step = Math.max(0, Math.min(F + B, step));
    render(true);
  }
  function play() {
    if (state.playing) { stop(); return; }
    if (state.step === F + B) go(0);
    state.playing = setInterval(() => { if (state.step >= F + B) stop(); else go(state.step + 1); }, 1100);
    $("play").textContent = "Pause"; $("play").setAttribute("aria-pressed", "true");
  }
  function stop() {
    clearInterval(state.playing); state.playing = null;
    $("play").textContent = "Play"; $("play").setAttribute("aria-pressed", "false");
  }

  function showTip(g) {
    const tip = $("tooltip");
    tip.textContent = describe(+g.dataset.node, true);
    const box = g.getBoundingClientRect();
    tip.hidden = false;
    const left = Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8);
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = (window.scrollY + box.bottom + 6) + "px";
  }
  function hideTip() { $("tooltip").hidden = true; }

  function wire() {
    $("first").addEventListener("click", () => { stop(); go(0); });
    $("prev").addEventListener("click", () => { stop(); go(state.step - 1); });
    $("next").addEventListener("click", () => { stop(); go(state.step + 1); });
    $("last").addEventListener("click", () => { stop(); go(F + B); });
    $("play").addEventListener("click", play);
    document.addEventListener("keydown", (event) => {
      const tag = event.target && event.target.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || event.altKey || event.ctrlKey || event.metaKey) return;
      const keys = { ArrowRight: () => go(state.step + 1), ArrowLeft: () => go(state.step - 1),
                     Home: () => go(0), End: () => go(F + B), p: play, P: play };
      const action = keys[event.key];
      if (!action) return;
      event.preventDefault();
      if (action !== play) stop();
      action();
    });
    document.querySelectorAll("#graph .node").forEach((g) => {
      g.addEventListener("mouseenter", () => showTip(g));
      g.addEventListener("mouseleave", hideTip);
      g.addEventListener("focus", () => showTip(g));
      g.addEventListener("blur", hideTip);
    });
  }

  document.body.classList.toggle("tensor", DATA.tensor);
  buildCode();
  buildTables();
  buildInputs();
  compute();
  if (DATA.practice && window.graphcPractice) {  // practice.js: the tables are the student's
    window.graphc = { evaluate, fmt, repr, OPS, data: DATA, state, labelSpots: LABEL_SPOTS };
    window.graphcPractice({ DATA, fmt, say, codeLines, forwardRows, backwardRows, placeLabels });
    return;
  }
  wire();
  render(false);
  say(explain(current()), false);
  // For tests and for the curious: the evaluator and the page's state.
  window.graphc = { evaluate, fmt, repr, OPS, data: DATA, state, go, labelSpots: LABEL_SPOTS };
})();
