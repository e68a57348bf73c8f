// graphc's practice mode: the student fills in the forward and backward tables. Each entry is
// checked against graphc's numbers, carried in the page, to a number of significant digits the
// student can change; a wrong entry offers a hint (the line's rule with its inputs' names, and
// the chain-rule terms on the arrows) and then the answer. Progress stays in this browser (local
// storage, or the URL fragment where storage is refused); nothing is sent anywhere.
window.graphcPractice = function (page) {
  "use strict";
  const { DATA, fmt, say, codeLines, forwardRows, backwardRows, placeLabels } = page;
  const P = DATA.practice;
  const $ = (id) => document.getElementById(id);
  const entries = {}, order = [];
  P.entries.forEach((e) => { entries[e.name] = e; order.push(e.name); });
  const given = new Set(DATA.variables);
  const stepOf = {};
  DATA.backward.forEach((s) => { stepOf[s.name] = s; });
  let progress = { typed: {}, hints: {}, shown: {}, digits: P.digits };
  let focused = null;

  // ------------------------------------------------------------------------ storage
  const KEY = "graphc-practice:" + P.key;
  function load() {
    let text = null;
    try { text = window.localStorage.getItem(KEY); } catch (e) { text = null; }
    if (!text) {
      const m = /^#practice=(.*)$/.exec(window.location.hash);
      if (m) text = decodeURIComponent(m[1]);
    }
    try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
  }
  function save() {
    const text = JSON.stringify(progress);
    try { window.localStorage.setItem(KEY, text); return; } catch (e) { /* refused: fragment */ }
    try { window.history.replaceState(null, "", "#practice=" + encodeURIComponent(text)); } catch (e) { /* none */ }
  }

  // --------------------------------------------------------------------- checking
  function parse(text) {
    const t = text.trim().replace(/\u2212/g, "-");
    if (t === "") return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : NaN;
  }
  // Right: within half a unit in the last of `digits` significant digits, relative to graphc's
  // number (for an answer of 0, within 5e-16 of it).
  function isRight(x, answer) {
    const digits = progress.digits;
    return Math.abs(x - answer) <= 5 * Math.pow(10, -digits) * Math.max(Math.abs(answer), 1e-12);
  }
  // A shape is its whole numbers, "(3, 4)", "3x4" or "3 4"; "()" for a scalar. An array is its
  // entries row by row, separated by spaces or commas (brackets allowed).
  function parseList(text, pattern) {
    if (text.trim() === "") return null;
    return text.replace(/\u2212/g, "-").split(pattern).filter((t) => t !== "").map(Number);
  }
  function verdict(name) {  // an answer shown was asked for after a wrong entry: still wrong
    if (progress.shown[name]) return "wrong";
    const typed = progress.typed[name];
    if (typed === undefined) return "";
    const e = entries[name];
    if (e.kind === "shape" || e.kind === "array") {
      const list = parseList(typed, e.kind === "shape" ? /[^0-9]+/ : /[\s,;\[\]()]+/);
      if (list === null) return "";
      const ok = list.length === e.answer.length && list.every((v, i) => Number.isFinite(v) &&
        (e.kind === "shape" ? v === e.answer[i] : isRight(v, e.answer[i])));
      return ok ? "right" : "wrong";
    }
    const x = parse(typed);
    if (x === null) return "";
    return !Number.isNaN(x) && isRight(x, e.answer) ? "right" : "wrong";
  }
  const known = (name) => given.has(name) || progress.shown[name] || verdict(name) === "right";
  const ready = (name) => entries[name].needs.every(known);

  // ------------------------------------------------------------------------ building
  const boxes = {};  // name -> {input, mark, hintButton, answerButton, hint, print}
  function element(tag, props, text) {
    const el = document.createElement(tag);
    Object.assign(el, props || {});
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function build(name, cell) {
    const e = entries[name];
    if (!cell.dataset.built) { cell.textContent = ""; cell.dataset.built = "yes"; }
    const base = name.replace(/\.shape$/, "");
    const what = (e.kind === "shape" ? "shape of " : "") + (e.pass === "forward" ? "value of " + base : "adjoint " + base) +
      (e.kind === "array" ? ": its entries, row by row" : "");
    const input = element("input", { className: "answer" + (e.kind ? " " + e.kind : ""), spellcheck: false, autocomplete: "off" });
    if (e.kind) input.placeholder = e.kind === "shape" ? "shape" : "entries, row by row";
    if (e.kind !== "array") input.setAttribute("inputmode", "decimal");
    input.dataset.answer = name;
    input.setAttribute("aria-label", what);
    const mark = element("span", { className: "verdict" });
    mark.setAttribute("aria-hidden", "true");
    const hintButton = element("button", { type: "button", className: "hint-button" }, "Hint");
    hintButton.setAttribute("aria-label", "hint for " + name);
    const answerButton = element("button", { type: "button", className: "answer-button" }, "Answer");
    answerButton.setAttribute("aria-label", "answer for " + name);
    const hint = element("div", { className: "hint-text", id: "hint-" + name.replace(".", "-") });
    hint.setAttribute("role", "note");
    const print = element("span", { className: "answer-print" }, e.text);
    cell.append(input, mark, hintButton, answerButton, hint, print);
    input.setAttribute("aria-describedby", hint.id);
    boxes[name] = { input, mark, hintButton, answerButton, hint };
    input.addEventListener("change", () => check(name, false));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); check(name, true); }
    });
    input.addEventListener("focus", () => { focused = name; render(); });
    hintButton.addEventListener("click", () => {  // back to the box, the hint describing it
      progress.hints[name] = true; save(); input.focus(); render();
      say("Hint for " + name + ": " + hintText(e), false);
    });
    answerButton.addEventListener("click", () => {
      progress.shown[name] = true;
      progress.typed[name] = e.text;
      save(); render();
      say(name + " = " + e.text + " (the answer, shown)", false);
      next(name);
    });
  }
  function buildAll() {
    DATA.forward.forEach((s, i) => {
      if (entries[s.name + ".shape"]) build(s.name + ".shape", forwardRows[i + 1].querySelector(".value"));
      if (entries[s.name]) build(s.name, forwardRows[i + 1].querySelector(".value"));
    });
    DATA.backward.forEach((s, i) => {
      const tr = backwardRows[i];
      if (!entries[s.name]) return;
      if (entries[s.name + ".shape"]) build(s.name + ".shape", tr.querySelector(".value"));
      build(s.name, tr.querySelector(".value"));
      tr.querySelector(".accumulated").dataset.rule = s.accumulated;
      tr.querySelector(".code").dataset.code = s.code || "(folded in)";
    });
    // the point is the exercise: fixed
    DATA.variables.forEach((v, i) => {
      const input = $("input-" + v);
      if (input) input.disabled = true;
      forwardRows["input-" + i].querySelector(".value").textContent = inputText(i, 10);
    });
    const controls = $("controls");
    controls.textContent = "";
    controls.setAttribute("aria-label", "practice");
    const digitsLabel = element("label", { htmlFor: "digits" }, "significant digits");
    const digits = element("input", { id: "digits", type: "number", min: 1, max: 12, value: progress.digits });
    digits.addEventListener("change", () => {
      const d = Math.round(Number(digits.value));
      if (d >= 1 && d <= 12) { progress.digits = d; save(); render(); }
    });
    const exercise = element("button", { type: "button", id: "print-exercise" }, "Print exercise");
    exercise.addEventListener("click", () => printSheet("exercise"));
    const answers = element("button", { type: "button", id: "print-answers" }, "Print answers");
    answers.addEventListener("click", () => printSheet("answers"));
    const reset = element("button", { type: "button", id: "reset" }, "Start over");
    reset.addEventListener("click", () => {
      progress = { typed: {}, hints: {}, shown: {}, digits: progress.digits };
      order.forEach((n) => { boxes[n].input.value = ""; });
      save(); render(); say("Start over: every entry is empty again.", false);
    });
    controls.append(digitsLabel, digits, exercise, answers, reset, element("span", { id: "counter" }));
    const result = element("p", { id: "practice-result", hidden: true });
    result.setAttribute("role", "status");
    $("explain").after(result);
    $("explain").textContent = "Fill in each value, then each adjoint (b_u = d" + DATA.output +
      "/du), in any order the graph allows: boxes marked \u201cnext\u201d can be done now. An entry is right when it " +
      "agrees with graphc's number to the significant digits set above. Enter checks it; a wrong one offers a hint, then the answer.";
    document.querySelector("#graph-panel .hint").textContent =
      "Tab moves between entries, Enter checks one. Hover or focus a box for what is known of it.";
  }
  // The print views: "exercise" (tables empty, graph drawn) or "answers" (every entry, rule and
  // code line); null: back to the student's own page.
  let sheet = null;
  function setSheet(kind) {
    sheet = kind;
    document.body.classList.remove("print-exercise", "print-answers");
    if (kind) document.body.classList.add("print-" + kind);
    render();
  }
  function inputText(i, digits) {
    if (!DATA.tensor) return fmt(DATA.point[i], digits);
    const text = DATA.python[DATA.inputs[i]] || "";
    const norm = /norm ([^,]+)/.exec(text);
    return digits === 6 && norm ? "norm " + norm[1] : text;
  }
  const short = (e) => (e.short !== undefined ? e.short : fmt(e.answer, 6));
  function printSheet(kind) {
    setSheet(kind);
    window.print();
  }

  function check(name, moveOn) {
    const input = boxes[name].input;
    if (progress.shown[name]) { input.value = entries[name].text; return; }
    const x = parse(input.value);
    if (x === null) { delete progress.typed[name]; save(); render(); return; }
    progress.typed[name] = input.value.trim();
    save();
    render();
    const v = verdict(name);
    if (Number.isNaN(x)) say(name + ": " + JSON.stringify(input.value.trim()) + " is not a number", true);
    else if (v === "right") say(name + " = " + input.value.trim() + ": right." + done(), false);
    else say(name + " = " + input.value.trim() + ": wrong (to " + progress.digits + " significant digits). A hint is there.", true);
    if (moveOn && v === "right") next(name);
  }
  function next(after) {
    const start = order.indexOf(after);
    for (let k = 1; k <= order.length; k++) {
      const n = order[(start + k) % order.length];
      if (!known(n) && ready(n)) { boxes[n].input.focus(); return; }
    }
  }
  function done() {
    if (!order.every(known)) return "";
    const grad = P.gradient.map((n) => short(entries[n]));
    return " Done: every entry is filled in. The gradient (" + P.gradient.join(", ") + ") = (" + grad.join(", ") + ").";
  }

  // ------------------------------------------------------------------------ rendering
  function render() {
    let right = 0, shown = 0;
    order.forEach((name) => {
      const e = entries[name], b = boxes[name], v = verdict(name);
      const isReady = ready(name);
      if (progress.typed[name] !== undefined && b.input !== document.activeElement) b.input.value = progress.typed[name];
      b.input.disabled = !isReady && !known(name);
      b.input.readOnly = !!progress.shown[name];
      if (v) b.input.dataset.verdict = v; else delete b.input.dataset.verdict;
      if (progress.shown[name]) b.input.dataset.shown = "true"; else delete b.input.dataset.shown;
      if (v === "wrong" && !progress.shown[name]) b.input.setAttribute("aria-invalid", "true"); else b.input.removeAttribute("aria-invalid");
      b.mark.textContent = progress.shown[name] ? "shown" : v === "right" ? "\u2713 right" : v === "wrong" ? "\u2717 wrong" : "";
      b.mark.className = "verdict " + (progress.shown[name] ? "shown" : v);
      const wrong = v === "wrong" && !progress.shown[name];
      b.hintButton.hidden = !wrong || !!progress.hints[name];
      b.answerButton.hidden = !wrong || !progress.hints[name];
      const hinted = progress.hints[name] && !known(name);
      b.hint.textContent = hinted ? hintText(e) : "";
      b.hint.hidden = !hinted;
      if (v === "right" && !progress.shown[name]) right++;
      if (progress.shown[name]) shown++;
      b.input.closest("tr").classList.toggle("ready", isReady && !known(name));
      if (e.pass === "backward" && stepOf[name]) {
        const tr = b.input.closest("tr");
        const open = known(name) || progress.hints[name];
        tr.querySelector(".accumulated").textContent = open ? tr.querySelector(".accumulated").dataset.rule : "?";
        tr.querySelector(".code").textContent = known(name) ? tr.querySelector(".code").dataset.code : "";
      }
    });
    renderCode();
    renderGraph();
    const total = order.length;
    $("counter").textContent = right + " of " + total + " right" + (shown ? ", " + shown + " shown" : "") +
      (order.every(known) ? ". Done" : "");
    const result = $("practice-result");
    result.textContent = done().trim();
    result.hidden = !order.every(known);
  }
  function hintText(e) {
    if (e.kind) return e.rule;
    if (e.pass === "forward") {
      return e.rule + (e.needs.length ? "   (from the table: " + e.needs.join(", ") + ")" : "   (from the inputs)");
    }
    const step = stepOf[e.name];
    const terms = step.terms.map((t) => t.text);
    return e.rule + (terms.length > 1 ? "   (one term per arrow out of " + step.of + ": " + terms.join(", ") + ")"
      : terms.length ? "   (the chain-rule term on the arrow out of " + step.of + ")" : "   (the seed: the output's own adjoint)");
  }
  function renderCode() {
    const openLines = new Set();
    DATA.backward.forEach((s) => {
      if (!entries[s.name] || known(s.name) || progress.hints[s.name] || sheet === "answers") s.lines.forEach((l) => openLines.add(l));
    });
    codeLines.forEach((el, i) => {
      const line = DATA.code[i];
      const secret = line.section === "backward" && line.node !== null && !openLines.has(i);
      el.textContent = secret ? line.text.split(" = ")[0] + " = \u2026" : line.text;
      el.classList.toggle("secret", secret);
    });
  }
  function shows(name) { return sheet === "answers" || (sheet !== "exercise" && known(name)); }
  function renderGraph() {
    const focusStep = focused && entries[focused] ? entries[focused] : null;
    document.querySelectorAll("#graph .node").forEach((g) => {
      const node = +g.dataset.node;
      const info = DATA.nodes[node];
      const valueName = info.name, adjointName = info.adjoint_name;
      const valueEl = g.querySelector("text.value"), adjEl = g.querySelector("text.adjoint");
      const inputIndex = DATA.inputs.indexOf(node);
      if (valueEl) {
        let text = "";
        if (inputIndex >= 0) text = "= " + inputText(inputIndex, 6);
        else if (entries[valueName] && shows(valueName)) text = "= " + short(entries[valueName]);
        valueEl.textContent = text;
      }
      if (adjEl) adjEl.textContent = entries[adjointName] && shows(adjointName)
        ? adjointName + " = " + short(entries[adjointName]) : "";
      const can = [valueName, adjointName].some((n) => entries[n] && !known(n) && ready(n));
      g.classList.toggle("ready", can);
      g.classList.toggle("current", !!focusStep && focusStep.node === node);
      g.querySelector("text.marker").textContent = can ? "next" : "";
      g.setAttribute("aria-label", info.label + (can ? "; can be filled in next" : ""));
    });
    const step = focusStep && focusStep.pass === "backward" && progress.hints[focused] ? stepOf[focused] : null;
    document.querySelectorAll("#graph .edge").forEach((el) => {
      const term = step ? step.terms.find((t) => t.edge === +el.id.slice(5)) : null;
      el.classList.toggle("adjoint", !!term);
      el.querySelector("text.term").textContent = term ? term.text : "";
    });
    placeLabels();
  }

  // ------------------------------------------------------------------------ start
  document.body.classList.add("practice");
  const stored = load();
  if (stored && typeof stored === "object") {
    ["typed", "hints", "shown"].forEach((k) => { if (stored[k] && typeof stored[k] === "object") progress[k] = stored[k]; });
    if (Number.isInteger(stored.digits) && stored.digits >= 1 && stored.digits <= 12) progress.digits = stored.digits;
  }
  buildAll();
  $("digits").value = progress.digits;
  render();
  say(Object.keys(progress.typed).length ? "Welcome back: your entries are as you left them." : "Practice: the tables are yours to fill in.", false);
  window.addEventListener("afterprint", () => setSheet(null));
  window.graphc.sheet = setSheet;  // for tests: the print views without the print dialog
};
