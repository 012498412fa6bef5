"""Models trained once and reused: a cache keyed by the full training recipe.

Notebook 02 trains models of several sizes; later notebooks reuse them. A notebook asks for a model by
its recipe (a dict of plain values: model configuration, training configuration, data, seed). When the
cache holds a model trained from exactly that recipe, it is loaded; otherwise `train(recipe)` runs now
and its result is stored. So every notebook also runs on its own, and a second run is quick.

    model = cached_model({"n_layer": 4, "n_embd": 128, "max_iters": 600, "seed": 0}, train)

The cache lives in $MINIGPT_CACHE, or ~/.cache/minigpt, under models/<hash of the recipe>/.
"""
import hashlib
import json

from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .corpus import cache_directory
from .model import GPT, GPTConfig

RECIPE_VERSION = 1  # raise when a change to the library changes what the same recipe trains


def recipe_key(recipe):
    """A short hash that changes whenever any value of the recipe (or RECIPE_VERSION) changes."""
    try:
        text = json.dumps({"recipe_version": RECIPE_VERSION, **recipe}, sort_keys=True)
    except TypeError as err:
        raise TypeError(f"a recipe holds only plain values (numbers, strings, lists, dicts): {err}") from None
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_model(recipe, train, cache_dir=None):
    """The GPT that `train(recipe)` returns, loaded from the cache when it was trained before."""
    model, _ = cached_run(recipe, lambda r: (train(r), {}), cache_dir)
    return model


def cached_run(recipe, train, cache_dir=None):
    """(model, record): what `train(recipe)` returns, loaded from the cache when it was trained before.

    record is a dict of plain values that goes with the model: its loss history, the accuracies
    measured during training; whatever a notebook plots without training again.
    """
    path = cache_directory(cache_dir) / "models" / recipe_key(recipe) / CHECKPOINT_NAME
    if path.exists():
        try:
            state = load_checkpoint(path)
            if state["recipe"] == recipe:
                model = GPT(GPTConfig.from_dict(state["model_config"]))
                model.load_state_dict(state["model"])
                print(f"loaded a model trained earlier with this recipe ({path})")
                return model.eval(), state.get("record", {})
            print(f"{path} holds a different recipe; training again")
        except (ValueError, RuntimeError, KeyError, EOFError) as err:
            print(f"cannot use {path} ({err}); training again")
    model, record = train(recipe)
    state = {"recipe": recipe, "model_config": model.config.to_dict(), "model": model.state_dict(), "record": record}
    save_checkpoint(state, path)
    return model.eval(), record
