"""InstructGPT's steps 1 and 2 (notebooks 04-05): supervised fine-tuning, then the reward model.

This stage starts from the pre-trained base model (pretraining.BASE): the SFT model is the base fine-tuned on
TinyWorld's instructions, and the reward model is the SFT model with a scalar head, trained on its own ranked
samples. Both are shipped:

    sft, record = SFT.load()     # notebooks 05-06
    rm, record = RM.load()       # notebooks 05-06
"""
import torch

from ..chat import END_OF_TURN, respond
from ..course_tokenizer import tokenizer
from ..model import set_dropout
from ..reward import (RewardModel, encode_response, labeler_agreement, pairwise_accuracy, reward_batch,
                      sample_comparisons, train_reward_model)
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


# ---- Step 2: the reward model, trained on the SFT model's ranked samples ---------------------------------------

RM_NOISE = 0.4  # the labeler noise that agrees with the noiseless labeler on ~73% of pairs, as InstructGPT's labelers
SPLIT_SEEDS = {"train": 0, "validation": 1000, "test": 2000}  # comparisons of different splits never share a seed


def rm_recipe(seed=0, grouped=True):
    """InstructGPT's step 2 on the SFT model: K responses (4 to 9) to each training instruction, sampled from the
    SFT model in `rounds` seeded rounds and ranked by the noisy gold labeler; then the reward model trained on them
    (reward.train_reward_model: warm-up over a tenth of the steps, at most 10; cosine to a tenth of the learning
    rate; validation loss on 4 batches, four times an epoch)."""
    return {"sft": SFT.recipe, "rounds": 6, "k": [4, 9], "temperatures": [0.5, 1.0, 1.5, 2.0], "noise": RM_NOISE,
            "labeler_seed": 1, "epochs": 1, "learning_rate": 1e-3, "batch_size": 32, "grouped": grouped,
            "seed": seed, "instructions_seed": 0}


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


def train_rm(recipe, progress=True):
    """The reward model of the recipe: the SFT model, its unembedding unused and a scalar head added, trained by
    InstructGPT's K-wise ranking loss on comparisons ranked by the noisy labeler; normalised so that the training
    demonstrations score 0 on average. record["curve"] holds the validation loss, and the pairwise accuracy against
    the noiseless labeler on the validation comparisons, four times an epoch."""
    sft, _ = SFT.load(recipe["sft"], progress=progress)
    splits = instructions(seed=recipe["instructions_seed"])
    noisy = GoldLabeler(splits, noise=recipe["noise"], seed=recipe["labeler_seed"])
    options = {"k": recipe["k"], "temperatures": recipe["temperatures"]}
    data = {"train": comparisons(sft, "train", noisy, rounds=recipe["rounds"], progress=progress, **options),
            "validation": comparisons(sft, "validation", noisy, **options)}
    gold, curve = GoldLabeler(splits), []

    def on_eval(trainer):
        accuracy = pairwise_accuracy(trainer.model, tokenizer(chat=True), data["validation"], gold)
        curve.append({"step": trainer.iter, "val loss": trainer.history["val_loss"][-1], "val accuracy": accuracy})
        return {"val accuracy": accuracy}

    torch.manual_seed(recipe["seed"])
    rm = RewardModel(set_dropout(sft, 0.0), tokenizer(chat=True))
    trainer = train_reward_model(rm, tokenizer(chat=True), data, epochs=recipe["epochs"],
                                 learning_rate=recipe["learning_rate"], batch_size=recipe["batch_size"],
                                 grouped=recipe["grouped"], seed=recipe["seed"], on_eval=on_eval, evals_per_epoch=4,
                                 progress=progress)
    record = training_record(trainer, rm, curve, comparisons=len(data["train"]))
    normalize_to_demonstrations(rm, splits["train"])
    return rm, record


def normalize_to_demonstrations(rm, demonstrations):
    """Shift the reward model's scores so that the demonstrations (Instructions) score 0 on average."""
    tok = tokenizer(chat=True)
    sequences = [encode_response(tok, d.prompt, f" {d.response}{END_OF_TURN}", rm.gpt.config.block_size)
                 for d in demonstrations]
    return rm.normalize_(*reward_batch(sequences))


def measure_rm(rm):
    """Pairwise accuracy on held-out comparisons (fresh samples of the SFT model for the validation and the test
    instructions), against the noiseless gold labeler and against the noisy labeler's rankings; and the noisy
    labeler's own agreement with the noiseless one, the ceiling that its noise sets."""
    sft, _ = SFT.load(progress=False)
    splits = instructions(seed=0)
    gold, noisy = GoldLabeler(splits), GoldLabeler(splits, noise=RM_NOISE, seed=2)
    tok, figures = tokenizer(chat=True), {}
    for split in ("validation", "test"):
        held_out = comparisons(sft, split, noisy, seed=7)
        figures[f"{split} accuracy"] = pairwise_accuracy(rm, tok, held_out, gold)
        figures[f"{split} accuracy noisy"] = pairwise_accuracy(rm, tok, held_out)
        figures[f"{split} labeler agreement"] = labeler_agreement(held_out, gold)
    return figures


RM = Shipped("rm", rm_recipe(), train_rm, measure_rm, "validation accuracy",
             "notebooks 05-06: the reward model, trained on the SFT model's ranked responses",
             quick={"rounds": 1, "k": [2, 2], "temperatures": [1.0], "epochs": 0.05}, model_class=RewardModel)
