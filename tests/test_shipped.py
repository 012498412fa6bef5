"""The shipped models (minigpt/weights/, written by `make models`): that they are what their recipes train,
that their key figures hold when measured again from the weights, and that damage is reported, not loaded."""
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from minigpt import GPT, GPTConfig, zoo
from minigpt.cache import (CONFIG, RECORD, SHIPPED_DIR, WEIGHTS, DamagedModel, cached_run, load_model_dir,
                           save_model_dir, saved_recipe)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", zoo.SHIPPED)
def test_every_recipe_is_shipped_as_it_is_written(name):
    shipped = saved_recipe(SHIPPED_DIR / name)
    assert shipped is not None, f"{name} is not shipped; run: make models NAME={name}"
    assert shipped == zoo.SHIPPED[name].recipe, f"the recipe of {name} changed since it was shipped; run: make models NAME={name}"


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.SHIPPED)
def test_the_recorded_figures_are_measured_again_from_the_shipped_weights(name):
    model, record = load_model_dir(SHIPPED_DIR / name, zoo.SHIPPED[name].model_class)
    measured = zoo.SHIPPED[name].measure(model)
    assert measured.keys() == record["figures"].keys()
    for figure, value in record["figures"].items():
        assert measured[figure] == pytest.approx(value, abs=1e-4), figure


def test_the_shipped_models_are_small_and_only_safetensors_and_json():
    files = [p for p in SHIPPED_DIR.rglob("*") if p.is_file()]
    assert {p.name for p in files} <= {WEIGHTS, "recipe.json", CONFIG, RECORD}
    assert {p.parent.name for p in files} == set(zoo.SHIPPED), "a shipped folder without a recipe in zoo.SHIPPED"
    assert sum(p.stat().st_size for p in files) < 25e6


def tiny_model(seed=0, n_embd=16):
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=n_embd))


def test_a_saved_folder_loads_the_same_weights_and_record(tmp_path):
    model = tiny_model()
    save_model_dir(model, {"seed": 0}, {"curve": [{"step": 1, "x": 0.5}]}, tmp_path / "m")
    again, record = load_model_dir(tmp_path / "m")
    assert record["curve"] == [{"step": 1, "x": 0.5}] and len(record["weights_sha256"]) == 64
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert again.lm_head.weight is again.transformer.wte.weight  # tied weights stay tied
    assert not list(tmp_path.glob("*.tmp")), "no temporary folder left behind"


@pytest.mark.parametrize("damage", ["truncated", "changed"])
def test_a_damaged_weights_file_is_refused_with_a_clear_error(tmp_path, damage):
    save_model_dir(tiny_model(), {"seed": 0}, {}, tmp_path / "m")
    weights = tmp_path / "m" / WEIGHTS
    data = bytearray(weights.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[-3] ^= 0xFF  # one byte of one weight
    weights.write_bytes(bytes(data))
    with pytest.raises(DamagedModel, match="truncated or changed"):
        load_model_dir(tmp_path / "m")


def test_a_config_that_does_not_fit_the_tensors_is_refused_with_a_clear_error(tmp_path):
    save_model_dir(tiny_model(), {"seed": 0}, {}, tmp_path / "m")
    config = json.loads((tmp_path / "m" / CONFIG).read_text())
    (tmp_path / "m" / CONFIG).write_text(json.dumps({**config, "n_embd": 32}))
    with pytest.raises(DamagedModel, match="do not fit the model that config.json describes"):
        load_model_dir(tmp_path / "m")


def test_load_prefers_shipped_then_cache_then_training(tmp_path, monkeypatch, capsys):
    shipped, calls = tmp_path / "weights", []
    monkeypatch.setattr("minigpt.cache.SHIPPED_DIR", shipped)

    def train(recipe):
        calls.append(recipe)
        return tiny_model(recipe["seed"]), {"trained": len(calls)}

    recipe = {"seed": 0}
    run = lambda **kw: cached_run(recipe, train, cache_dir=tmp_path / "cache", name="tiny", **kw)  # noqa: E731
    run()  # nothing shipped, nothing cached: trains, caches
    assert len(calls) == 1
    save_model_dir(tiny_model(seed=5), recipe, {"shipped": True}, shipped / "tiny")
    model, record = run()
    assert record["shipped"] and "loaded the shipped model 'tiny'" in capsys.readouterr().out
    save_model_dir(tiny_model(seed=5), {"seed": 1}, {"shipped": True}, shipped / "tiny")  # an older recipe
    model, record = run()
    assert record["trained"] == 1 and "make models NAME=tiny" in capsys.readouterr().out  # the cached one
    _, record = run(train_here=True)
    assert record["trained"] == 2 and len(calls) == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.SHIPPED)
