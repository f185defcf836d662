"""Dollar amounts read as written in the HTML report and in JupyterLab (headless Chromium).

The same check writes screenshots: ``python tests/money_rendering.py OUT_DIR``.
"""

import money_rendering as m
import pytest

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(m.CHROMIUM is None, reason="headless Chromium is not installed")]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    out = tmp_path_factory.mktemp("money")
    return out, m.money_notebook(out)


@pytest.fixture(scope="module")
def jupyterlab(shots):
    """What JupyterLab shows of the notebook as written and of one that escapes its dollars
    with a backslash, as notebooks did before (one server for both)."""
    out, notebook = shots
    code = ("from IPython.display import Markdown, display\n"
            "display(Markdown(" + repr(m.SENTENCE.replace("$", "\\$")) + "))")
    escaped = m.money_notebook(out, code, name="escaped")
    views = m.jupyterlab_views([notebook, escaped], out)
    return views[notebook.name], views[escaped.name]


def test_report_page_shows_the_amounts_as_written(shots):
    out, notebook = shots
    assert m.SENTENCE in m.report_view(notebook, out)
    assert (out / "report.png").stat().st_size > 0


def test_jupyterlab_shows_the_amounts_as_written(shots, jupyterlab):
    out, _ = shots
    text, _ = jupyterlab
    assert m.SENTENCE in text, text[-400:]
    assert (out / "jupyterlab.png").stat().st_size > 0


def test_the_check_catches_a_backslash_escape(jupyterlab):
    # what notebooks wrote before: JupyterLab 4 pairs the two escaped dollars into a formula
    _, escaped = jupyterlab
    assert m.SENTENCE not in escaped
