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


def test_report_page_shows_the_amounts_as_written(shots):
    out, notebook = shots
    assert m.SENTENCE in m.report_view(notebook, out)
    assert (out / "report.png").stat().st_size > 0


def test_jupyterlab_shows_the_amounts_as_written(shots):
    out, notebook = shots
    text = m.jupyterlab_view(notebook, out)
    assert m.SENTENCE in text, text[-400:]
    assert (out / "jupyterlab.png").stat().st_size > 0


def test_the_check_catches_a_backslash_escape(tmp_path):
    # what notebooks wrote before: JupyterLab 4 pairs the two escaped dollars into a formula
    code = ("from IPython.display import Markdown, display\n"
            "display(Markdown(" + repr(m.SENTENCE.replace("$", "\\$")) + "))")
    notebook = m.money_notebook(tmp_path, code)
    assert m.SENTENCE not in m.jupyterlab_view(notebook, tmp_path)
