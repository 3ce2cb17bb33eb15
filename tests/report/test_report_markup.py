"""A model name is shown as written in the terminal and the HTML report, whatever brackets,
dollar signs or format codes it holds (issue 15: `[bold]` or `[/]` in a name crashed rich)."""

import html
import io

from rich.console import Console

from scalelab.core.scenario import model_from_file
from scalelab.report.context import ReportContext
from scalelab.report.html import render_html
from scalelab.report.render import render_terminal
from scalelab.report.sections import architecture

NAME = "[bold]$x_1$ [/] %s {0}[red"
SHAPE = """num_layers = 32
hidden_size = 4096
num_attention_heads = 32
num_key_value_heads = 8
ffn_hidden_size = 14336
vocab_size = 128256
"""


def test_markup_in_a_model_name_is_printed_literally(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(f'name = "{NAME}"\n{SHAPE}')
    model = model_from_file(path)
    section = architecture.build(ReportContext(model_id=str(path), model=model))
    console = Console(file=io.StringIO(), width=400, highlight=False)
    render_terminal([section], console)
    text = console.file.getvalue()
    assert f"{NAME} has 8.0B parameters" in text  # the summary
    assert f"│ {NAME} │" in text  # a table cell
    page = render_html(f"scalelab report: {NAME}", [section])
    assert html.escape(f"Architecture of {NAME}") in page
