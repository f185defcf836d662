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


def money_notebook(directory: Path, code: str | None = None, name: str = "money") -> Path:
    """Execute a one-cell notebook that shows :data:`SENTENCE` through ``nb.md`` (or ``code``),
    written as ``directory / f"{name}.ipynb"``."""
    import nbformat

    from hwcost import report

    directory.mkdir(parents=True, exist_ok=True)
    src = directory / f"{name}_src.ipynb"
    node = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Money\n\nWhat does a GPU cost?"),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code or ("from hwcost import notebook as nb\n"
                                           f"nb.md({SENTENCE!r})")),
    ])
    node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    nbformat.write(node, str(src))
    out = report.execute(src, directory / f"{name}.ipynb", {}, timeout_s=120)
    src.unlink()
    return out


def visible_text(dom: str) -> str:
    """Text of a dumped DOM without tags, scripts or styles, whitespace collapsed."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    dom = re.sub(r"</?(span|a|b|i|em|strong|code)\b[^>]*>", "", dom, flags=re.I)  # inline
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))


def _chrome(url: str, screenshot: Path, *, budget_ms: int = 5000, timeout_s: int = 120,
            reachable: str = "<-loopback>") -> str:
    """The DOM of ``url`` once loaded, with a screenshot of it, from one Chromium run."""
    cmd = [CHROMIUM, *CHROME_FLAGS, f"--proxy-bypass-list={reachable}",
           f"--virtual-time-budget={budget_ms}", f"--screenshot={screenshot}", "--dump-dom", url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                          check=True).stdout


def report_view(notebook: Path, out: Path) -> str:
    """The report page's visible text (and a screenshot ``report.png`` in ``out``)."""
    from hwcost import report

    page = report.to_html(notebook, out / f"{notebook.stem}.html")
    return visible_text(_chrome(page.as_uri(), out / "report.png"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyterlab_views(notebooks: list[Path], out: Path, *, wait_s: float = 60.0) -> dict[str, str]:
    """Each notebook's visible text in JupyterLab, by file name (and a screenshot
    ``jupyterlab.png`` of the first in ``out``). The notebooks share one folder and one server."""
    folders = {n.parent for n in notebooks}
    if len(folders) != 1:
        raise ValueError(f"the notebooks must share one folder, got {sorted(map(str, folders))}")
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
           f"--ServerApp.root_dir={folders.pop()}", "--ServerApp.open_browser=False",
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
        views = {}
        for i, notebook in enumerate(notebooks):
            shot = out / ("jupyterlab.png" if i == 0 else f"jupyterlab_{notebook.stem}.png")
            # a workspace of its own, so the page shows this notebook alone
            url = f"http://127.0.0.1:{port}/lab/workspaces/view{i}/tree/{notebook.name}?reset"
            dom = _chrome(url, shot,
                          budget_ms=25000, reachable=f"127.0.0.1:{port}")
            views[notebook.name] = visible_text(dom)
        return views
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def jupyterlab_view(notebook: Path, out: Path, *, wait_s: float = 60.0) -> str:
    """The notebook's visible text in JupyterLab (and a screenshot in ``out``)."""
    return jupyterlab_views([notebook], out, wait_s=wait_s)[notebook.name]


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
