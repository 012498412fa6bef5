import pytest
import torch

from minigpt import GPT, GPTConfig, zoo
from minigpt.model import parameter_count
from minigpt.tinyworld import tasks
from minigpt.training import Trainer

QUICK = {"max_iters": 20, "eval_every": 10}  # a few seconds: enough to test the plumbing, not the learning


def test_the_sizes_grow_and_a_recipe_names_everything_that_is_trained():
    counts = [parameter_count(GPT(GPTConfig(vocab_size=1024, block_size=32, **shape)))
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
    assert len(record["history"]["loss"]) == 20 and record["parameters"] == parameter_count(model)
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
    trainer = zoo.ppo_trainer(zoo.ppo_config(batch_size=4, minibatch_size=2, ppo_epochs=1, max_new_tokens=6,
                                             value_warmup=0))
    stats = trainer.step()
    assert stats["first ratio error"] < 1e-5 and abs(stats["kl"]) < 1e-5  # the policy starts as the SFT model
    assert 0 <= stats["gold"] <= 1 and stats["ptx loss"] > 0  # the labeler watches; the pre-training text is at hand
    moved = any(not torch.equal(a, b) for a, b in zip(trainer.policy.state_dict().values(), sft.state_dict().values()))
    kept = all(torch.equal(a, b) for a, b in zip(trainer.reference.state_dict().values(), sft.state_dict().values()))
    assert moved and kept


def test_ppo_evaluation_and_the_hardest_prompts_agree_with_the_labelers_scores_of_the_same_samples():
    from minigpt.tinyworld import GoldLabeler, instructions

    sft, _ = zoo.load("sft", progress=False)
    rm, _ = zoo.load("rm", progress=False)
    splits = instructions(seed=0)
    gold, items = GoldLabeler(splits), splits["validation"][:6]
    golds = zoo.sampled_gold(sft, items, gold, samples=2, seed=7)  # (2, 6): the samples ppo_evaluation draws
    proxy, judged = zoo.judged_samples(sft, items, rm, gold, samples=2, seed=7)  # the same samples, both judges
    roll = zoo.sampled_responses(sft, items, samples=2, seed=7)
    alone = [rm(roll.idx[i : i + 1, :n], n[None]).item() for i, n in enumerate(roll.lengths)]  # unpadded, one by one
    assert torch.equal(judged, golds) and proxy.flatten().tolist() == pytest.approx(alone, abs=1e-5)
    figures = zoo.ppo_evaluation(sft, items, rm, gold, reference=sft, samples=2, seed=7)
    assert figures["gold"] == pytest.approx(golds.mean().item())
    assert abs(figures["kl"]) < 1e-4  # the SFT model against itself
    assert figures["lm loss"] == pytest.approx(zoo.pretraining_loss(sft)) and 0 <= figures["zero-shot"] <= 1
    means = golds.mean(0).tolist()
    picked = zoo.hardest_prompts(sft, items, gold, n=2, samples=2, seed=7)
    left = [m for item, m in zip(items, means) if item not in picked]
    assert len(picked) == 2 and max(means[items.index(item)] for item in picked) <= min(left)


def test_comparisons_take_a_split_by_name_or_any_prompts_with_round_r_seeded_seed_plus_r():
    from minigpt.reward import sample_comparisons
    from minigpt.tinyworld import DialogueLabeler, GoldLabeler, dialogues, instructions

    sft, _ = zoo.load("sft", progress=False)
    tok, talks, labeler = zoo.tokenizer(chat=True), dialogues(seed=0)["validation"][:3], DialogueLabeler()
    by_hand = [c for r in range(2) for c in sample_comparisons(sft, tok, talks, labeler, seed=5 + r)]
    made = zoo.comparisons(sft, talks, labeler, rounds=2, seed=5)
    assert [(c.prompt, c.responses, c.ranking) for c in made] == [(c.prompt, c.responses, c.ranking) for c in by_hand]
    splits = instructions(seed=0)
    gold = GoldLabeler(splits)  # noiseless: the same responses get the same ranking whatever was ranked before
    named = zoo.comparisons(sft, "validation", gold)
    listed = zoo.comparisons(sft, splits["validation"], gold, seed=1000)  # the validation split's seeds start there
    assert [(c.responses, c.ranking) for c in named] == [(c.responses, c.ranking) for c in listed]


def test_one_scaling_recipe_serves_every_width_and_counts_n_d_and_every_matmul():
    from minigpt.scaling import training_flops
    for n_embd in (*zoo.SCALING_FAMILY, *zoo.SCALING_LADDER, zoo.SCALING_BIG):
        recipe = zoo.scaling_recipe(n_embd)
        config = GPTConfig(vocab_size=zoo.scaling_tokenizer().vocab_size, block_size=recipe["block_size"],
                           n_layer=2, n_head=recipe["n_head"], n_embd=n_embd)
        assert recipe["non_embedding_parameters"] == parameter_count(GPT(config), embeddings=False)
        assert recipe["tokens"] == recipe["max_iters"] * recipe["batch_size"] * recipe["block_size"]
        assert recipe["tokens"] == pytest.approx(zoo.TOKENS_PER_PARAMETER * recipe["non_embedding_parameters"], rel=0.01)
        assert recipe["flops"] == training_flops(config, recipe["tokens"]) and recipe["world"] == zoo.SCALING_WORLD
    small, large = zoo.scaling_recipe(16), zoo.scaling_recipe(48)
    assert small["learning_rate"] == pytest.approx(3 * large["learning_rate"], rel=1e-4)  # wider: smaller steps
    assert zoo.scaling_recipe(16, tokens=50_000)["tokens"] == 49 * 8 * 128  # whole steps of 8 x 128 characters
    family, big = zoo.scaling_recipe(zoo.SCALING_FAMILY[-1])["flops"], zoo.scaling_recipe(zoo.SCALING_BIG)["flops"]
    assert big >= 100 * family  # GPT-4's claim: a run 100x out


def test_a_scaling_runs_figures_equal_a_plain_loop_over_the_validation_lines():
    import math

    import torch.nn.functional as F
    world = {**zoo.SCALING_WORLD, "people": 300}
    torch.manual_seed(0)
    tok = zoo.scaling_tokenizer()
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=128, n_layer=1, n_head=2, n_embd=16)).eval()
    figures = zoo.measure_scaling(model, world)
    generator, lines = zoo.scaling_world(world), zoo.validation_lines(world)
    total = characters = names = facts = 0.0
    answers = {}
    with torch.no_grad():
        for person, line in lines:  # one line at a time, read after a newline
            ids = torch.tensor(tok.encode("\n" + line + "\n"))
            nats = F.cross_entropy(model(ids[None, :-1])[0][0], ids[1:], reduction="none")  # nats[t]: line[t]
            total, characters = total + nats.sum().item(), characters + len(line) + 1
            names += nats[: len(generator.names[person]) + 1].sum().item() + math.log(generator.probabilities[person])
            for value in generator.facts[person].values():
                start = line.index(" " + value, len(generator.names[person])) + 1
                facts += nats[start : start + len(value)].sum().item()
                answers.setdefault(person < 100, []).append(nats[start : start + len(value)].sum().item())
    assert figures["validation loss"] == pytest.approx(total / characters, rel=1e-5)
    assert figures["name excess"] == pytest.approx(names / characters, rel=1e-4)
    assert figures["fact nats"] == pytest.approx(facts / characters, rel=1e-5)
    assert figures["answer nats 0-100"] == pytest.approx(sum(answers[True]) / len(answers[True]), rel=1e-5)
    assert figures["answer nats 100-1000"] == pytest.approx(sum(answers[False]) / len(answers[False]), rel=1e-5)
    assert "answer nats 1000-10000" not in figures  # no one of that rank in a world of 300
    assert figures["floor"] == generator.floor(lines) < figures["validation loss"]


