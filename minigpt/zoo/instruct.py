"""InstructGPT's steps 1 and 2 (notebooks 04-05): supervised fine-tuning, then the reward model.

This stage starts from the pre-trained base model (pretraining.BASE): the SFT model is the base fine-tuned on
TinyWorld's instructions, and the reward model is the SFT model with a scalar head, trained on its own ranked
samples. Both are shipped:

    sft, record = SFT.load()     # notebooks 05-06
    rm, record = RM.load()       # notebooks 05-06
"""
import copy

import torch

from ..best_of_n import oracle_fraction
from ..chat import END_OF_TURN, respond
from ..course_tokenizer import tokenizer
from ..model import set_dropout
from ..ppo import rollout
from ..reward import (RewardModel, encode_response, labeler_agreement, pairwise_accuracy, reranked, reward_batch,
                      sample_comparisons, score_responses, train_reward_model, with_demonstrations, with_unfinished)
from ..sft import fine_tune
from ..tinyworld import GoldLabeler, instructions
from .pretraining import BASE  # the model this stage starts from
from .shipped import Shipped, training_record


# ---- Step 1: supervised fine-tuning on demonstrations ----------------------------------------------------------

def sft_recipe(epochs=16, seed=0):
    """InstructGPT's step 1 on the base model: its recipe, then the SFT recipe (16 epochs, dropout 0.2, cosine
    to a tenth of the learning rate after 10 warm-up steps, validation loss on 4 batches every epoch:
    sft.fine_tune)."""
    return {"base": BASE.recipe, "epochs": epochs, "learning_rate": 1e-3, "dropout": 0.2, "batch_size": 32,
            "seed": seed, "instructions_seed": 0}


def greedy_replies(model, items):
    """The model's greedy replies (up to 40 tokens) to Instructions, as the course judges them."""
    return respond(model, tokenizer(chat=True), [[("user", i.prompt)] for i in items], max_new_tokens=40,
                   temperature=0.0)


def judge(replies, items, labeler):
    """(mean gold score, share in the requested form) of replies to Instructions."""
    rules = [labeler.rules(i, r) for i, r in zip(items, replies)]
    gold = sum(labeler.gold_score(i, r) for i, r in zip(items, replies)) / len(items)
    return gold, sum(r["form"] for r in rules) / len(rules)


def judge_replies(model, items, labeler):
    """(mean gold score, share in the requested form) of the model's greedy replies to Instructions."""
    return judge(greedy_replies(model, items), items, labeler)


def fine_tuned(model, demonstrations, recipe, *, on_epoch=None, curve=None, progress=True):
    """(model, record) after the recipe's SFT on demonstrations ({"train": ..., "validation": ...}, Instructions or
    Dialogues); on_epoch(trainer) runs after every epoch and fills `curve`, the record's curve. Nothing is
    returned from an interrupted run."""
    trainer = fine_tune(model, tokenizer(chat=True), demonstrations, epochs=recipe["epochs"],
                        learning_rate=recipe["learning_rate"], dropout=recipe["dropout"],
                        batch_size=recipe["batch_size"], seed=recipe["seed"], on_epoch=on_epoch, progress=progress)
    return model, training_record(trainer, model, [] if curve is None else curve)


def train_sft(recipe, progress=True):
    """Fine-tune the base model of recipe["base"] on TinyWorld's instructions; record["curve"] holds, after every
    epoch, the validation loss, and the greedy replies to the validation instructions with their gold score (so that
    notebook 05's reward model can pick an epoch by its own score of them, as InstructGPT picked its SFT model)."""
    model, _ = BASE.load(recipe["base"], progress=progress)
    splits = instructions(seed=recipe["instructions_seed"])
    labeler, curve = GoldLabeler(splits), []

    def on_epoch(trainer):
        items = splits["validation"]
        replies = greedy_replies(trainer.model, items)
        gold, form = judge(replies, items, labeler)
        curve.append({"step": trainer.iter, "val loss": trainer.history["val_loss"][-1], "gold": gold, "in form": form,
                      "replies": replies})
        return {"gold": gold}

    return fine_tuned(model, splits, recipe, on_epoch=on_epoch, curve=curve, progress=progress)


def measure_sft(model):
    """The gold labeler's mean score and the share in the requested form, on the held-out (test) instructions."""
    splits = instructions(seed=0)
    gold, form = judge_replies(model, splits["test"], GoldLabeler(splits))
    return {"test gold": gold, "test in form": form}


