"""The page's practice mode in a real browser (Debian's headless Chromium, through Selenium).

The quiz at x = 2, z = 3 is filled in as a student would, each entry worked out here by hand from
the lecture's program (a = x z, b = log x, ...), not read from graphc; the gradient it ends with
is SymPy's. Skipped only where Chromium or its driver is missing, as tests/test_page_browser.py.
"""

from __future__ import annotations

import math

import pytest
import sympy
from test_page_browser import (ARTIFACTS, QUIZ, browser, load, press,  # noqa: F401
                               pytestmark, viewport)

import graphc
from graphc.tools import cli, tables

TAB, ENTER = "\ue004", "\ue007"


def by_hand(x: float, z: float) -> dict[str, float]:
    """Every entry of the quiz's tables, worked out as the lecture does."""
    v1 = x * z
    v2 = math.exp(v1)
    v3 = math.log(x)
    v4 = v1 / v3
    v5 = v2 + v4
    v6 = math.sin(v3)
    v7 = v6 / v1
    v8 = v5 + v7
    b_v8 = b_v7 = b_v5 = b_v4 = b_v2 = 1.0
    b_v6 = b_v7 / v1
    b_v3 = b_v6 * math.cos(v3) - b_v4 * v4 / v3
    b_v1 = b_v4 / v3 - b_v7 * v7 / v1 + b_v2 * v2
    b_x = b_v3 / x + b_v1 * z
    b_z = b_v1 * x
    return dict(v1=v1, v2=v2, v3=v3, v4=v4, v5=v5, v6=v6, v7=v7, v8=v8, b_v8=b_v8, b_v7=b_v7,
                b_v6=b_v6, b_v5=b_v5, b_v4=b_v4, b_v3=b_v3, b_v2=b_v2, b_v1=b_v1, b_x=b_x, b_z=b_z)


ORDER = ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8",
         "b_v8", "b_v7", "b_v6", "b_v5", "b_v4", "b_v3", "b_v2", "b_v1", "b_x", "b_z"]


def sympy_gradient(x: float, z: float) -> tuple[float, float]:
    X, Z = sympy.symbols("x z")
    expr = sympy.exp(X * Z) + X * Z / sympy.log(X) + sympy.sin(sympy.log(X)) / (X * Z)
    return tuple(float(sympy.diff(expr, s).subs({X: x, Z: z})) for s in (X, Z))


def practice_page(tmp_path, name="quiz.html"):
    path = tmp_path / name
    assert cli.main(["html", QUIZ, "--at", "x=2,z=3", "--practice", "-o", str(path)]) == 0
    return path


