import pytest
import torch

from minigpt import GPT, GPTConfig
from minigpt.cache import cached_model, cached_run, recipe_key


def make_trainer(calls):
    def train(recipe):
        calls.append(recipe)
        torch.manual_seed(recipe["seed"])
        return GPT(GPTConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=recipe["n_embd"]))
    return train


def test_a_recipe_trains_once_then_loads_the_same_weights(tmp_path):
    calls = []
    recipe = {"n_embd": 16, "seed": 0}
    first = cached_model(recipe, make_trainer(calls), cache_dir=tmp_path)
    second = cached_model(recipe, make_trainer(calls), cache_dir=tmp_path)
    assert len(calls) == 1
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)


def test_any_change_to_the_recipe_trains_again(tmp_path):
    calls = []
    cached_model({"n_embd": 16, "seed": 0}, make_trainer(calls), cache_dir=tmp_path)
    cached_model({"n_embd": 16, "seed": 1}, make_trainer(calls), cache_dir=tmp_path)
    cached_model({"n_embd": 32, "seed": 0}, make_trainer(calls), cache_dir=tmp_path)
    assert len(calls) == 3
    assert recipe_key({"a": 1, "b": 2}) == recipe_key({"b": 2, "a": 1})  # key order does not matter


def test_a_damaged_cache_entry_is_trained_again(tmp_path, capsys):
    calls = []
    recipe = {"n_embd": 16, "seed": 0}
    cached_model(recipe, make_trainer(calls), cache_dir=tmp_path)
    path = next(tmp_path.rglob("model.safetensors"))
    path.write_bytes(b"not a checkpoint")
    cached_model(recipe, make_trainer(calls), cache_dir=tmp_path)
    assert len(calls) == 2 and "training again" in capsys.readouterr().out
    cached_model(recipe, make_trainer(calls), cache_dir=tmp_path)  # repaired: loads again
    assert len(calls) == 2


def test_recipes_must_be_plain_values():
    with pytest.raises(TypeError, match="plain values"):
        recipe_key({"config": GPTConfig()})


def test_a_run_keeps_its_record_with_the_model(tmp_path):
    calls = []

    def train(recipe):
        model = make_trainer(calls)(recipe)
        return model, {"curve": [{"step": 10, "accuracy": 0.5}], "loss": [2.0, 1.5]}

    recipe = {"n_embd": 16, "seed": 0}
    model, record = cached_run(recipe, train, cache_dir=tmp_path)
    again, loaded = cached_run(recipe, train, cache_dir=tmp_path)
    assert len(calls) == 1 and loaded == record
    assert {k: v for k, v in loaded.items() if k != "weights_sha256"} == {"curve": [{"step": 10, "accuracy": 0.5}],
                                                                          "loss": [2.0, 1.5]}
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
