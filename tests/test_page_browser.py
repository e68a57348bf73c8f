"""The HTML page in a real browser: Debian's headless Chromium, driven by Selenium.

Skipped only where Chromium or its driver is missing (``.ci/run.d/browser.sh`` installs both,
and Selenium, so CI runs these for real). The page is loaded from a ``file://`` URL; every value
it shows is compared with graphc's Python results (the tables, the compiled gradient), which the
other tests check against SymPy. Screenshots go to ``$GRAPHC_ARTIFACTS`` (default: a folder
under the system's temporary directory, printed by the CI step).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import graphc
from graphc.tools import page, page_model, tables

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="Chromium or chromedriver is not installed "
                                       "(apt-get install chromium chromium-driver)")

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
ARTIFACTS = Path(os.environ.get("GRAPHC_ARTIFACTS",
                                Path(tempfile.gettempdir()) / "graphc-browser-artifacts"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions"]


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("Chromium is here but Selenium is not: pip install 'graphc[browser]'")
    profile = tempfile.mkdtemp(prefix="graphc-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": width < 700})


def load(driver, path: Path, width: int = 1280, height: int = 800):
    viewport(driver, width, height)
    driver.get_log("performance")  # drop what came before
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return typeof window.graphc") == "object"
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def press(driver, key) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def state(driver) -> dict:
    """What the page highlights and shows now."""
    return driver.execute_script("""
        const one = (sel) => [...document.querySelectorAll(sel)];
        const text = (el, sel) => el.querySelector(sel).textContent;
        return {
          counter: document.getElementById('counter').textContent,
          nodes: one('#graph .node.current').map((g) => +g.dataset.node),
          markers: one('#graph .node.current text.marker').map((t) => t.textContent),
          lines: one('#code .line.current').map((l) => l.textContent.trim()),
          rows: one('tr.current').map((r) => ({node: +r.dataset.node, name: text(r, '.name'),
                                               value: text(r, '.value'), mark: text(r, '.mark')})),
          forward: one('#forward-table tbody tr').map((r) => [text(r, '.name'), text(r, '.value')]),
          backward: one('#backward-table tbody tr').map((r) => [text(r, '.name'), text(r, '.value')]),
          boxes: Object.fromEntries(one('#graph .node').map((g) => [g.dataset.node,
                 [...g.querySelectorAll('text.value, text.adjoint')].map((t) => t.textContent)])),
          terms: one('#graph .edge.adjoint text.term').map((t) => t.textContent),
          status: document.getElementById('status').textContent,
          explain: document.getElementById('explain').textContent,
        };""")


def test_stepping_through_the_quiz_shows_graphcs_values_at_every_step(browser, tmp_path):
    from graphc.tools import cli

    path = tmp_path / "quiz.html"
    assert cli.main(["html", QUIZ, "--at", "x=2,z=3", "-o", str(path)]) == 0
    load(browser, path)
    f = graphc.compile(QUIZ)
    table = f.table(2, 3)
    data = page.data(f, (2, 3))
    F, B = len(data["forward"]), len(data["backward"])
    assert F == 8 and B == len(table.backward) == 10
    now = state(browser)
    assert now["counter"].startswith("start") and not now["nodes"] and not now["rows"]
    assert now["forward"][:2] == [["x", "2"], ["z", "3"]]
    lit_backward = []
    for step in range(1, F + B + 1):
        press(browser, "\ue014")  # the right arrow key
        now = state(browser)
        if step <= F:
            row, expected = table.forward[1 + step], data["forward"][step - 1]
            assert now["counter"] == f"forward pass, step {step} of {F}"
            value = tables.number(row.value)
            # node, code line and table row agree, and show graphc's value
            assert now["nodes"] == [expected["node"]] and now["markers"] == ["\u25b6 now"]
            assert now["lines"] == [f"{row.name} = " + data["code"][expected["lines"][0]]["text"]
                                    .split(" = ", 1)[1]]
            assert now["rows"] == [{"node": expected["node"], "name": row.name, "value": value,
                                    "mark": "\u25b6"}]
            assert now["boxes"][str(expected["node"])][0] == f"= {row.value:.6g}"
            assert f"{row.name} = {row.operation} = {value}" in now["explain"]
            # screen readers: the live region announces the step; the box's label has the value
            assert now["status"] == now["explain"].splitlines()[0]
            label = browser.find_element("id", f"node-{expected['node']}").get_attribute("aria-label")
            assert label.startswith(f"{row.name} = ") and f"value: {value}" in label
            # values appear as they are computed: later rows are still empty
            assert [v for _, v in now["forward"][2 + step:]] == [""] * (F - step)
        else:
            k = step - F
            row, expected = table.backward[k - 1], data["backward"][k - 1]
            assert now["counter"] == f"backward pass, step {k} of {B}"
            assert now["nodes"] == [expected["node"]]
            assert now["rows"] == [{"node": expected["node"], "name": row.name,
                                    "value": tables.number(row.value), "mark": "\u25b6"}]
            assert now["lines"] == [data["code"][i]["text"].strip() for i in expected["lines"]]
            if row.code and row.code[0].isalpha():
                assert now["lines"][-1].startswith(row.code + " = ")
            lit_backward += now["lines"]
            box = now["boxes"][str(expected["node"])]
            assert box[-1] == f"{row.name} = {row.value:.6g}"
            # each arrow from this node shows the term it adds; the terms add up to the adjoint
            assert len(now["terms"]) == len(expected["terms"])
            if expected["terms"]:
                total = sum(float(t) for t in now["terms"])
                assert total == pytest.approx(row.value, rel=1e-5, abs=1e-6)
            assert f"{row.name} = {row.accumulated} = {tables.number(row.value)}" in now["explain"]
    assert now["counter"] == f"backward pass, step {B} of {B}"
    backward_code = [line["text"].strip() for line in data["code"]
                     if line["section"] == "backward" and line["node"] is not None]
    assert sorted(lit_backward) == sorted(backward_code)  # every backward line lit once
    assert [v for _, v in now["backward"]] == [tables.number(r.value) for r in table.backward]
    assert now["backward"][-2:] == [["b_x", "1208.381215"], ["b_z", "809.7074792"]]
    press(browser, "\ue014")  # past the end: nothing changes
    assert state(browser)["counter"] == f"backward pass, step {B} of {B}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "quiz_end_of_backward_pass.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}", file=sys.stderr)
    # the page asked for nothing but itself (the log does record requests: the page's own)
    urls = requests(browser)
    assert path.resolve().as_uri() in urls
    assert [u for u in urls if not u.startswith(("file://", "data:"))] == []


def test_changing_an_input_recomputes_the_gradient(browser, tmp_path):
    path = tmp_path / "quiz.html"
    graphc.compile(QUIZ).html(2, 3, path=path)
    load(browser, path)
    f = graphc.compile(QUIZ)
    press(browser, "\ue010")  # End: the whole backward pass
    for x, z in [(1.5, -0.7), (3.25, 0.01), (0.5, 2.0), (3.0, -1.0)]:
        for name, value in [("x", x), ("z", z)]:
            box = browser.find_element("id", f"input-{name}")
            box.clear()
            box.send_keys(repr(value))
        now = state(browser)
        table = f.table(x, z)
        assert [v for _, v in now["forward"]] == [tables.number(r.value) for r in table.forward]
        assert [v for _, v in now["backward"]] == [tables.number(r.value) for r in table.backward]
        gx, gz = f.grad(x, z)  # the compiled gradient code
        assert now["backward"][-2:] == [["b_x", tables.number(gx)], ["b_z", tables.number(gz)]]
    # at x = 3, z = -1 the student sees the adjoint of x change sign from x = 2, z = 3's
    assert float(now["backward"][-2][1]) < 0 < f.grad(2, 3)[0]
    assert [u for u in requests(browser) if not u.startswith(("file://", "data:"))] == []


def test_a_remote_resource_would_be_caught(browser, tmp_path):
    # The control for the no-network checks: the same page with one remote image added. Its
    # policy refuses the load, and the browser log says so (load() fails on such entries).
    text = graphc.compile(QUIZ).html(2, 3)
    path = tmp_path / "tampered.html"
    path.write_text(text.replace("<main>", '<main><img src="http://192.0.2.1/x.png" alt="">', 1),
                    encoding="utf-8")
    viewport(browser, 1280, 800)
    browser.get_log("browser")
    browser.get(path.as_uri())
    log = " ".join(e["message"] for e in browser.get_log("browser"))
    assert "192.0.2.1" in log and "Content Security Policy" in log


def test_enter_in_the_only_input_box_keeps_the_page(browser, tmp_path):
    # A form with one text box submits on Enter, which would reload the page and lose the step.
    f = graphc.compile("cos(sin(x**2) + 3*x**2)")
    path = tmp_path / "j.html"
    f.html(2.0, path=path)
    load(browser, path)
    press(browser, "\ue010")
    box = browser.find_element("id", "input-x")
    box.clear()
    box.send_keys("1.25\ue007")  # and Enter
    now = state(browser)
    assert now["counter"] == f"backward pass, step {len(page.data(f, (2.0,))['backward'])} of " \
        f"{len(page.data(f, (2.0,))['backward'])}"
    assert now["backward"][-1] == ["b_x", tables.number(f.grad(1.25)[0])]
    assert browser.current_url == path.as_uri()


def test_bad_inputs_are_named_not_computed(browser, tmp_path):
    path = tmp_path / "quiz.html"
    graphc.compile(QUIZ).html(2, 3, path=path)
    load(browser, path)
    box = browser.find_element("id", "input-x")
    box.clear()
    box.send_keys("two")
    assert box.get_attribute("aria-invalid") == "true"
    assert "is not a finite number" in state(browser)["status"]
    box.clear()
    box.send_keys("-1")  # log(-1): graphc raises a DomainError at v3 = log(x)
    with pytest.raises(graphc.DomainError):
        graphc.compile(QUIZ)(-1, 3)
    now = state(browser)
    assert now["status"].startswith("domain error at v3: log(-1)")


def test_the_notebook_frame_runs_the_same_page(browser, tmp_path):
    # What Jupyter does with f.show(2, 3): put its HTML into the output cell.
    shown = graphc.compile(QUIZ).show(2, 3)
    path = tmp_path / "notebook.html"
    path.write_text(f"<!DOCTYPE html><html><body><p>a notebook cell</p>{shown._repr_html_()}"
                    "</body></html>", encoding="utf-8")
    viewport(browser, 1100, 900)
    browser.get(path.as_uri())
    browser.switch_to.frame(browser.find_element("css selector", "iframe"))
    try:
        browser.find_element("id", "last").click()
        now = state(browser)
        assert now["counter"] == "backward pass, step 10 of 10"
        assert now["backward"][-2:] == [["b_x", "1208.381215"], ["b_z", "809.7074792"]]
    finally:
        browser.switch_to.default_content()


def test_keys_buttons_and_play(browser, tmp_path):
    path = tmp_path / "quiz.html"
    graphc.compile(QUIZ).html(2, 3, path=path)
    load(browser, path)
    press(browser, "\ue010")  # End
    assert state(browser)["counter"] == "backward pass, step 10 of 10"
    press(browser, "\ue012")  # left arrow
    assert state(browser)["counter"] == "backward pass, step 9 of 10"
    press(browser, "\ue011")  # Home
    assert state(browser)["counter"].startswith("start")
    browser.find_element("id", "next").click()
    assert state(browser)["counter"] == "forward pass, step 1 of 8"
    browser.find_element("id", "play").click()
    assert browser.find_element("id", "play").get_attribute("aria-pressed") == "true"
    time.sleep(2.5)  # the play mode steps about once a second
    press(browser, "p")
    assert browser.find_element("id", "play").get_attribute("aria-pressed") == "false"
    counter = state(browser)["counter"]
    assert counter.startswith("forward pass, step") and counter != "forward pass, step 1 of 8"
    # every control is a real button with a name; the live region announces the step
    names = [b.text for b in browser.find_elements("css selector", "#controls button")]
    assert names == ["|\u25c0 Start", "\u25c0 Back", "Next \u25b6", "End \u25b6|", "Play"]
    assert browser.find_element("id", "status").get_attribute("aria-live") == "polite"


def test_hover_and_focus_show_the_full_value_the_adjoint_and_the_formula(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    f = graphc.compile(QUIZ)
    path = tmp_path / "quiz.html"
    f.html(2, 3, path=path)
    load(browser, path)
    press(browser, "\ue010")  # End
    data = page.data(f, (2, 3))
    v4 = next(s for s in data["forward"] if s["name"] == "v4")["node"]
    node = browser.find_element("id", f"node-{v4}")
    ActionChains(browser).move_to_element(node).perform()
    tip = browser.find_element("id", "tooltip")
    assert tip.is_displayed()
    table = f.table(2, 3)
    value = next(r.value for r in table.forward if r.name == "v4")
    adjoint = next(r.value for r in table.backward if r.name == "b_v4")
    assert tip.text.splitlines() == ["v4 = v1 / v3", f"value: {value!r}",
                                     f"adjoint b_v4: {adjoint!r}",
                                     "in the formula: x*z/log(x)"]
    # keyboard users get the same by focusing the box; before its step it tells no value
    press(browser, "\ue011")  # Home
    browser.execute_script("arguments[0].focus()", node)
    assert "value: not computed yet" in tip.text and tip.is_displayed()


def test_readable_at_1280_and_at_phone_width(browser, tmp_path):
    path = tmp_path / "quiz.html"
    graphc.compile(QUIZ).html(2, 3, path=path)
    for width, height in [(1280, 800), (390, 844)]:
        load(browser, path, width, height)
        press(browser, "\ue010")
        overflow = browser.execute_script("return document.documentElement.scrollWidth")
        assert overflow <= width  # nothing but the graph's own box scrolls sideways
        for name in ["next", "play", "input-x"]:
            rect = browser.find_element("id", name).rect
            assert rect["x"] >= 0 and rect["x"] + rect["width"] <= width and rect["height"] >= 24
        font = browser.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('td.value')).fontSize)")
        assert font >= 12
        browser.save_screenshot(str(ARTIFACTS / f"quiz_{width}x{height}.png"))


def test_the_example_pages_load_and_step_to_the_end(browser):
    root = Path(__file__).resolve().parents[1] / "docs" / "pages"
    for name in [p.name for p in sorted(root.glob("*.html")) if "_practice" not in p.name]:
        load(browser, root / name)
        press(browser, "\ue010")
        now = state(browser)
        assert now["counter"].startswith("backward pass, step")
        assert not now["status"].startswith("domain error"), now["status"]
        assert all(v not in ("", "?") for _, v in now["backward"]), name
        browser.save_screenshot(str(ARTIFACTS / name.replace(".html", ".png")))


@pytest.mark.parametrize("formula, point, wrt", [("2", (), None), ("x", (1.5,), None),
                                                 ("x*y + sin(x)", (1.0, 2.0), ["x"])])
def test_small_pages_a_constant_one_variable_and_wrt(browser, tmp_path, formula, point, wrt):
    f = graphc.compile(formula, wrt=wrt)
    path = tmp_path / "small.html"
    f.html(*point, path=path)
    load(browser, path)
    press(browser, "\ue010")
    now = state(browser)
    table = f.table(*point)
    assert len(now["backward"]) == len(table.backward)
    assert [v for _, v in now["forward"]] == [tables.number(r.value) for r in table.forward]
    assert [v for _, v in now["backward"]] == [tables.number(r.value) for r in table.backward]
    if wrt:
        assert now["backward"][-2:] == [["b_x", tables.number(f.grad(*point)[0])], ["b_y", "0"]]


def test_the_network_page_shows_numpys_summaries(browser, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "net", Path(__file__).resolve().parents[1] / "examples" / "two_layer_network.py")
    network = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(network)
    f = network.compile_network(3)
    X, t = network.make_data(4, seed=0)
    weights = network.init_weights(3, seed=1)
    path = tmp_path / "net.html"
    f.html(path=path, X=X, t=t, **weights)
    load(browser, path)
    press(browser, "\ue010")
    now = state(browser)
    loss, gradient = f.value_and_grad(X=X, t=t, **weights)
    backward = dict(now["backward"])
    for name, g in zip(["b_A1", "b_A2", "b_beta"], gradient):
        assert backward[name] == page.summary(g)
    assert dict(now["forward"])["L"] == tables.number(loss)
    assert browser.find_element("id", "input-X").get_attribute("disabled") == "true"


# ------------------------------------------------------ the page's evaluator, op by op
def op_cases():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_ops import OP_TABLE, points

    for case in sorted(OP_TABLE):
        formula, _, domains, _ = OP_TABLE[case]
        yield case, formula, domains, points(domains, n=4, seed=7)
    # A product below sqrt: its reverse-mode adjoints are strong-zero products (mul0).
    domains = [(0.5, 2.0), (-2.0, -0.5)]
    yield "strong zeros", "sqrt(-a*b)", domains, points(domains, n=4, seed=7)


def test_the_pages_evaluator_matches_graphc_on_every_op_of_the_op_table(browser, tmp_path):
    path = tmp_path / "quiz.html"
    graphc.compile(QUIZ).html(2, 3, path=path)
    load(browser, path)
    checked = set()
    for case, formula, domains, points in op_cases():
        names = ["a", "b"][:len(domains)]
        f = graphc.compile(formula, variables=names)
        for point in points:
            data = page.data(f, point)
            run = browser.execute_script(
                "const g = window.graphc;"
                "const r = g.evaluate(arguments[0], arguments[1], {});"
                "return {values: r.values, error: r.error,"
                "        terms: g.evaluate(arguments[2], {}, r.values).values};",
                data["program"], dict(zip(names, point)), data["terms"])
            assert run["error"] is None, (case, point, run["error"])
            table = f.table(*point)
            values = {int(k): v for k, v in run["values"].items()}
            # forward pass: every value; backward pass: every adjoint, as graphc computes them
            for step, row in zip(data["forward"], table.forward[len(names):]):
                assert values[step["node"]] == pytest.approx(row.value, rel=4e-15, abs=1e-300), \
                    (case, point, row.name)
            for step, row in zip(data["backward"], table.backward):
                got = values[step["adjoint"]] if step["adjoint"] is not None else 0.0
                assert got == pytest.approx(row.value, rel=4e-15, abs=1e-300), (case, point, row.name)
            gradient = f.grad(*point)
            for name, g in zip(names, gradient):
                step = next(s for s in data["backward"] if s["name"] == f"b_{name}")
                assert values[step["adjoint"]] == pytest.approx(g, rel=4e-15, abs=1e-300)
            checked.update(op.name for op in [f.ir.op(n) for n in f.ir.ancestors(
                [f.output, *f.gradient_nodes()]) if f.ir.kind(n) == "op"])
    # every op the table's formulas and their derivatives use went through the page's evaluator
    scalar_ops = {op.name for op in graphc.ops.OPS}
    assert checked == scalar_ops  # every scalar op, the rule helpers sign, step, replace_zero too
    assert set(browser.execute_script("return Object.keys(window.graphc.OPS)")) == scalar_ops
    assert page.PAGE_OPS == scalar_ops  # what the Python side believes the script computes


def test_an_op_the_script_lacks_gives_graphcs_values_and_fixed_inputs(browser, tmp_path,
                                                                      monkeypatch):
    # As if the script had no sine (as it would have no op added to graphc after it).
    monkeypatch.setattr(page_model, "PAGE_OPS", page.PAGE_OPS - {"sin"})
    f = graphc.compile(QUIZ)
    path = tmp_path / "quiz.html"
    f.html(2, 3, path=path)
    load(browser, path)
    press(browser, "\ue010")
    now = state(browser)
    table = f.table(2, 3)
    assert [v for _, v in now["forward"]] == [tables.number(r.value) for r in table.forward]
    assert [v for _, v in now["backward"]] == [tables.number(r.value) for r in table.backward]
    assert browser.find_element("id", "input-x").get_attribute("disabled") == "true"
    assert "cannot compute sin" in browser.find_element("id", "fixed-note").text


def test_the_pages_evaluator_reports_what_python_refuses(browser, tmp_path):
    path = tmp_path / "quiz.html"
    graphc.compile(QUIZ).html(2, 3, path=path)
    load(browser, path)
    for formula, point in [("log(a)", [-1.0]), ("sqrt(a)", [-4.0]), ("asin(a)", [1.5]),
                           ("1/a", [0.0]), ("exp(a)", [800.0]), ("a**b", [-2.0, 0.5])]:
        names = ["a", "b"][:len(point)]
        f = graphc.compile(formula, variables=names)
        with pytest.raises(graphc.GraphcError):
            f(*point)  # graphc's Python refuses the point
        data = page.data(f, [0.5] * len(point))
        error = browser.execute_script("return window.graphc.evaluate(arguments[0], arguments[1], {}).error",
                                       data["program"], dict(zip(names, point)))
        assert error is not None, formula


# The strong quotient div0(a, b) by hand: a / b; 0 where a is 0 (even over 0, inf or nan);
# a * inf where b is 0 of either sign, so the numerator's sign alone (docs/security.md).
DIV0_CASES = [("3", "2", "1.5"), ("-3", "2", "-1.5"), ("0", "0", "0"), ("0", "NaN", "0"),
              ("-0", "Infinity", "0"), ("1", "0", "Infinity"), ("1", "-0", "Infinity"),
              ("-2", "0", "-Infinity"), ("-2", "-0", "-Infinity"), ("NaN", "0", "NaN"),
              ("NaN", "-0", "NaN"), ("Infinity", "-0", "Infinity"), ("NaN", "2", "NaN")]


def test_the_pages_div0_gives_the_numerators_infinity_as_every_backend_does(browser, tmp_path):
    path = tmp_path / "quiz.html"
    graphc.compile(QUIZ).html(2, 3, path=path)
    load(browser, path)
    # numbers travel as JavaScript's own spellings (JSON has no -0, inf or nan)
    got = browser.execute_script(
        "return arguments[0].map(([a, b]) => String(window.graphc.OPS.div0(Number(a), Number(b))))",
        [[a, b] for a, b, _ in DIV0_CASES])
    assert got == [want for _, _, want in DIV0_CASES]
    # and so do the Python backends' own div0, on floats and on numpy arrays
    op = graphc.ops.BY_NAME["div0"]
    for a, b, want in DIV0_CASES:
        x, y, expected = (float(t.replace("Infinity", "inf")) for t in (a, b, want))
        scalar, array = op.evaluate(x, y), op.needs["numpy"]["div0_np"](np.array([x]), np.array([y]))
        assert repr(scalar) == repr(float(array[0])) == repr(expected), (a, b)


def test_the_pages_number_format_is_pythons(browser, tmp_path):
    path = tmp_path / "quiz.html"
    graphc.compile(QUIZ).html(2, 3, path=path)
    load(browser, path)
    rng = random.Random(3)
    numbers = [0.0, -0.0, 1.0, -2.5, 1e-5, 1.5e-4, 123456789.0, 1234567890.0, 12345678901.0,
               9.9999999995, 0.1 + 0.2, 1e300, -1e-300, 5e-324]
    numbers += [rng.uniform(-1, 1) * 10 ** rng.randint(-12, 12) for _ in range(300)]
    for digits in (10, 6):
        shown = browser.execute_script(
            "return arguments[0].map((v) => window.graphc.fmt(v, arguments[1]))", numbers, digits)
        assert shown == [f"{v:.{digits}g}" for v in numbers]
    shown = browser.execute_script("return arguments[0].map((v) => window.graphc.repr(v))", numbers)
    assert shown == [repr(v) for v in numbers]