def start(driver, path, **size):
    """Load the page with no progress kept from an earlier test (one browser profile)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    load(driver, path, **size)
    driver.execute_script("localStorage.clear()")
    driver.refresh()


def shift_tab(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()


def select_all(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()


def box(driver, name):
    return driver.find_element("css selector", f'input[data-answer="{name}"]')


def fill(driver, name, text):
    field = box(driver, name)
    field.clear()
    field.send_keys(text + ENTER)
    return field


def verdicts(driver) -> dict:
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('input[data-answer]')]"
        ".map((i) => [i.dataset.answer, i.dataset.verdict || '']))")


def test_every_right_entry_is_marked_right_and_the_page_ends_with_the_gradient(browser,
                                                                             tmp_path):
    start(browser, practice_page(tmp_path))
    hand = by_hand(2.0, 3.0)
    assert set(verdicts(browser)) == set(ORDER)  # an answer box for every value and adjoint
    assert all(v == "" for v in verdicts(browser).values())
    # what can be done first: the values of x z and log x, and the output's seed
    assert sorted(n for n in ORDER if box(browser, n).is_enabled()) == ["b_v8", "v1", "v3"]
    assert browser.execute_script("return [...document.querySelectorAll('#graph .node.ready')]"
                                  ".map((g) => g.querySelector('text.marker').textContent)") \
        == ["next"] * 3
    for name in ORDER:
        assert box(browser, name).is_enabled(), name
        fill(browser, name, f"{hand[name]:.6g}")  # six digits, as a student copies them
        assert box(browser, name).get_attribute("data-verdict") == "right", name
    assert set(verdicts(browser).values()) == {"right"}
    gx, gz = sympy_gradient(2.0, 3.0)
    result = browser.find_element("id", "practice-result").text
    assert f"(b_x, b_z) = ({gx:.6g}, {gz:.6g})" in result
    assert f"({gx:.6g}, {gz:.6g})" == "(1208.38, 809.707)"
    assert "18 of 18 right" in browser.find_element("id", "counter").text
    # the graph now carries every value and adjoint
    boxes = browser.execute_script("return [...document.querySelectorAll('#graph text.adjoint')]"
                                   ".map((t) => t.textContent)")
    assert f"b_x = {gx:.6g}" in boxes and f"b_z = {gz:.6g}" in boxes
    browser.save_screenshot(str(ARTIFACTS / "practice-quiz-done.png"))


def test_a_wrong_adjoint_is_marked_its_hint_names_the_rule_and_the_answer_shows_the_number(
        browser, tmp_path):
    start(browser, practice_page(tmp_path))
    hand = by_hand(2.0, 3.0)
    for name in ORDER[:ORDER.index("b_v3")]:
        fill(browser, name, f"{hand[name]:.6g}")
    assert hand["b_v3"] == pytest.approx(-12.36, abs=0.01)
    field = fill(browser, "b_v3", "-12.3")  # three digits: not four
    assert field.get_attribute("data-verdict") == "wrong"
    assert field.get_attribute("aria-invalid") == "true"
    assert "wrong" in browser.find_element("id", "status").text
    # the rule is hidden in the table and the code until asked for
    row = field.find_element("xpath", "./ancestor::tr")
    assert row.find_element("css selector", ".accumulated").text == "?"
    assert "b_v3 = \u2026" in browser.find_element("id", "code").text
    hint = row.find_element("css selector", ".hint-button")
    assert hint.is_displayed()
    assert not row.find_element("css selector", ".answer-button").is_displayed()
    hint.click()
    text = browser.find_element("id", "hint-b_v3").text
    assert text.startswith("b_v3 = b_v6*cos(v3) - b_v4/v3*v4")
    assert "12.36" not in text and "-12.3600074" not in text  # the rule, not the number
    field.click()  # the student goes back to the box: the arrows carry the chain-rule terms
    terms = browser.execute_script("return [...document.querySelectorAll('#graph .edge.adjoint "
                                   "text.term')].map((t) => t.textContent)")
    assert sorted(terms) == sorted(["b_v6*cos(v3)", "-(b_v4/v3*v4)"])
    answer = row.find_element("css selector", ".answer-button")
    assert answer.is_displayed()
    answer.click()
    shown = box(browser, "b_v3").get_attribute("value")
    assert float(shown) == pytest.approx(hand["b_v3"], rel=1e-9)
    assert box(browser, "b_v3").get_attribute("data-shown") == "true"
    # an answer shown counts as known: what needed it can now be done
    assert box(browser, "b_v1").is_enabled() is False  # b_v2 is not done yet
    fill(browser, "b_v2", "1")
    assert box(browser, "b_v1").is_enabled()
    browser.save_screenshot(str(ARTIFACTS / "practice-quiz-hint.png"))


def test_the_tolerance_is_the_pages_setting(browser, tmp_path):
    start(browser, practice_page(tmp_path))
    assert box(browser, "v1").is_enabled()
    fill(browser, "v3", "0.6931")  # log 2 = 0.693147...: four digits
    assert box(browser, "v3").get_attribute("data-verdict") == "right"
    digits = browser.find_element("id", "digits")
    digits.clear()
    digits.send_keys("6" + TAB)
    assert box(browser, "v3").get_attribute("data-verdict") == "wrong"
    digits.clear()
    digits.send_keys("3" + TAB)
    fill(browser, "v3", "0.693")
    assert box(browser, "v3").get_attribute("data-verdict") == "right"


def test_a_reload_keeps_the_progress(browser, tmp_path):
    path = practice_page(tmp_path, "reload.html")
    start(browser, path)
    hand = by_hand(2.0, 3.0)
    for name in ["v1", "v2", "v3"]:
        fill(browser, name, f"{hand[name]:.6g}")
    fill(browser, "v4", "9")  # wrong
    box(browser, "v4").find_element("xpath", "./ancestor::tr").find_element(
        "css selector", ".hint-button").click()
    browser.refresh()
    assert verdicts(browser) | {} == {**{n: "" for n in ORDER}, "v1": "right", "v2": "right",
                                      "v3": "right", "v4": "wrong"}
    assert box(browser, "v2").get_attribute("value") == f"{hand['v2']:.6g}"
    assert browser.find_element("id", "hint-v4").text.startswith("v4 = v1 / v3")
    # nothing was sent anywhere: the page made no request but itself
    browser.find_element("id", "reset").click()
    assert set(verdicts(browser).values()) == {""}


def test_keyboard_alone_does_the_whole_exercise(browser, tmp_path):
    start(browser, practice_page(tmp_path, "keys.html"))
    hand = by_hand(2.0, 3.0)
    active = "return document.activeElement.dataset.answer || ''"
    for _ in range(30):  # Tab from the top of the page to the first answer box
        press(browser, TAB)
        if browser.execute_script(active):
            break
    assert browser.execute_script(active) == "v1"
    press(browser, "7" + ENTER)  # wrong: Tab reaches the hint, Enter opens it
    assert box(browser, "v1").get_attribute("data-verdict") == "wrong"
    press(browser, TAB)
    assert browser.execute_script("return document.activeElement.className") == "hint-button"
    press(browser, ENTER)
    assert browser.find_element("id", "hint-v1").text.startswith("v1 = x * z")
    assert browser.execute_script(active) == "v1"  # back in the box, the hint beside it
    press(browser, TAB)
    assert browser.execute_script("return document.activeElement.className") == "answer-button"
    shift_tab(browser)  # back to the box
    assert browser.execute_script(active) == "v1"
    filled = 0
    while True:
        name = browser.execute_script(active)
        if not name:
            break
        current = box(browser, name).get_attribute("value")
        select_all(browser)
        press(browser, f"{hand[name]:.6g}" + ENTER)
        assert box(browser, name).get_attribute("data-verdict") == "right", (name, current)
        filled += 1
        if filled > len(ORDER):
            break
    assert set(verdicts(browser).values()) == {"right"}
    assert "(1208.38, 809.707)" in browser.find_element("id", "practice-result").text


def test_the_practice_page_fits_a_phone(browser, tmp_path):
    start(browser, practice_page(tmp_path, "phone.html"), width=390, height=844)
    fill(browser, "v1", "6")
    fill(browser, "v3", "0.5")
    box(browser, "v3").find_element("xpath", "./ancestor::tr").find_element(
        "css selector", ".hint-button").click()
    overflow = browser.execute_script(
        "const d = document.documentElement; return d.scrollWidth - d.clientWidth")
    assert overflow <= 0
    outside = browser.execute_script(
        "return [...document.querySelectorAll('input.answer, .hint-button, #controls > *')]"
        ".filter((e) => e.offsetParent && e.getBoundingClientRect().right > innerWidth + 0.5)"
        ".map((e) => e.dataset.answer || e.id || e.className)")
    assert outside == []
    height = browser.execute_script("return document.documentElement.scrollHeight")
    viewport(browser, 390, height)
    browser.save_screenshot(str(ARTIFACTS / "practice-quiz-phone.png"))


def test_the_print_views_are_an_exercise_sheet_and_an_answer_sheet(browser, tmp_path):
    start(browser, practice_page(tmp_path, "print.html"))
    fill(browser, "v1", "6")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        browser.execute_script("window.graphc.sheet('exercise')")
        look = ("return [...document.querySelectorAll(arguments[0])].filter((e) => "
                "getComputedStyle(e).display !== 'none' && getComputedStyle(e).visibility "
                "!== 'hidden' && getComputedStyle(e).color !== 'rgba(0, 0, 0, 0)')"
                ".map((e) => e.textContent || e.value)")
        assert browser.execute_script(look, "input.answer") == []  # the tables are empty
        assert browser.execute_script(look, "#graph .node") != []  # the graph is drawn
        assert browser.execute_script(look, "button") == []
        browser.save_screenshot(str(ARTIFACTS / "practice-quiz-exercise-sheet.png"))
        browser.execute_script("window.graphc.sheet('answers')")
        shown = browser.execute_script(look, ".answer-print")
        f = graphc.compile(QUIZ)
        table = f.table(2, 3)
        expected = [tables.number(r.value) for r in [*table.forward[2:], *table.backward]]
        assert shown == expected
        hand = by_hand(2.0, 3.0)
        assert [float(v) for v in shown] == pytest.approx([hand[n] for n in ORDER], rel=1e-9)
        browser.save_screenshot(str(ARTIFACTS / "practice-quiz-answer-sheet.png"))
        code = browser.find_element("id", "code").text
        assert "b_v3 = t2 - t4" in code and "\u2026" not in code  # the backward code, whole
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_every_page_in_docs_shows_graphcs_numbers_for_its_point(browser):
    """Each of the nine lecture pages at the end of its backward pass, and its practice twin's
    answer sheet, against graphc's table (scalars) or graphc's gradient (arrays)."""
    import importlib.util
    from pathlib import Path

    import numpy as np

    from graphc.tools import page

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("html_pages", root / "examples" / "html_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    read = ("return [...document.querySelectorAll(arguments[0])].map((r) => "
            "[r.querySelector('.name').textContent, r.querySelector('.value').textContent])")
    for name, (f, point) in module.pages().items():
        load(browser, root / "docs" / "pages" / name)
        press(browser, "\ue010")  # End
        forward = dict(browser.execute_script(read, "#forward-table tbody tr"))
        backward = dict(browser.execute_script(read, "#backward-table tbody tr"))
        start(browser, root / "docs" / "pages" / module.practice_name(name))
        browser.execute_script("window.graphc.sheet('answers')")
        sheet = browser.execute_script(
            "return Object.fromEntries([...document.querySelectorAll('input[data-answer]')].map("
            "(i) => [i.dataset.answer, i.parentNode.querySelectorAll('.answer-print')["
            "i.classList.contains('shape') ? 0 : [...i.parentNode.querySelectorAll("
            "'input[data-answer]')].indexOf(i)].textContent]))")
        browser.execute_script("window.graphc.sheet(null)")
        if not f.tensor:
            table = f.table(**point)
            for row in table.forward:
                assert forward[row.name] == tables.number(row.value), (name, row.name)
                if row.operation != "input":
                    assert sheet[row.name] == tables.number(row.value), (name, row.name)
            for row in table.backward:
                assert backward[row.name] == tables.number(row.value), (name, row.name)
                if row.accumulated != tables.NOT_ASKED:
                    assert sheet[row.name] == tables.number(row.value), (name, row.name)
            continue
        value, gradient = f.value_and_grad(**point)
        wrt = [r.removeprefix("b_") for r in backward if r.removeprefix("b_") in f.variables]
        for variable, g in zip(wrt, gradient):
            assert backward[f"b_{variable}"] == page.summary(g), (name, variable)
            assert sheet[f"b_{variable}.shape"] == "(" + ", ".join(map(str, np.shape(g))) + (
                ",)" if np.ndim(g) == 1 else ")"), (name, variable)
            assert sheet[f"b_{variable}"] == ", ".join(tables.number(v) for v in np.ravel(g))
