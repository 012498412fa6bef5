import pytest
import torch

from minigpt import GPT, GPTConfig, zoo
from minigpt.tinyworld import tasks
from minigpt.training import Trainer

QUICK = {"max_iters": 20, "eval_every": 10}  # a few seconds: enough to test the plumbing, not the learning


def test_the_sizes_grow_and_a_recipe_names_everything_that_is_trained():
    counts = [zoo.parameter_count(GPT(GPTConfig(vocab_size=1024, block_size=32, **shape)))
              for shape in zoo.SIZES.values()]
    assert counts == sorted(counts) and counts[-1] > 10 * counts[0]
    recipe = zoo.recipe("M", seed=3)
    assert recipe["n_layer"] == zoo.SIZES["M"]["n_layer"] and recipe["seed"] == 3
    assert zoo.recipe("S") != zoo.recipe("M") and zoo.recipe("S", seed=1) != zoo.recipe("S")
    with pytest.raises(ValueError, match="XS, S, M"):
        zoo.recipe("XL")


def test_the_tokenizer_is_trained_on_tinyworld_and_deterministic():
    tok = zoo.tokenizer()
    assert tok.vocab_size == 1024
    assert tok.encode("the opposite of hot is cold.") == zoo.tokenizer.__wrapped__().encode("the opposite of hot is cold.")


def test_pretrained_trains_once_records_the_zero_shot_curve_and_loads_it_back(tmp_path, capsys):
    model, record = zoo.pretrained("XS", cache_dir=tmp_path, progress=False, **QUICK)
    assert [point["step"] for point in record["curve"]] == [10, 20]
    assert set(record["curve"][0]) == {"step", *tasks()}
    assert all(0 <= point[name] <= 1 for point in record["curve"] for name in tasks())
    assert len(record["history"]["loss"]) == 20 and record["parameters"] == zoo.parameter_count(model)
    again, loaded = zoo.pretrained("XS", cache_dir=tmp_path, progress=False, **QUICK)
    assert "loaded a model trained earlier" in capsys.readouterr().out
    assert loaded == record
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
    assert not again.training


def test_an_interrupted_training_is_not_cached(tmp_path, monkeypatch):
    step = Trainer.step

    def step_until_interrupted(trainer):
        if trainer.iter == 5:
            raise KeyboardInterrupt
        return step(trainer)

    monkeypatch.setattr(Trainer, "step", step_until_interrupted)
    with pytest.raises(KeyboardInterrupt, match="step 5 of 20; nothing was saved"):
        zoo.pretrained("XS", cache_dir=tmp_path, progress=False, **QUICK)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_the_ppo_trainer_starts_from_the_shipped_sft_model_and_leaves_it_untouched():
    sft, _ = zoo.load("sft", progress=False)
    trainer = zoo.ppo_trainer(zoo.ppo_config(batch_size=4, minibatch_size=2, ppo_epochs=1, max_new_tokens=6))
    stats = trainer.step()
    assert stats["first ratio error"] < 1e-5 and abs(stats["kl"]) < 1e-5  # the policy starts as the SFT model
    assert 0 <= stats["gold"] <= 1 and stats["ptx loss"] > 0  # the labeler watches; the pre-training text is at hand
    moved = any(not torch.equal(a, b) for a, b in zip(trainer.policy.state_dict().values(), sft.state_dict().values()))
    kept = all(torch.equal(a, b) for a, b in zip(trainer.reference.state_dict().values(), sft.state_dict().values()))
    assert moved and kept
