"""Models trained once and reused: shipped with the package, or cached on your machine, keyed by recipe.

A recipe is a dict of plain values (model shape, training configuration, data, seed) that decides what
training produces. A notebook asks for a model by its recipe, and gets it from the first place that has
one trained from exactly that recipe:

1. the weights shipped inside the package, minigpt/weights/NAME/ (when the model has a NAME; `make models`
   writes them, as OpenAI trained GPT-2 once and published it);
2. your cache, $MINIGPT_CACHE or ~/.cache/minigpt, under models/<hash of the recipe>/;
3. training now, `train(recipe)`, whose result is stored in your cache for next time.

Both places hold a model the same way, one folder of files that a person can read:

    model.safetensors   the weights (safetensors: loading it cannot run code, unlike a pickle)
    recipe.json         the recipe it was trained from
    config.json         the GPTConfig that the weights fit
    record.json         the training record: curves over training steps, seconds, the weights' sha256

A folder is written next to its final place and renamed into it, so an interrupted save leaves nothing
half-written, and the sha256 catches a weights file that was truncated or changed afterwards.
"""
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_model, save_model

from .corpus import cache_directory
from .model import GPT

RECIPE_VERSION = 2  # raise when a change to the library changes what the same recipe trains
SHIPPED_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS, RECIPE, CONFIG, RECORD = "model.safetensors", "recipe.json", "config.json", "record.json"


class DamagedModel(ValueError):
    """A model folder whose files are missing, damaged, or do not fit together."""


def recipe_key(recipe):
    """A short hash that changes whenever any value of the recipe (or RECIPE_VERSION) changes."""
    return hashlib.sha256(_recipe_json(recipe).encode()).hexdigest()[:16]


def _recipe_json(recipe):
    try:
        return json.dumps({"recipe_version": RECIPE_VERSION, "recipe": recipe}, sort_keys=True, indent=1)
    except TypeError as err:
        raise TypeError(f"a recipe holds only plain values (numbers, strings, lists, dicts): {err}") from None


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def save_model_dir(model, recipe, record, folder):
    """Write model, recipe and record into `folder` (replacing what is there) all at once."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".", suffix=".tmp"))
    try:
        save_model(model, str(tmp / WEIGHTS))  # tied weights (wte = lm_head) are stored once
        record = {**record, "weights_sha256": file_sha256(tmp / WEIGHTS)}
        (tmp / RECIPE).write_text(_recipe_json(recipe) + "\n")
        (tmp / CONFIG).write_text(json.dumps(model.folder_config(), indent=1) + "\n")
        (tmp / RECORD).write_text(json.dumps(record) + "\n")
        for path in [tmp, *tmp.iterdir()]:  # mkdtemp makes the folder private; a cache may be shared
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        old = None
        if folder.exists():
            old = folder.with_name(tmp.name + ".old")
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def saved_recipe(folder):
    """The recipe a model folder was trained from, or None when the folder holds none (or another version's)."""
    path = Path(folder) / RECIPE
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    return saved["recipe"] if saved.get("recipe_version") == RECIPE_VERSION else None


def load_model_dir(folder, model_class=GPT):
    """(model in eval mode, record) from a model folder; DamagedModel when its files do not fit together.

    model_class builds the model back from config.json (its from_folder_config; folder_config() wrote it): GPT,
    or a model built on one, such as reward.RewardModel."""
    folder = Path(folder)
    missing = [name for name in (WEIGHTS, RECIPE, CONFIG, RECORD) if not (folder / name).is_file()]
    if missing:
        raise DamagedModel(f"{folder} has no {', '.join(missing)}: it is not a complete model folder")
    record = json.loads((folder / RECORD).read_text())
    if file_sha256(folder / WEIGHTS) != record.get("weights_sha256"):
        raise DamagedModel(f"{folder / WEIGHTS} is not the file that was trained (truncated or changed since: "
                           "its sha256 differs from the one in record.json)")
    try:
        model = model_class.from_folder_config(json.loads((folder / CONFIG).read_text()))
    except (KeyError, TypeError, ValueError) as err:
        raise DamagedModel(f"{folder / CONFIG} does not describe a {model_class.__name__}: {err}") from None
    try:
        load_model(model, str(folder / WEIGHTS))
    except (SafetensorError, RuntimeError, ValueError) as err:
        raise DamagedModel(f"the weights in {folder / WEIGHTS} do not fit the model that config.json describes: "
                           f"{str(err).splitlines()[0]} ...") from None
    return model.eval(), record


def cached_run(recipe, train, *, cache_dir=None, name=None, train_here=False, model_class=GPT):
    """(model, record) trained from `recipe`: shipped, else cached, else `train(recipe)` now (and cached).

    train(recipe) returns (model, record); record is a dict of plain values that goes with the model (its
    loss history, what was measured during training: whatever a notebook plots without training again).
    name: the model's name among the shipped weights, if it has one. train_here=True skips both stores and
    trains now (the result replaces the cached one). model_class: what the folder holds (load_model_dir).
    """
    folders = [cache_directory(cache_dir) / "models" / recipe_key(recipe)]
    if name is not None:
        folders.insert(0, SHIPPED_DIR / name)
    for folder in folders if not train_here else []:
        found = saved_recipe(folder)
        if found is None:
            continue
        if found != recipe:
            print(f"{folder} was trained from another recipe; to ship this one: make models NAME={name}")
            continue
        try:
            model, record = load_model_dir(folder, model_class)
        except DamagedModel as err:
            print(f"cannot use it: {err}; training again")
            continue
        print(f"loaded {'the shipped model ' + repr(name) if folder.parent == SHIPPED_DIR else 'a model'} "
              f"trained earlier with this recipe ({folder})")
        return model, record
    model, record = train(recipe)
    save_model_dir(model, recipe, record, folders[-1])
    # what every later call loads (weights stored in half precision come back float)
    return load_model_dir(folders[-1], model_class)


def cached_model(recipe, train, cache_dir=None):
    """The GPT that `train(recipe)` returns, loaded from the cache when it was trained before."""
    model, _ = cached_run(recipe, lambda r: (train(r), {}), cache_dir=cache_dir)
    return model