SFT = Shipped("sft", sft_recipe(), train_sft, measure_sft, "test gold",
              "notebooks 05-06: the base model after InstructGPT's SFT (notebook 04)",
              quick={"epochs": 1, "batch_size": 256})


# ---- Samples of a model, judged by the gold labeler and a reward model -----------------------------------------

def sampled_responses(model, items, samples=4, seed=1):
    """A Rollout of `samples` temperature-1 responses (up to 40 tokens) to each item (an Instruction, or a Dialogue
    whose next turn is sampled): all items, `samples` times over."""
    return rollout(model, tokenizer(chat=True), [getattr(i, "prompt", i) for i in items] * samples, 40,
                   generator=torch.Generator().manual_seed(seed))


def rollout_gold(roll, labeler):
    """The gold labeler's score of each response of a Rollout, as a tensor in the rollout's order."""
    return torch.tensor([labeler.gold_score(p, r) for p, r in zip(roll.prompts, roll.responses)])


def sampled_gold(model, items, labeler, *, samples=4, seed=1):
    """(samples, len(items)) gold scores of sampled_responses."""
    return rollout_gold(sampled_responses(model, items, samples, seed), labeler).view(samples, -1)


@torch.no_grad()
def judged_samples(policy, items, reward_model, labeler, *, samples=16, seed=11):
    """(proxy, gold): the reward model's and the gold labeler's scores of `samples` temperature-1 responses of the
    policy to each item, each (samples, len(items)): what best_of_n, oracle_fraction and untied_agreement take."""
    roll = sampled_responses(policy, items, samples, seed)
    return reward_model(roll.idx, roll.lengths).view(samples, -1), rollout_gold(roll, labeler).view(samples, -1)


# ---- Step 2: the reward model, trained on the SFT model's ranked samples ---------------------------------------

RM_NOISE = 0.4  # the labeler noise that agrees with the noiseless labeler on ~73% of pairs, as InstructGPT's labelers
SPLIT_SEEDS = {"train": 0, "validation": 1000, "test": 2000}  # comparisons of different splits never share a seed


def rm_recipe(seed=0, grouped=True):
    """Step 2 as Gao, Schulman and Hilton (2022) ran it with a synthetic gold scorer: K responses (4 to 9) to each
    training instruction, sampled from the SFT model at temperatures 0.7, 1 and 1.3 in `rounds` seeded rounds; among
    them the instruction's demonstration, `foils` demonstrations of other instructions of its kind (right in form,
    mostly wrong in fact) and one response cut before its end-of-turn token (reward.with_unfinished); all ranked by
    the gold labeler without noise (a tie goes to the shorter response, then to the earlier one: GoldLabeler.rank).
    Then the reward model trained on them for one epoch (reward.train_reward_model: warm-up over a tenth of the
    steps, at most 10; cosine to a tenth of the learning rate; validation loss on 4 batches, four times an epoch).

    48 rounds (24k prompts' rankings), because fresh comparisons are the lever: on 16 samples of each PPO prompt,
    24 rounds keep 0.30 of the oracle's gain and 48 rounds 0.57; the foils and the unfinished copies raise it to
    0.64 and teach the reward model wrong facts and missing ends (experiments/results/reward_for_ppo.md).
    noise_runs: the labeler noises of train_rm's experiment (about 90%, 80% and 73% agreement), whose reward
    models are judged on quality_samples samples of each validation prompt; RM_NOISE's labeler is not this
    recipe's."""
    return {"sft": SFT.recipe, "rounds": 48, "k": [4, 9], "temperatures": [0.7, 1.0, 1.3], "noise": 0.0,
            "demonstrations": True, "foils": 2, "unfinished": True, "labeler_seed": 1, "epochs": 1,
            "learning_rate": 1e-3, "batch_size": 32, "grouped": grouped, "seed": seed, "instructions_seed": 0,
            "noise_runs": [0.12, 0.24, 0.35], "quality_samples": 16}


def comparisons(model, items, labeler, *, rounds=1, seed=0, k=(4, 9), temperatures=(0.5, 1.0, 1.5, 2.0),
                progress=False):
    """The course's comparison data (reward.sample_comparisons with its tokenizer): `rounds` rounds of K responses
    to each prompt, sampled from model and ranked by labeler, round r with seed + r. items: a split of the
    instructions by name ("train", "validation", "test"), whose seeds differ by split (SPLIT_SEEDS) so that no two
    splits share samples; or a list of Instructions or Dialogues."""
    if isinstance(items, str):
        seed += SPLIT_SEEDS[items]
        items = instructions(seed=0)[items]
    return sample_comparisons(model, tokenizer(chat=True), items, labeler, k=tuple(k), temperatures=tuple(temperatures),
                              seed=seed, rounds=rounds, progress=progress)