def test_a_scaling_run_is_trained_on_its_worlds_text_and_cached(tmp_path, capsys):
    model, record = zoo.scaling_run(16, tokens=20_000, cache_dir=tmp_path, progress=False)
    figures = record["figures"]
    assert {"validation loss", "floor", "name excess", "fact nats", "answer nats 0-100", "facts known 0-100"} <= set(figures)
    assert figures["floor"] < figures["validation loss"] < 3.5  # barely trained: near log(30) = 3.4, below it
    assert len(record["history"]["loss"]) <= 1000
    _, again = zoo.scaling_run(16, tokens=20_000, cache_dir=tmp_path, progress=False)
    assert "trained earlier" in capsys.readouterr().out and again == record


def test_chat_rlhf_conversations_leave_room_for_a_reply_and_fresh_ones_hold_out_what_the_test_asks():
    from minigpt.tinyworld import dialogues
    recipe = zoo.chat_rlhf_recipe()
    prompts = zoo.rlhf_prompts(recipe)
    assert all(zoo.leaves_room(d.turns) for d in prompts + zoo.deep_in_conversation("test"))
    known = dialogues(seed=0)
    fresh = zoo.fresh_dialogues(recipe["fresh"])
    assert fresh and len({d.turns for d in fresh}) == len(fresh)
    assert not {d.turns for d in fresh} & {d.turns for split in known.values() for d in split}
    held_out = {d.item[:2] for split in ("validation", "test") for d in known[split]}
    assert not {d.item[:2] for d in fresh} & held_out
    assert {d.turns for d in prompts} >= {d.turns for d in known["train"]} | {d.turns for d in fresh}
    assert not zoo.leaves_room((("user", "why is a banana blue? " * 20),))