def test_each_recipe_trains_a_few_steps(name):
    entry = zoo.SHIPPED[name]
    _, record = entry.fit({**entry.recipe, **entry.quick}, False)
    assert record["curve"] and record["curve"][-1]["step"] == len(record["history"]["loss"])
    # entry.train adds entry.measure's figures to this: the test above measures them on the shipped weights


def test_a_shipped_entry_records_its_measures_figures_and_loads_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr("minigpt.cache.SHIPPED_DIR", tmp_path / "weights")
    trained = []

    def fit(recipe, progress):
        trained.append(recipe)
        return tiny_model(recipe["seed"]), {"curve": [{"step": 1}]}

    entry = zoo.Shipped("tiny", {"seed": 0}, fit, lambda model: {"size": float(model.config.n_embd)}, "size", "a test")
    model, record = entry.train(entry.recipe, progress=False)
    assert record == {"curve": [{"step": 1}], "figures": {"size": 16.0}}
    _, loaded = entry.load(cache_dir=tmp_path)
    _, again = entry.load(cache_dir=tmp_path)
    assert loaded["figures"] == again["figures"] == {"size": 16.0} and trained == [{"seed": 0}, {"seed": 0}]
    entry.load({"seed": 1}, cache_dir=tmp_path)  # another recipe of the same model: trained, not the cached one
    assert trained[-1] == {"seed": 1}


@pytest.mark.slow
def test_the_wheel_carries_the_shipped_weights(tmp_path):
    build = tmp_path / "src"
    shutil.copytree(ROOT, build, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(tmp_path / "dist"), str(build)], check=True)
    wheel = next((tmp_path / "dist").glob("minigpt-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in zoo.SHIPPED:
        for file in (WEIGHTS, "recipe.json", CONFIG, RECORD):
            assert f"minigpt/weights/{name}/{file}" in names



def test_damaged_demonstrations_are_worse_by_the_gold_labeler_and_built_as_described():
    from minigpt.tinyworld import GoldLabeler, instructions

    splits = instructions(seed=0)
    gold, held_out = GoldLabeler(splits), splits["validation"] + splits["test"]
    made = zoo.damaged_demonstrations(held_out)
    for item, demonstration, copies in made:
        for damage, copy in copies:
            assert gold.gold_score(item, copy) < gold.gold_score(item, demonstration), (damage, copy)
    kinds = {damage for _, _, copies in made for damage, _ in copies}
    assert kinds == {"wrong fact", "unfinished", "repeated"} and len(made) == len(held_out) == 337
    assert sum(damage == "wrong fact" for _, _, copies in made for damage, _ in copies) >= 100
    by_prompt = {item.prompt: dict(copies) for item, _, copies in made}
    assert by_prompt["give the opposite of tall."] == {"unfinished": " short.", "repeated": " short. short.<|end|>",
                                                       "wrong fact": by_prompt["give the opposite of tall."]["wrong fact"]}
    wrong = by_prompt["give the opposite of tall."]["wrong fact"]
    assert wrong.endswith(".<|end|>") and wrong != " short.<|end|>" and len(wrong.split()) == 1


def test_the_shipped_reward_model_prefers_a_held_out_demonstration_to_its_damaged_copies():
    from minigpt.tinyworld import instructions

    splits = instructions(seed=0)
    rm, _ = zoo.load("rm", progress=False)
    shares = zoo.prefers_demonstrations(rm, splits["validation"] + splits["test"])
    assert min(shares.values()) >= 0.75, shares  # in at least three held-out instructions of four, each damage
