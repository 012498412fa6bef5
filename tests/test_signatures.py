"""A call names its settings (STYLE.md): no function in minigpt/ takes more than MAX_POSITIONAL arguments by position,
so that past the first few a reader never counts positions: `gae(rewards, values, mask, gamma=1.0, lam=0.95)`."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "minigpt"
MAX_POSITIONAL = 4  # not counting self or cls


def too_many_positional(source, path="<snippet>"):
    """'path:line name(params)' for each def in source (methods, nested and private ones too) that can take more than
    MAX_POSITIONAL arguments by position; *args is not counted."""
    offenders = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = [a.arg for a in node.args.posonlyargs + node.args.args]
            if params and params[0] in ("self", "cls"):
                params = params[1:]
            if len(params) > MAX_POSITIONAL:
                offenders.append(f"{path}:{node.lineno} {node.name}({', '.join(params)})")
    return offenders


def test_no_function_in_minigpt_takes_more_than_four_arguments_by_position():
    offenders = [found for path in sorted(PACKAGE.rglob("*.py"))
                 for found in too_many_positional(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE.parent))]
    assert not offenders, ("these take more than 4 arguments by position; put a * before the settings, so that "
                           "every call names them:\n" + "\n".join(offenders))


def test_the_scan_finds_an_offender_and_accepts_keyword_only_settings():
    snippet = '''
def gae(rewards, values, mask, gamma, lam):
    pass

def gae_by_keyword(rewards, values, mask, *, gamma=1.0, lam=0.95):
    pass

class Trainer:
    def __init__(self, model, data, config, loss_fn, on_eval):
        def inner(a, b, c, d, e, f=1):
            pass

    @classmethod
    def build(cls, a, b, c, d):
        pass

def forwarding(a, b, *args, **kwargs):
    pass
'''
    assert too_many_positional(snippet) == ["<snippet>:2 gae(rewards, values, mask, gamma, lam)",
                                            "<snippet>:9 __init__(model, data, config, loss_fn, on_eval)",
                                            "<snippet>:10 inner(a, b, c, d, e, f)"]