def rm_comparisons(sft, splits, labeler, recipe, *, progress=True):
    """{"train": ..., "validation": ...}: the recipe's comparisons of the SFT model's samples to the items of
    splits["train"] and splits["validation"] (Instructions or Dialogues; seeded by split, SPLIT_SEEDS), ranked by
    labeler; the training ones with the demonstrations (recipe["demonstrations"], and recipe["foils"] of other
    items of the same kind) and an unfinished copy of a response (recipe["unfinished"]) among their responses."""
    options = {"k": recipe["k"], "temperatures": recipe["temperatures"]}
    data = {"train": comparisons(sft, splits["train"], labeler, rounds=recipe["rounds"], seed=SPLIT_SEEDS["train"],
                                 progress=progress, **options),
            "validation": comparisons(sft, splits["validation"], labeler, seed=SPLIT_SEEDS["validation"], **options)}
    if recipe["demonstrations"]:
        data["train"] = with_demonstrations(data["train"], splits["train"], labeler, foils=recipe["foils"])
    if recipe["unfinished"]:
        data["train"] = with_unfinished(data["train"], labeler)
    return data


def fit_rm(sft, data, recipe, *, on_eval=None, progress=True):
    """(reward model, Trainer): sft (changed in place) with a scalar head, trained on the comparisons `data` by the
    recipe's settings (reward.train_reward_model, evaluated four times an epoch)."""
    torch.manual_seed(recipe["seed"])
    rm = RewardModel(set_dropout(sft, 0.0), tokenizer(chat=True))
    trainer = train_reward_model(rm, tokenizer(chat=True), data, epochs=recipe["epochs"],
                                 learning_rate=recipe["learning_rate"], batch_size=recipe["batch_size"],
                                 grouped=recipe["grouped"], seed=recipe["seed"], on_eval=on_eval, evals_per_epoch=4,
                                 progress=progress)
    return rm, trainer


def rm_quality(rm, policy, held_out, *, items, labeler, samples=16):
    """How well a reward model ranks: its pairwise accuracy on the held-out comparisons' pairs that the (noiseless)
    labeler scores apart, and the oracle fraction of its pick of `samples` temperature-1 samples of the policy for
    each item (best_of_n.oracle_fraction: 0 is a random pick's gold, 1 the gold-best sample's)."""
    proxy, gold = judged_samples(policy, items, rm, labeler, samples=samples, seed=11)
    return {"pairwise accuracy": pairwise_accuracy(rm, tokenizer(chat=True), held_out, labeler),
            "oracle fraction": oracle_fraction(proxy, gold)}


def train_rm(recipe, progress=True):
    """The reward model of the recipe: the SFT model, its unembedding unused and a scalar head added, trained by
    InstructGPT's K-wise ranking loss on comparisons ranked by the recipe's labeler (noise recipe["noise"]);
    normalised so that the training demonstrations score 0 on average. record["curve"] holds the validation loss,
    and the pairwise accuracy against the noiseless labeler on the validation comparisons, four times an epoch.

    record["labeler noise"]: the same responses ranked again by a labeler at each noise of recipe["noise_runs"],
    a reward model trained on each as above, and each one's rm_quality on the validation prompts beside the
    labeler's agreement with the noiseless one; the recipe's own reward model first."""
    sft, _ = SFT.load(recipe["sft"], progress=progress)
    policy = copy.deepcopy(sft)
    splits = instructions(seed=recipe["instructions_seed"])
    gold = GoldLabeler(splits)
    data = rm_comparisons(sft, splits, GoldLabeler(splits, noise=recipe["noise"], seed=recipe["labeler_seed"]),
                          recipe, progress=progress)
    curve = []

    def on_eval(trainer):
        accuracy = pairwise_accuracy(trainer.model, tokenizer(chat=True), data["validation"], gold)
        curve.append({"step": trainer.iter, "val loss": trainer.history["val_loss"][-1], "val accuracy": accuracy})
        return {"val accuracy": accuracy}

    rm, trainer = fit_rm(sft, data, recipe, on_eval=on_eval, progress=progress)
    record = training_record(trainer, rm, curve, comparisons=len(data["train"]))
    normalize_to_demonstrations(rm, splits["train"])
    held_out = comparisons(policy, "validation", gold, seed=7)
    quality = {"items": splits["validation"], "labeler": gold, "samples": recipe["quality_samples"]}
    runs = [{"noise": recipe["noise"], "agreement": labeler_agreement(data["train"], gold),
             **rm_quality(rm, policy, held_out, **quality)}]
    for noise in recipe["noise_runs"]:
        labeler = GoldLabeler(splits, noise=noise, seed=recipe["labeler_seed"])
        noisy = {split: reranked(data[split], labeler) for split in data}
        other, _ = fit_rm(copy.deepcopy(policy), noisy, recipe, progress=progress)
        runs.append({"noise": noise, "agreement": labeler_agreement(noisy["train"], gold),
                     **rm_quality(other, policy, held_out, **quality)})
    return rm, {**record, "labeler noise": runs}


