"""The course's widgets in a real browser: JupyterLab on a loopback port with a token, driven by Chromium.

For each notebook with a widget, the test opens in JupyterLab a copy of it that keeps the cells the widget's cell
needs (the first cell, and every earlier cell that defines a name a kept cell uses: widget_cells), runs them, checks
that the widget rendered as a widget (not as its text fallback), changes it as a student would, checks that the output changed
accordingly, saves a screenshot to build/screenshots/, and checks that the browser's console shows no JavaScript
error. Needs Chromium, its driver and selenium: `apt install chromium chromium-driver` (.ci/run installs them).
Without them the tests are skipped with one line, except under CI=true, where a missing browser is a failure.
nbval runs every cell of the same notebooks; this is about what a student sees in the browser.
"""
import ast
import builtins
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # JupyterLab and Chromium run whole notebooks

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "build" / "screenshots"
SETTINGS = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
            "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}
INSTALL = "the browser tests need Chromium, chromium-driver and selenium: apt install chromium chromium-driver"


def _browser_parts():
    missing = [tool for tool in ("chromium", "chromedriver") if not shutil.which(tool)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    return missing


def require_browser():
    """Skip (one line saying what to install) when Chromium, its driver or selenium is missing; under CI=true fail."""
    missing = _browser_parts()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{INSTALL} (missing: {', '.join(missing)}); under CI the browser tests must run")
        pytest.skip(f"{INSTALL} (missing: {', '.join(missing)})")


def test_a_missing_browser_is_a_skip_for_a_student_and_a_failure_under_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt install chromium chromium-driver"):
        require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI the browser tests must run"):
        require_browser()


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _own_group_stopped_with_parent():
    """Run in the server's process before it starts: a process group of its own (so that it and its kernels can be
    stopped together) and, on Linux, a SIGTERM from the kernel when the test process dies, however it dies (a
    killed pytest runs no clean-up)."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):
    """A JupyterLab server on 127.0.0.1 with a token, serving a temporary folder; always stopped, port freed."""
    root = tmp_path_factory.mktemp("lab")
    port, token = _free_port(), secrets.token_hex(16)
    settings = root / ".settings"
    for plugin, values in SETTINGS.items():  # every cell in the page (no windowing), no news pop-up
        path = settings / (plugin.replace(":", "/") + ".jupyterlab-settings")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces")}
    log = open(root / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True", "--allow-root"],
        stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_own_group_stopped_with_parent)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start: {(root / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield {"root": root, "url": f"http://127.0.0.1:{port}", "token": token}
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        with pytest.raises(ConnectionRefusedError):  # nothing listens on the port any more
            socket.create_connection(("127.0.0.1", port), timeout=5).close()


def cell_names(source):
    """(names a code cell defines, names it uses that are not Python's builtins), read with ast; IPython's % and !
    lines are left out. Names local to a function count as defined: that can only keep a cell too many."""
    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return defined, used - set(dir(builtins))


def widget_cells(sources, marker):
    """The indices of the code cells that the first cell containing `marker` needs: that cell, the first cell
    (imports, seeds, knobs), and, going back, every cell that defines a name a kept cell uses."""
    target = next(n for n, source in enumerate(sources) if marker in source)
    kept, wanted = {0, target}, cell_names(sources[target])[1]
    for n in range(target - 1, 0, -1):
        defined, used = cell_names(sources[n])
        if defined & wanted:
            kept.add(n)
            wanted = (wanted - defined) | used
    return sorted(kept)


def test_widget_cells_follow_the_names_back_to_the_cells_that_define_them():
    sources = ["import math\nSEED = 0", "a = 1", "b = a + 1", "c = 5\n%time d = 2", "print(b, math.pi)", "w = Show(b)"]
    assert widget_cells(sources, "Show(") == [0, 1, 2, 5]
    assert cell_names("def f(x):\n    return x + y\n") == ({"f", "x"}, {"x", "y"})


def open_and_run(driver, lab, notebook, marker, timeout=600):
    """Open in JupyterLab a copy of notebooks/NOTEBOOK with the code cells that the cell holding `marker` needs
    (widget_cells), run them all, and wait until every code cell ran. Returns the error outputs (ename: evalue)."""
    nb = json.loads((ROOT / "notebooks" / notebook).read_text())
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    nb["cells"] = [code[n] for n in widget_cells(["".join(cell["source"]) for cell in code], marker)]
    (lab["root"] / notebook).write_text(json.dumps(nb))
    driver.get(f"{lab['url']}/lab?token={lab['token']}")
    driver.set_script_timeout(120)
    driver.execute_async_script("""
        const [name, done] = arguments;
        const pause = () => new Promise(r => setTimeout(r, 200));
        (async () => {
            while (!window.jupyterapp) await pause();
            await window.jupyterapp.started; await window.jupyterapp.restored;
            const panel = await window.jupyterapp.commands.execute('docmanager:open', {path: name});
            window.underTest = panel;
            await panel.context.ready; await panel.sessionContext.ready;
            while (!panel.sessionContext.session || !panel.sessionContext.session.kernel) await pause();
            window.jupyterapp.shell.activateById(panel.id);
            done(true);
        })();""", notebook)
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = driver.execute_script("""
            const panel = window.underTest;
            const code = panel.content.widgets.filter(c => c.model.type === 'code');
            const pending = code.filter(c => c.model.executionCount === null
                || (c.model.executionState !== undefined && c.model.executionState !== 'idle'));
            const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
            return [pending.length, kernel ? kernel.status : 'none'];""")
        if state[0] == 0 and state[1] == "idle":
            break
        time.sleep(1)
    else:
        pytest.fail(f"{notebook} did not finish running in the browser within {timeout} s")
    return driver.execute_script("""
        return window.underTest.content.widgets.flatMap(c => c.model.type === 'code' ? c.model.outputs.toJSON() : [])
            .filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue);""")


def widget_output(element):
    return element.find_element("css selector", ".widget-output").text


def wait_for_change(read, before, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = read()
        if now and now != before:
            return now
        time.sleep(0.5)
    pytest.fail(f"the output did not change within {timeout} s; it still reads: {before[:200]!r}")


NOT_SCRIPT_ERRORS = (
    "Failed to load resource",  # a missing favicon is no JavaScript error
    # Chromium's notice when the previous test's notebook, left with unsaved outputs, asks to confirm leaving and
    # the browser declines to show the dialog: the next test's driver.get(), not a script of the page under test
    "Blocked attempt to show a 'beforeunload' confirmation panel",
)


def console_errors(driver):
    """The console's SEVERE entries, leaving out the browser's own notices (NOT_SCRIPT_ERRORS)."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and not any(notice in e["message"] for notice in NOT_SCRIPT_ERRORS)]


def screenshot_without_console_errors(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / name))
    errors = console_errors(driver)
    assert not errors, f"JavaScript errors in the browser's console: {errors}"


