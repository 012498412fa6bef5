"""Key figures a notebook reports: shown to the student, and collected by `make course` for its summary.

    report(val_loss=1.42, accuracy=0.87)

In Jupyter this displays a small table and also attaches the figures as JSON under REPORT_MIME,
which the course runner reads back from the executed notebook. Outside Jupyter it prints them.
"""
import html
import json
import numbers

REPORT_MIME = "application/vnd.minigpt.report+json"


def _format(value):
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        return f"{value:.4g}"
    return str(value)


def report(**figures):
    """Show and record this notebook's key figures (numbers or short strings)."""
    for name, value in figures.items():
        if hasattr(value, "item"):  # a one-element tensor or numpy scalar
            figures[name] = value = value.item()
        if not isinstance(value, (numbers.Real, str)):
            raise TypeError(f"report({name}=...) takes a number or a short string, got {type(value).__name__}")
    text = "\n".join(f"{name}: {_format(value)}" for name, value in figures.items())
    rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{html.escape(_format(v))}</td></tr>" for n, v in figures.items())
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(text)
        return
    bundle = {
        "text/plain": text,
        "text/html": f"<table><tr><th>key figure</th><th>value</th></tr>{rows}</table>",
        REPORT_MIME: json.loads(json.dumps(figures)),
    }
    display(bundle, raw=True)  # nothing is returned, so the figures are not shown twice as the cell's result
