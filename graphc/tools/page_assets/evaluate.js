// The page's evaluator: the program graphc wrote into the page (every node of the graph:
// constants, inputs, ops over earlier nodes) evaluated op by op, as graphc.tools.tables.evaluate does
// in Python, and numbers printed as Python prints them.
window.graphcEvaluator = (function () {
  "use strict";

  // erf and erfc (JavaScript's Math has neither). For |x| < 2.5 the series
  // erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1)), of positive terms only;
  // beyond, erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), the
  // continued fraction, evaluated from its 120th level back. Close to Python's math.erf
  // (a few ulps where exp(-x^2) rounds x^2); erfc below 2.5 is 1 - erf, to about 1e-13.
  const TWO_OVER_SQRT_PI = 1.1283791670955126;
  function erfcTail(a) {  // a >= 2.5
    let f = a;
    for (let k = 120; k >= 1; k--) f = a + (k / 2) / f;
    return Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
  }
  function erf(x) {
    const a = Math.abs(x);
    if (!(a < 2.5)) return Number.isNaN(x) ? x : Math.sign(x) * (1 - erfcTail(a));
    let term = a, sum = a;
    for (let n = 1; term > sum * 1e-17; n++) { term *= 2 * a * a / (2 * n + 1); sum += term; }
    return Math.sign(x) * TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum;
  }
  function erfc(x) {
    return x >= 2.5 ? erfcTail(x) : 1 - erf(x);
  }

  // ------------------------------------------------------------------ the ops, as in ops.py
  const OPS = {
    add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b,
    div: (a, b) => { if (b === 0) throw new Error("division by zero"); return a / b; },
    neg: (a) => -a, pow: (a, b) => Math.pow(a, b),
    exp: Math.exp, log: Math.log, sqrt: Math.sqrt, sin: Math.sin, cos: Math.cos, tan: Math.tan,
    cot: (a) => { const t = Math.tan(a); if (t === 0) throw new Error("division by zero"); return 1 / t; },
    asin: Math.asin, acos: Math.acos, atan: Math.atan,
    sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh,
    sigmoid: (x) => (x > -709 ? 1 / (1 + Math.exp(-x)) : Math.exp(x)),
    softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
    log_sigmoid: (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))),
    relu: (x) => Math.max(x, 0), abs: Math.abs,
    max: (a, b) => Math.max(a, b), min: (a, b) => Math.min(a, b),
    sign: (x) => (x > 0) - (x < 0), step: (x) => (x > 0 ? 1 : 0),
    replace_zero: (x) => x + (x === 0 ? 1 : 0),
    erf: erf, erfc: erfc,
    sigmoid_complement: (x, s) => (x < 0 ? 1 - s : x < 709 ? 1 / (1 + Math.exp(x)) : Math.exp(-x)),
    tanh_derivative: (x, t) => Math.exp(-2 * Math.abs(x)) * (1 + Math.abs(t)) ** 2,
    // the strong zeros: 0 wins over inf and nan; a quotient by 0 (either sign of 0) is
    // a * inf, the numerator's sign alone, as on every backend (graphc/ops/strong.py)
    mul0: (a, b) => (a === 0 || b === 0 ? 0 : a * b),
    div0: (a, b) => (a === 0 ? 0 : b === 0 ? a * Infinity : a / b),
  };

  // Evaluate instructions [node, "c", value] | [node, "i", name] | [node, "o", op, args] |
  // [node, "r", ["v", node of `outer`] or ["c", value]], in order. Stops at the first value that
  // is not a finite real number (Python's math raises there: graphc's DomainError).
  function evaluate(program, inputs, outer) {
    const values = {};
    for (const ins of program) {
      const [node, kind] = ins;
      if (kind === "c") { values[node] = ins[2]; continue; }
      if (kind === "i") { values[node] = inputs[ins[2]]; continue; }
      if (kind === "r") {
        const ref = ins[2];
        values[node] = ref[0] === "c" ? ref[1] : outer[ref[1]];
        if (values[node] === undefined) return { values, error: { node, message: "no value" } };
        continue;
      }
      const op = OPS[ins[2]];
      const args = ins[3].map((a) => values[a]);
      let result, why = "";
      try {
        if (!op) throw new Error("the page cannot compute " + ins[2]);
        result = op(...args);
      } catch (exc) { why = exc.message; }
      if (!why && !Number.isFinite(result)) why = "not a finite real number";
      if (why) {
        return { values, error: { node, message: ins[2] + "(" + args.map(fmt).join(", ") + "): " + why } };
      }
      values[node] = result;
    }
    return { values, error: null };
  }

  // A number as Python's "%.10g" prints it (graphc.tools.tables.number), or "%.6g" for digits = 6.
  function fmt(v, digits) {
    const p = digits || 10;
    if (typeof v !== "number") return String(v);
    if (Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    if (v === 0) return Object.is(v, -0) ? "-0" : "0";
    const [mantissa, e] = v.toExponential(p - 1).split("e");
    const exp = parseInt(e, 10);
    if (exp < -4 || exp >= p) {
      const m = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
      return m + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
    }
    const fixed = v.toFixed(p - 1 - exp);
    return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
  }

  // A number as Python's repr prints it: the shortest digits that read back to the same float.
  function repr(v) {
    if (!Number.isFinite(v)) return fmt(v);
    if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
    const [mantissa, e] = v.toExponential().split("e");
    const exp = parseInt(e, 10);
    if (exp < -4 || exp >= 16) {
      return mantissa + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
    }
    const text = String(v);
    return text.includes(".") ? text : text + ".0";
  }

  return { evaluate, fmt, repr, OPS };
})();