def normalize_to_demonstrations(rm, demonstrations):
    """Shift the reward model's scores so that the demonstrations (Instructions or Dialogues) score 0 on average."""
    tok = tokenizer(chat=True)
    sequences = [encode_response(tok, getattr(d, "prompt", d), f" {d.response}{END_OF_TURN}",
                                 rm.gpt.config.block_size)
                 for d in demonstrations]
    return rm.normalize_(*reward_batch(sequences))


FACT_AT = {"opposite": -1, "category": -1, "colour": -1, "translate": -1, "pet": -1, "food": -1, "home": 1,
           "false premise": 1}  # where an Instruction's item keeps the fact its demonstration states


def damaged_demonstrations(items):
    """Hand-built responses from demonstrations: for each Instruction, (item, its demonstration " {response}<|end|>",
    [(damage, copy)]) with an unfinished copy (no end-of-turn token), a copy that says its answer twice, and, for the
    kinds whose demonstration states one fact (FACT_AT), a copy with a wrong fact: the fact of another of the items
    of the same kind in its place."""
    made = []
    for item in items:
        demonstration = f" {item.response}{END_OF_TURN}"
        copies = [("unfinished", f" {item.response}"), ("repeated", f" {item.response} {item.response}{END_OF_TURN}")]
        if item.kind in FACT_AT:
            fact = item.item[FACT_AT[item.kind]]
            rivals = sorted({other.item[FACT_AT[item.kind]] for other in items if other.kind == item.kind} - {fact})
            if rivals and f" {fact}" in f" {item.response}":
                wrong = f" {item.response}".replace(f" {fact}", f" {rivals[len(made) % len(rivals)]}", 1)
                copies.append(("wrong fact", f"{wrong}{END_OF_TURN}"))
        made.append((item, demonstration, copies))
    return made


def prefers_demonstrations(rm, items):
    """{damage: the share of damaged_demonstrations(items) that the reward model scores below the demonstration}."""
    preferred, counts = {}, {}
    for item, demonstration, copies in damaged_demonstrations(items):
        scores = score_responses(rm, tokenizer(chat=True), item.prompt, [demonstration] + [c for _, c in copies])
        for (damage, _), score in zip(copies, scores[1:]):
            counts[damage] = counts.get(damage, 0) + 1
            preferred[damage] = preferred.get(damage, 0) + (scores[0] > score)
    return {damage: preferred[damage] / counts[damage] for damage in counts}


def measure_rm(rm):
    """Pairwise accuracy against the gold labeler on held-out comparisons (fresh samples of the SFT model for the
    validation and the test instructions, at temperatures 0.5 to 2; the pairs it scores apart), and the share of
    the held-out demonstrations that it scores above each kind of their damaged copies (prefers_demonstrations)."""
    sft, _ = SFT.load(progress=False)
    splits = instructions(seed=0)
    gold, tok, figures = GoldLabeler(splits), tokenizer(chat=True), {}
    for split in ("validation", "test"):
        figures[f"{split} accuracy"] = pairwise_accuracy(rm, tok, comparisons(sft, split, gold, seed=7), gold)
    shares = prefers_demonstrations(rm, splits["validation"] + splits["test"])
    return {**figures, **{f"demonstration over {damage}": share for damage, share in shares.items()}}


RM = Shipped("rm", rm_recipe(), train_rm, measure_rm, "validation accuracy",
             "notebooks 05-06: the reward model, trained on the SFT model's ranked responses",
             quick={"rounds": 1, "k": [2, 2], "temperatures": [1.0], "epochs": 0.05, "noise_runs": [0.35],
                    "quality_samples": 2}, model_class=RewardModel)