def rendered_widget(driver, selector, notebook):
    """The widget box that holds `selector`, after checking that no widget fell back to its text form."""
    text = driver.execute_script("return window.underTest.node.innerText;")
    for fallback in ("VBox(children=", "Loading widget...", "Error displaying widget"):
        assert fallback not in text, f"{notebook}: a widget was shown as text ({fallback!r}), not rendered"
    panel = driver.execute_script("return window.underTest.node;")
    boxes = panel.find_elements("css selector", ".jp-OutputArea-output .widget-vbox")
    boxes = [box for box in boxes if box.find_elements("css selector", selector)]
    assert boxes, f"{notebook}: no rendered widget with {selector} in the outputs"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", boxes[0])
    return boxes[0]


def test_notebook_03_playground_moves_its_shots_slider(browser, lab):
    from selenium.webdriver.common.keys import Keys

    errors = open_and_run(browser, lab, "03_gpt3_in_context.ipynb", "Playground(")
    assert not errors, errors
    box = rendered_widget(browser, ".widget-slider", "03")
    before = widget_output(box)
    assert "(2 shots)" in before
    handle = box.find_elements("css selector", ".widget-slider .noUi-handle")[0]  # the shots slider comes first
    handle.click()
    handle.send_keys(Keys.ARROW_RIGHT)
    after = wait_for_change(lambda: widget_output(box), before)
    assert "(3 shots)" in after
    screenshot_without_console_errors(browser, "03_playground.png")


def test_notebook_05_be_the_labeler_takes_a_new_ranking(browser, lab):
    from selenium.webdriver.support.ui import Select

    errors = open_and_run(browser, lab, "05_instructgpt_reward_model.ipynb", "BeTheLabeler(")
    assert not errors, errors
    box = rendered_widget(browser, ".widget-dropdown", "05")
    before = widget_output(box)
    assert "your ranking: " in before
    ranks = box.find_elements("css selector", ".widget-hbox .widget-dropdown select")  # #1, #2, ...
    first = Select(ranks[0])
    new = next(option.text for option in first.options if option.text != first.first_selected_option.text)
    first.select_by_visible_text(new)
    after = wait_for_change(lambda: widget_output(box), before)
    assert f"your ranking: {new} > " in after
    screenshot_without_console_errors(browser, "05_be_the_labeler.png")


def test_notebook_07_chat_answers_a_typed_message(browser, lab):
    errors = open_and_run(browser, lab, "07_chatgpt_dialogue.ipynb", "ChatBox(")
    assert not errors, errors
    box = rendered_widget(browser, ".widget-text input", "07")
    before = widget_output(box)
    assert before.startswith("you: what pet does she have?\nassistant: who do you mean?")  # the scripted opening
    message = box.find_element("css selector", ".widget-text input")
    message.click()
    message.send_keys("and what food does she like?")
    box.find_element("css selector", "button.mod-primary").click()  # send
    after = wait_for_change(lambda: widget_output(box), before)
    assert after.startswith(before) and "\nyou: and what food does she like?\nassistant: " in after
    screenshot_without_console_errors(browser, "07_chat.png")
