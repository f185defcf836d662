"""Render a dollar amount the way readers see it: nbconvert HTML (the report) and JupyterLab.

``python tests/money_rendering.py OUT_DIR`` writes screenshots (``report.png``,
``jupyterlab.png``) and the text each view shows (``*.txt``) for a notebook whose Markdown
output reads "$3,600 per GPU, 12% of the catalog's typical $30,000". The test
``test_money_rendering.py`` asserts on the same text. Needs headless Chromium; JupyterLab is
started on 127.0.0.1 with a random port and no token, and stopped afterwards.

GitHub cannot be checked offline; it renders the same ``<span>&#36;</span>`` as a plain
dollar sign (an HTML entity inside an inline element never starts a formula there).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SENTENCE = "$3,600 per GPU, 12% of the catalog's typical $30,000"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Every request goes to a dead proxy (so nothing loads from the network) except, for the
# JupyterLab view, the local server itself.
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
                "--proxy-server=127.0.0.1:9", "--window-size=1100,700"]


def money_notebook(directory: Path, code: str | None = None) -> Path:
    """Execute a one-cell notebook that shows :data:`SENTENCE` through ``nb.md`` (or ``code``)."""
    import nbformat

    from hwcost import report

    directory.mkdir(parents=True, exist_ok=True)
    src = directory / "money_src.ipynb"
    node = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Money\n\nWhat does a GPU cost?"),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code or ("from hwcost import notebook as nb\n"
                                           f"nb.md({SENTENCE!r})")),
    ])
    node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    nbformat.write(node, str(src))
    out = report.execute(src, directory / "money.ipynb", {}, timeout_s=120)
    src.unlink()
    return out


def visible_text(dom: str) -> str:
    """Text of a dumped DOM without tags, scripts or styles, whitespace collapsed."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    dom = re.sub(r"</?(span|a|b|i|em|strong|code)\b[^>]*>", "", dom, flags=re.I)  # inline
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))


def _chrome(url: str, *extra: str, budget_ms: int = 5000, timeout_s: int = 120,
            reachable: str = "<-loopback>") -> str:
    cmd = [CHROMIUM, *CHROME_FLAGS, f"--proxy-bypass-list={reachable}",
           f"--virtual-time-budget={budget_ms}", *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                          check=True).stdout


def report_view(notebook: Path, out: Path) -> str:
    """The report page's visible text (and a screenshot in ``out``)."""
    from hwcost import report

    page = report.to_html(notebook, out / "money.html")
    _chrome(page.as_uri(), f"--screenshot={out / 'report.png'}")
    return visible_text(_chrome(page.as_uri(), "--dump-dom"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyterlab_view(notebook: Path, out: Path, *, wait_s: float = 60.0) -> str:
    """The notebook's visible text in JupyterLab (and a screenshot in ``out``)."""
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
           f"--ServerApp.root_dir={notebook.parent}", "--ServerApp.open_browser=False",
           "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(out / "jupyterlab.log", "w")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2)
                break
            except OSError as exc:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"JupyterLab did not start; see {out / 'jupyterlab.log'}") from exc
                time.sleep(0.5)
        url = f"http://127.0.0.1:{port}/lab/tree/{notebook.name}"
        here = f"127.0.0.1:{port}"
        _chrome(url, f"--screenshot={out / 'jupyterlab.png'}", budget_ms=25000, reachable=here)
        return visible_text(_chrome(url, "--dump-dom", budget_ms=25000, reachable=here))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main(out_dir: str) -> int:
    if CHROMIUM is None:
        print("headless Chromium is not installed", file=sys.stderr)
        return 1
    out = Path(out_dir)
    nb_path = money_notebook(out)
    views = {"report": report_view(nb_path, out), "jupyterlab": jupyterlab_view(nb_path, out)}
    ok = True
    for name, text in views.items():
        (out / f"{name}.txt").write_text(text, encoding="utf-8")
        found = SENTENCE in text
        ok &= found
        print(f"{name}: {'shows' if found else 'does NOT show'} {SENTENCE!r} "
              f"(screenshot {out / (name + '.png')})")
    print(json.dumps({k: SENTENCE in v for k, v in views.items()}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "money-screenshots"))
