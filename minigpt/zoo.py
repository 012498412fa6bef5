"""The course's TinyWorld models by name: each one a recipe, the code that trains it, and what it is known by.

Notebook 02 trains its three GPT-2 sizes live (their training is the lesson). Models whose training is not
the lesson are trained once by `make models` and shipped inside the package, as OpenAI published GPT-2:

    tokenizer = zoo.tokenizer()              # byte-level BPE with 1,024 tokens, trained on TinyWorld
    model, record = zoo.pretrained("M")      # notebook 02: trained now (or loaded from your cache)
    model, record = zoo.load("icl-2layer")   # notebook 03: the shipped weights (or your cache, or trained now)
    record["curve"]                          # what was measured while it trained, every eval_every steps

A shipped model's `figures` are its key numbers, measured from the weights by `measure` at the end of
training; the record keeps them so that a test can measure them again and compare.
"""
import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import torch
from tqdm.auto import tqdm

from .bpe import BPETokenizer
from .cache import cached_run
from .chat import END_OF_TURN, SPECIAL_TOKENS, respond
from .data import LMData
from .incontext import (common_tokens, induction_head_scores, key_match_scores, mapping_prompts, repeated_random_tokens,
                        shot_curve)
from .model import GPT, GPTConfig
from .ppo import PPOConfig, PPOTrainer, kl_estimates, labeler_reward, response_logprobs, rollout
from .prompting import accuracy, task_accuracies
from .reward import (RewardModel, encode_response, gold_pairs, pairwise_accuracy, reward_batch, sample_comparisons,
                     train_reward_model)
from .scaling import answer_logprob, validation_loss
from .sft import fine_tune, set_dropout
from .tinyworld import DialogueLabeler, GoldLabeler, context_mapping_task, dialogues, generate_corpus, instructions, tasks
from .training import Trainer, TrainConfig

SIZES = {  # name -> shape; the parameter counts are printed by parameter_count
    "XS": {"n_layer": 1, "n_head": 2, "n_embd": 32},
    "S": {"n_layer": 2, "n_head": 2, "n_embd": 64},
    "M": {"n_layer": 3, "n_head": 4, "n_embd": 128},
}


def recipe(size, max_iters=1000, seed=0, vocab_size=1024, block_size=32, batch_size=32, learning_rate=3e-3,
           eval_every=250):
    """Everything that decides what a model of `size` learns, as plain values (the cache's key)."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; the sizes are {', '.join(SIZES)}")
    return {"size": size, **SIZES[size], "max_iters": max_iters, "seed": seed, "vocab_size": vocab_size,
            "block_size": block_size, "batch_size": batch_size, "learning_rate": learning_rate,
            "eval_every": eval_every, "corpus_seed": 0}


@lru_cache(maxsize=4)
def tokenizer(vocab_size=1024, corpus_seed=0, chat=False):
    """The byte-level BPE of these models, trained on the TinyWorld text (deterministic, a few seconds).
    chat=True adds the chat format's special tokens (role markers, end of turn), for the second half."""
    special_tokens = SPECIAL_TOKENS if chat else ("<|endoftext|>",)
    return BPETokenizer().train(generate_corpus(seed=corpus_seed), vocab_size, special_tokens=special_tokens)


def train_lm(recipe, measure=None, progress=True):
    """Pre-train the GPT a recipe describes on TinyWorld text; returns (model, record).

    measure(model) -> {name: number} runs every eval_every steps; its results form record["curve"], one
    point per evaluation with its "step". record also holds "history", the Trainer's loss history;
    "seconds", the training time; "parameters", the parameter count.
    """
    tok = tokenizer(recipe["vocab_size"], recipe["corpus_seed"], recipe.get("chat", False))
    text = generate_corpus(seed=recipe["corpus_seed"], n_chars=recipe.get("text_chars", 1_500_000))
    data = LMData(tok.encode(text), recipe["block_size"], recipe["batch_size"])
    torch.manual_seed(recipe["seed"])
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=recipe["block_size"], n_layer=recipe["n_layer"],
                          n_head=recipe["n_head"], n_embd=recipe["n_embd"]))
    curve = []

    def on_eval(trainer):
        figures = measure(trainer.model) if measure else {}
        curve.append({"step": trainer.iter, **figures})
        return figures

    config = TrainConfig(max_iters=recipe["max_iters"], learning_rate=recipe["learning_rate"],
                         min_lr=recipe["learning_rate"] / 10, warmup_iters=recipe.get("warmup_iters", 100),
                         eval_interval=recipe["eval_every"],
                         eval_iters=recipe.get("eval_iters", 10), seed=recipe.get("batch_seed", recipe["seed"]),
                         progress=progress)
    trainer = Trainer(model, data, config, on_eval=on_eval)
    trainer.run()
    if trainer.interrupted:  # a half-trained model must not be stored under the full recipe
        raise KeyboardInterrupt(f"training stopped at step {trainer.iter} of {recipe['max_iters']}; nothing was saved")
    record = {"curve": curve, "history": {k: list(v) for k, v in trainer.history.items()},
              "seconds": trainer.elapsed, "parameters": parameter_count(model)}
    return model.eval(), record


def train(recipe, progress=True):
    """Train one of notebook 02's sizes; record["curve"] is the zero-shot accuracy per task on the held-out
    items (every form of each item, tasks(all_forms=True)), measured every eval_every steps."""
    tok, zero_shot = tokenizer(recipe["vocab_size"], recipe["corpus_seed"]), tasks(seed=0, all_forms=True)

    def measure_zero_shot(model):
        accuracies = task_accuracies(model, tok, zero_shot)
        return {**accuracies, "held-out accuracy": sum(accuracies.values()) / len(accuracies)}

    model, record = train_lm(recipe, measure_zero_shot, progress)
    for point in record["curve"]:
        del point["held-out accuracy"]  # the mean was for the log line; the curve keeps the tasks
    return model, record


def pretrained(size, cache_dir=None, progress=True, **options):
    """(model, record) for a size: loaded from the cache when this recipe was trained before, else trained now."""
    return cached_run(recipe(size, **options), lambda r: train(r, progress), cache_dir)


def parameter_count(model):
    """Number of parameters (the tied token embedding counted once)."""
    return sum(p.numel() for p in model.parameters())


# ---- Notebook 03's in-context learners: two models that differ only in depth --------------------------------

LEX_SHOTS = (0, 1, 2, 4, 8)


def icl_recipe(n_layer, max_iters=6000, seed=0):
    """A small GPT-2 trained long enough for key matching on lex lines to form (it does at steps 3,000-4,000 of
    6,000 with 2 layers; benchmarks/induction_formation.py). n_layer=1 is the contrast: an induction head needs
    a head in one layer that composes with a head in an earlier one. The batches are drawn with seed 1337, as in
    that benchmark."""
    return {"n_layer": n_layer, "n_head": 4, "n_embd": 64, "block_size": 64, "batch_size": 64, "max_iters": max_iters,
            "learning_rate": 3e-3, "eval_every": 250, "eval_iters": 2, "seed": seed, "batch_seed": 1337,
            "vocab_size": 1024, "corpus_seed": 0}


@lru_cache(maxsize=1)
def _common_training_tokens():
    """The token ids that occur at least 200 times in the TinyWorld text (encoding it takes a few seconds)."""
    return common_tokens(torch.tensor(tokenizer().encode(generate_corpus(seed=0))), tokenizer().vocab_size, 200)


def induction_probe(n_sequences=16, period=24, seed=1):
    """(n_sequences, 2 * period) token ids: random tokens common in the training text, repeated once."""
    return repeated_random_tokens(n_sequences, period, _common_training_tokens(), seed=seed)


def key_match_probe(n_examples=100, seed=3):
    """Lex prompts with 8 demonstrations whose queried key was shown (for incontext.key_match_scores)."""
    return context_mapping_task(seed=seed, n_pairs=8, n_examples=n_examples, query="shown")


def measure_icl(model):
    """Lex-mapping accuracy after k demonstrations (any key of the mapping asked, 200 prompts drawn with seed 1;
    chance 0.25 at k = 0); "in-context score", 8-shot minus 0-shot accuracy; the best head's key-match score
    (incontext.key_match_scores) and its induction score on repeated random tokens."""
    curve = shot_curve(model, tokenizer(), mapping_prompts(query="any"), LEX_SHOTS, seeds=(1,))
    figures = {f"lex {k}-shot": accs[0] for k, accs in curve.items()}
    figures["in-context score"] = figures["lex 8-shot"] - figures["lex 0-shot"]
    figures["key-match score"] = key_match_scores(model, tokenizer(), key_match_probe()).max().item()
    figures["induction score"] = induction_head_scores(model, induction_probe()).max().item()
    return figures


# ---- The second half's base model: pre-trained on TinyWorld with the chat tokens in its vocabulary -----------

def base_recipe(max_iters=2000, seed=0):
    """The pre-trained model that InstructGPT's steps start from (notebooks 04-07): 4 layers x 128, a 128-token
    context (room for a prompt, a response, and later a short dialogue), the chat tokenizer. The chat tokens
    never occur in the TinyWorld text; supervised fine-tuning teaches them."""
    return {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 128, "batch_size": 16, "max_iters": max_iters,
            "learning_rate": 3e-3, "eval_every": 500, "eval_iters": 10, "seed": seed, "vocab_size": 1024,
            "corpus_seed": 0, "chat": True}


def measure_base(model):
    """Notebook 02's zero-shot test on the held-out items (every form of each), per task and their mean."""
    accuracies = task_accuracies(model, tokenizer(chat=True), tasks(seed=0, all_forms=True))
    return {**accuracies, "held-out accuracy": sum(accuracies.values()) / len(accuracies)}


def sft_recipe(epochs=16, seed=0):
    """InstructGPT's step 1 on the base model: its recipe, then the SFT recipe (16 epochs, dropout 0.2, cosine)."""
    return {"base": base_recipe(), "epochs": epochs, "learning_rate": 1e-3, "dropout": 0.2, "batch_size": 32,
            "seed": seed, "instructions_seed": 0}


def greedy_replies(model, items):
    """The model's greedy replies (up to 40 tokens) to Instructions, as the course judges them."""
    return respond(model, tokenizer(chat=True), [[("user", i.prompt)] for i in items], max_new_tokens=40,
                   temperature=0.0)


def judge_replies(model, items, labeler):
    """(mean gold score, share in the requested form) of the model's greedy replies to Instructions."""
    return judge(greedy_replies(model, items), items, labeler)


def judge(replies, items, labeler):
    """(mean gold score, share in the requested form) of replies to Instructions."""
    rules = [labeler.rules(i, r) for i, r in zip(items, replies)]
    gold = sum(labeler.gold_score(i, r) for i, r in zip(items, replies)) / len(items)
    return gold, sum(r["form"] for r in rules) / len(rules)


def train_sft(recipe, progress=True):
    """Fine-tune the base model of recipe["base"] on TinyWorld's instructions; record["curve"] holds, after every
    epoch, the validation loss, and the greedy replies to the validation instructions with their gold score (so that
    notebook 05's reward model can pick an epoch by its own score of them, as InstructGPT picked its SFT model)."""
    model, _ = cached_run(recipe["base"], lambda r: SHIPPED["base"].train(r, progress), name="base")
    splits = instructions(seed=recipe["instructions_seed"])
    labeler, curve = GoldLabeler(splits), []

    def on_epoch(trainer):
        items = splits["validation"]
        replies = greedy_replies(trainer.model, items)
        gold, form = judge(replies, items, labeler)
        curve.append({"step": trainer.iter, "val loss": trainer.history["val_loss"][-1], "gold": gold, "in form": form,
                      "replies": replies})
        return {"gold": gold}

    return _fine_tuned(model, splits, recipe, on_epoch, curve, progress)


def _fine_tuned(model, demonstrations, recipe, on_epoch, curve, progress):
    """(model, record) after the recipe's SFT on demonstrations; nothing is returned from an interrupted run."""
    trainer = fine_tune(model, tokenizer(chat=True), demonstrations, recipe["epochs"], recipe["learning_rate"],
                        recipe["dropout"], recipe["batch_size"], recipe["seed"], on_epoch, progress)
    if trainer.interrupted:
        raise KeyboardInterrupt(f"fine-tuning stopped at step {trainer.iter}; nothing was saved")
    return model, {"curve": curve, "history": {k: list(v) for k, v in trainer.history.items()},
                   "seconds": trainer.elapsed, "parameters": parameter_count(model)}


def measure_sft(model):
    """The gold labeler's mean score and the share in the requested form, on the held-out (test) instructions."""
    splits = instructions(seed=0)
    gold, form = judge_replies(model, splits["test"], GoldLabeler(splits))
    return {"test gold": gold, "test in form": form}


def rm_recipe(seed=0, grouped=True):
    """InstructGPT's step 2 on the SFT model: K responses (4 to 9) to each training instruction, sampled from the
    SFT model in `rounds` seeded rounds and ranked by the noisy gold labeler; then the reward model trained on them."""
    return {"sft": sft_recipe(), "rounds": 6, "k": [4, 9], "temperatures": [0.5, 1.0, 1.5, 2.0], "noise": RM_NOISE,
            "labeler_seed": 1, "epochs": 1, "learning_rate": 1e-3, "batch_size": 32, "grouped": grouped,
            "seed": seed, "instructions_seed": 0}


RM_NOISE = 0.4  # the labeler noise that agrees with the noiseless labeler on ~73% of pairs, as InstructGPT's labelers


def comparisons(model, items, labeler, rounds=1, seed=0, k=(4, 9), temperatures=(0.5, 1.0, 1.5, 2.0), progress=False):
    """Comparison data: `rounds` rounds of K responses to each prompt, sampled from model and ranked by labeler,
    round r with seed + r. items: a split of the instructions by name ("train", "validation", "test"), whose seeds
    differ by split so that no two splits share samples; or a list of Instructions or Dialogues."""
    name = items if isinstance(items, str) else f"{len(items)} prompts'"
    if isinstance(items, str):
        seed += {"train": 0, "validation": 1000, "test": 2000}[items]
        items = instructions(seed=0)[items]
    made = []
    for r in tqdm(range(rounds), desc=f"sampling {name} comparisons", disable=not progress):
        made += sample_comparisons(model, tokenizer(chat=True), items, labeler, tuple(k), tuple(temperatures),
                                   seed=seed + r)
    return made


def train_rm(recipe, progress=True):
    """The reward model of the recipe: the SFT model, its unembedding unused and a scalar head added, trained by
    InstructGPT's K-wise ranking loss on comparisons ranked by the noisy labeler; normalised so that the training
    demonstrations score 0 on average. record["curve"] holds the validation loss, and the pairwise accuracy against
    the noiseless labeler on the validation comparisons, four times an epoch."""
    sft, _ = cached_run(recipe["sft"], lambda r: SHIPPED["sft"].train(r, progress), name="sft")
    splits = instructions(seed=recipe["instructions_seed"])
    noisy = GoldLabeler(splits, noise=recipe["noise"], seed=recipe["labeler_seed"])
    options = {"k": recipe["k"], "temperatures": recipe["temperatures"]}
    data = {"train": comparisons(sft, "train", noisy, recipe["rounds"], progress=progress, **options),
            "validation": comparisons(sft, "validation", noisy, **options)}
    gold, curve = GoldLabeler(splits), []

    def on_eval(trainer):
        accuracy = pairwise_accuracy(trainer.model, tokenizer(chat=True), data["validation"], gold)
        curve.append({"step": trainer.iter, "val loss": trainer.history["val_loss"][-1], "val accuracy": accuracy})
        return {"val accuracy": accuracy}

    torch.manual_seed(recipe["seed"])
    rm = RewardModel(set_dropout(sft, 0.0), tokenizer(chat=True))
    trainer = train_reward_model(rm, tokenizer(chat=True), data, recipe["epochs"], recipe["learning_rate"],
                                 recipe["batch_size"], recipe["grouped"], recipe["seed"], on_eval, 4, progress)
    if trainer.interrupted:
        raise KeyboardInterrupt(f"reward-model training stopped at step {trainer.iter}; nothing was saved")
    normalize_to_demonstrations(rm, splits["train"])
    return rm, {"curve": curve, "history": {k: list(v) for k, v in trainer.history.items()},
                "seconds": trainer.elapsed, "comparisons": len(data["train"]), "parameters": parameter_count(rm)}


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
    sft, _ = load("sft", progress=False)
    splits = instructions(seed=0)
    gold, noisy = GoldLabeler(splits), GoldLabeler(splits, noise=RM_NOISE, seed=2)
    tok, figures = tokenizer(chat=True), {}
    for split in ("validation", "test"):
        held_out = comparisons(sft, split, noisy, seed=7)
        figures[f"{split} accuracy"] = pairwise_accuracy(rm, tok, held_out, gold)
        figures[f"{split} accuracy noisy"] = pairwise_accuracy(rm, tok, held_out)
        figures[f"{split} labeler agreement"] = labeler_agreement(held_out, gold)
    return figures


def labeler_agreement(comparisons, gold):
    """The share of the pairs that gold does not score equal on which each comparison's ranking agrees with it."""
    agree = total = 0
    for c in comparisons:
        place = {response: n for n, response in enumerate(c.ranking)}
        pairs = gold_pairs(gold, c.prompt, c.responses)
        agree += sum(place[a] < place[b] for a, b in pairs)
        total += len(pairs)
    return agree / max(total, 1)


# ---- Notebook 06: PPO from the shipped SFT model against the shipped reward model ----------------------------

PPO_SETTINGS = {"batch_size": 32, "minibatch_size": 8, "ppo_epochs": 4, "max_new_tokens": 40, "learning_rate": 1e-4,
                "beta": 0.05, "value_warmup": 3}
PPO_PROMPTS = 64  # notebook 06's PPO prompts: the training instructions the SFT model answers worst
PPO_STEPS = 30  # notebook 06's live runs


def ppo_config(**changes):
    """Notebook 06's PPO settings (PPO_SETTINGS: β = 0.05, no ptx, the value model trained alone for the first 3
    steps), with any of them changed."""
    return PPOConfig(**{**PPO_SETTINGS, **changes})


@lru_cache(maxsize=1)
def _pretraining_tokens():
    return torch.tensor(tokenizer(chat=True).encode(generate_corpus(seed=0)))


def pretraining_data(block_size=64, batch_size=8):
    """Windows of the base model's pre-training text (TinyWorld), for PPO-ptx's term and its LM loss."""
    return LMData(_pretraining_tokens(), block_size, batch_size)


@torch.no_grad()
def pretraining_loss(model, batches=10, seed=0):
    """The model's mean LM loss on `batches` fixed batches of the pre-training text's validation windows."""
    data, generator = pretraining_data(), torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    loss = sum(model(*data.get_batch("val", generator))[1].item() for _ in range(batches)) / batches
    model.train(was_training)
    return loss


def sampled_responses(model, items, samples=4, seed=1):
    """A Rollout of `samples` temperature-1 responses (up to 40 tokens) to each item: all items, `samples` times
    over."""
    return rollout(model, tokenizer(chat=True), [i.prompt for i in items] * samples, 40,
                   torch.Generator().manual_seed(seed))


def sampled_gold(model, items, labeler, samples=4, seed=1):
    """(samples, len(items)) gold scores of sampled_responses."""
    roll = sampled_responses(model, items, samples, seed)
    return torch.tensor([labeler.gold_score(p, r) for p, r in zip(roll.prompts, roll.responses)]).view(samples, -1)


def hardest_prompts(model, items, labeler, n=PPO_PROMPTS, samples=4, seed=1):
    """The n items whose temperature-1 responses from model have the lowest mean gold score (4 samples each): where
    PPO has something to gain, since the SFT model already answers most training instructions well."""
    means = sampled_gold(model, items, labeler, samples, seed).mean(0)
    return [items[j] for j in means.argsort(stable=True)[:n].tolist()]


@lru_cache(maxsize=1)
def ppo_prompts():
    """Notebook 06's PPO prompts: the PPO_PROMPTS training instructions the shipped SFT model answers worst."""
    splits = instructions(seed=0)
    return tuple(hardest_prompts(load("sft", progress=False)[0], splits["train"], GoldLabeler(splits)))


@torch.no_grad()
def ppo_evaluation(policy, items, reward_model, labeler, reference, samples=4, seed=7):
    """What notebook 06 watches, on `samples` fresh temperature-1 responses to each item: their mean gold score,
    reward-model score and KL to the reference (k1, summed over a response's tokens); the policy's LM loss on the
    pre-training text (pretraining_loss); and notebook 02's zero-shot test (measure_base's mean held-out accuracy)."""
    roll = sampled_responses(policy, items, samples, seed)
    ref_logprobs = response_logprobs(reference, roll.idx, roll.prompt_lengths, roll.mask.size(1))
    gold = sum(labeler.gold_score(p, r) for p, r in zip(roll.prompts, roll.responses)) / len(roll.prompts)
    return {"gold": gold, "reward": reward_model(roll.idx, roll.lengths).mean().item(),
            "kl": kl_estimates(roll.logprobs, ref_logprobs, roll.mask)[0].mean().item(),
            "lm loss": pretraining_loss(policy), "zero-shot": measure_base(policy)["held-out accuracy"]}


def ppo_curve(trainer, items, reward_model, labeler, steps, every=10, start=None, progress=True):
    """Run the trainer until step `steps`, with ppo_evaluation of its policy on items (KL against the trainer's
    reference) at step 0 and every `every` steps; returns the list of {"step": ..., **figures}. start: the step-0
    figures, when they are already measured."""
    evaluate = lambda: ppo_evaluation(trainer.policy, items, reward_model, labeler, trainer.reference)  # noqa: E731
    curve = [{"step": 0, **(start or evaluate())}]
    while trainer.iter < steps:
        trainer.run(min(every, steps - trainer.iter), progress=progress)
        curve.append({"step": trainer.iter, **evaluate()})
    return curve


def ppo_trainer(config, prompts="train", reward_model=None, gold_scale=None):
    """A PPOTrainer on copies of the shipped SFT model (the policy, and the frozen reference) against the shipped
    reward model (or reward_model), on the prompts of an instructions split (or a list of Instructions), with the
    noiseless gold labeler watching and the pre-training text at hand for PPO-ptx (its LM loss is logged as
    "ptx loss" even when ptx_coef is 0). gold_scale: the reward is gold_scale x the gold labeler's score instead of
    the reward model's: PPO's best case, a perfect reward model."""
    sft, _ = load("sft", progress=False)
    rm = reward_model if reward_model is not None else load("rm", progress=False)[0]
    splits = instructions(seed=0)
    gold = GoldLabeler(splits)
    items = splits[prompts] if isinstance(prompts, str) else prompts
    return PPOTrainer(copy.deepcopy(sft), sft, rm, tokenizer(chat=True), [i.prompt for i in items], config,
                      labeler=gold, ptx_data=pretraining_data(),
                      score=None if gold_scale is None else labeler_reward(gold, gold_scale))


def ppo_ablations_recipe(seed=0):
    """Notebook 06's ablations: its PPO run against the shipped reward model (PPO_SETTINGS, PPO_STEPS steps on
    ppo_prompts) with one setting changed in each, evaluated every 10 steps. β = 0 runs twice as long."""
    return {"sft": sft_recipe(), "rm": rm_recipe(), "settings": PPO_SETTINGS, "prompts": PPO_PROMPTS,
            "steps": PPO_STEPS, "every": 10, "seed": seed,
            "runs": {"beta 0": {"beta": 0.0, "steps": 2 * PPO_STEPS}, "beta 0.01": {"beta": 0.01},
                     "beta 0.2": {"beta": 0.2}, "ptx": {"ptx_coef": 1.0}}}


def train_ppo_ablations(recipe, progress=True):
    """Run every ablation of the recipe. Returns the first run's policy (β = 0) and a record: "runs" holds each run's
    evaluations (ppo_evaluation every recipe["every"] steps, as "curve") and per-step history, "prompts" the PPO
    prompts."""
    splits, rm = instructions(seed=0), load("rm", progress=False)[0]
    gold = GoldLabeler(splits)
    prompts = hardest_prompts(load("sft", progress=False)[0], splits["train"], gold, recipe["prompts"])
    runs, seconds, kept = {}, 0.0, None
    for name, changes in recipe["runs"].items():
        changes = dict(changes)
        steps = changes.pop("steps", recipe["steps"])
        config = PPOConfig(**{**recipe["settings"], **changes, "seed": recipe["seed"]})
        trainer = ppo_trainer(config, prompts, reward_model=rm)
        curve = ppo_curve(trainer, prompts, rm, gold, steps, recipe["every"], progress=progress)
        history = {k: list(v) for k, v in trainer.history.items()}
        runs[name], seconds = {"curve": curve, "history": history}, seconds + trainer.elapsed
        if kept is None:
            kept, record = trainer.policy, {"curve": curve, "history": {"loss": history["policy loss"], **history}}
    steps = sum(len(run["history"]["step"]) for run in runs.values())
    # stored in half precision (1.9 MB, not 3.8), which keeps the shipped models under 25 MB; measure_ppo measures
    # the policy as it loads, in float32 with these rounded weights
    return kept.eval().half(), {**record, "runs": runs, "prompts": [i.prompt for i in prompts], "seconds": seconds,
                         "steps": steps, "parameters": parameter_count(kept)}


def measure_ppo(policy):
    """ppo_evaluation of a policy (in float32, whatever it is stored in) on notebook 06's PPO prompts, against the
    shipped reward model."""
    splits = instructions(seed=0)
    return ppo_evaluation(copy.deepcopy(policy).float(), ppo_prompts(), load("rm", progress=False)[0],
                          GoldLabeler(splits), load("sft", progress=False)[0])


# ---- Notebook 07: ChatGPT's step 1, SFT on dialogues -------------------------------------------------------

def chat_sft_recipe(epochs=16, seed=0):
    """ChatGPT's step 1 on the base model: InstructGPT's SFT recipe (16 epochs, dropout 0.2, cosine) on TinyWorld's
    dialogues and its instructions together, as ChatGPT's dialogue data was mixed with InstructGPT's."""
    return {"base": base_recipe(), "epochs": epochs, "learning_rate": 1e-3, "dropout": 0.2, "batch_size": 32,
            "seed": seed, "instructions_seed": 0, "dialogues_seed": 0}


def behaviour_rates(model, items, labeler=None):
    """{"behaviour/expect": share of items whose greedy reply (up to 40 tokens) does what it should} over Dialogues,
    and "all": the share over every item."""
    labeler = labeler or DialogueLabeler()
    replies = respond(model, tokenizer(chat=True), [list(d.turns) for d in items], max_new_tokens=40,
                      temperature=0.0)
    verdicts = {}
    for d, reply in zip(items, replies):
        verdicts.setdefault(f"{d.behaviour}/{d.expect}", []).append(labeler.behaves(d, reply))
    rates = {kind: sum(v) / len(v) for kind, v in sorted(verdicts.items())}
    return {**rates, "all": sum(sum(v) for v in verdicts.values()) / len(items)}


def train_chat_sft(recipe, progress=True):
    """Fine-tune the base model on the training dialogues and instructions; record["curve"] holds, after every
    epoch, the validation loss and the share of validation dialogues whose greedy reply behaves."""
    model, _ = cached_run(recipe["base"], lambda r: SHIPPED["base"].train(r, progress), name="base")
    ins, dia = instructions(seed=recipe["instructions_seed"]), dialogues(seed=recipe["dialogues_seed"])
    data = {split: ins[split] + dia[split] for split in ("train", "validation")}
    curve = []

    def on_epoch(trainer):
        behaves = behaviour_rates(trainer.model, dia["validation"])["all"]
        curve.append({"step": trainer.iter, "val loss": trainer.history["val_loss"][-1], "behaves": behaves})
        return {"behaves": behaves}

    return _fine_tuned(model, data, recipe, on_epoch, curve, progress)


def measure_chat(model):
    """Each behaviour's rate on the held-out (test) dialogues, and over all of them ("test behaves")."""
    rates = behaviour_rates(model, dialogues(seed=0)["test"])
    return {"test behaves": rates.pop("all"), **{f"test {kind}": rate for kind, rate in rates.items()}}


# ---- Notebook 08: one recipe at many sizes, for GPT-4's predictable scaling ----------------------------------

SCALING_FAMILY = ((2, 24), (2, 32), (2, 40), (2, 48), (2, 56))  # (n_layer, n_embd): the runs the law is fitted to
SCALING_BIG = (2, 184)  # the shipped model whose loss the fit predicts: the same recipe, 113x the largest run's compute
TOKENS_PER_PARAMETER = 20  # D = 20 N: Chinchilla's compute-optimal ratio
SCALING_BATCH = 8  # sequences of 64 tokens per step
CHARS_PER_TOKEN = 3.3  # a little over the TinyWorld text's ~3.14 characters per BPE token: each run reads fresh text


def shape_parameters(n_layer, n_embd):
    """N of a GPT shape without building it: each block has 12 d^2 + 13 d parameters (weights and biases of
    attention and MLP, two LayerNorms), and the final LayerNorm 2 d. scaling.non_embedding_parameters counts
    the same from a model."""
    return n_layer * (12 * n_embd**2 + 13 * n_embd) + 2 * n_embd


def scaling_recipe(n_layer, n_embd, tokens=None, seed=0):
    """One recipe for every size, as GPT-4's report asks of methods that scale predictably: head size 8, context
    64, batch 8, D tokens (default 20 N) of TinyWorld text read about once, AdamW at learning rate 0.64 / n_embd
    (wider models take smaller steps: 0.02 at width 32, 0.0035 at 184), warmup over the first tenth, cosine to a
    tenth."""
    n = shape_parameters(n_layer, n_embd)
    steps = max(10, round((tokens or TOKENS_PER_PARAMETER * n) / (SCALING_BATCH * 64)))
    return {"n_layer": n_layer, "n_head": n_embd // 8, "n_embd": n_embd, "non_embedding_parameters": n,
            "tokens": steps * SCALING_BATCH * 64, "max_iters": steps, "warmup_iters": steps // 10,
            "batch_size": SCALING_BATCH, "block_size": 64, "learning_rate": round(0.64 / n_embd, 6),
            "text_chars": round(CHARS_PER_TOKEN * steps * SCALING_BATCH * 64), "eval_every": steps, "eval_iters": 2,
            "seed": seed, "vocab_size": 1024, "corpus_seed": 0}


@lru_cache(maxsize=1)
def scaling_validation_tokens():
    """The one validation text every run of notebook 08 is measured on: TinyWorld text of another seed (63k
    tokens), never trained on."""
    return tokenizer().encode(generate_corpus(seed=2023, n_chars=200_000))


def scaling_capability():
    """The capability notebook 08 predicts: the plurals of the nouns whose plural the training text never states
    (every form of each, notebook 02's held-out plurals). A model must generalise English's plural rules."""
    return tasks(seed=0, all_forms=True)["plurals"].heldout


def measure_scaling(model):
    tok, examples = tokenizer(), scaling_capability()
    return {"validation loss": validation_loss(model, scaling_validation_tokens()),
            "plural log-probability": answer_logprob(model, tok, examples),
            "plural accuracy": accuracy(model, tok, examples)}


def train_scaling(recipe, progress=True):
    """(model, record) of a run of notebook 08's recipe, trained and measured as the shipped big run is."""
    return SHIPPED["scaling-big"].train(recipe, progress)


def scaling_run(n_layer, n_embd, tokens=None, cache_dir=None, progress=True):
    """(model, record) of one run of the family, trained now or loaded from your cache; record["figures"] holds
    its validation loss and plural figures, record["seconds"] its training time."""
    return cached_run(scaling_recipe(n_layer, n_embd, tokens), lambda r: train_scaling(r, progress), cache_dir)


def _with_figures(trained, measure):
    model, record = trained
    return model, {**record, "figures": measure(model)}


@dataclass
class Shipped:
    """A model trained once by `make models` and shipped in minigpt/weights/NAME/."""
    recipe: dict
    fit: Callable  # (recipe, progress) -> (model, record): the training alone
    measure: Callable  # model -> {figure: number}: the key figures, measured from the weights
    key: str  # the figure printed in make models' table
    about: str
    quick: dict = field(default_factory=lambda: {"max_iters": 4, "eval_every": 2})  # a recipe change for a smoke test

    def train(self, recipe, progress=True):
        """(model, record): trained from recipe, the record's figures measured from the weights by self.measure."""
        return _with_figures(self.fit(recipe, progress), self.measure)


def _fit_lm(measure):
    """Pre-training with measure's figures in the record's curve at every evaluation."""
    return lambda recipe, progress=True: train_lm(recipe, measure, progress)


SHIPPED = {
    "icl-2layer": Shipped(icl_recipe(2), _fit_lm(measure_icl), measure_icl, "in-context score",
                          "notebook 03: 2 layers x 64, learns lex mappings in context (induction heads)"),
    "icl-1layer": Shipped(icl_recipe(1), _fit_lm(measure_icl), measure_icl, "in-context score",
                          "notebook 03: the same with 1 layer, the contrast"),
    "base": Shipped(base_recipe(), _fit_lm(measure_base), measure_base, "held-out accuracy",
                    "notebooks 04-07: the pre-trained model InstructGPT's steps start from, with the chat tokens"),
    "sft": Shipped(sft_recipe(), train_sft, measure_sft, "test gold",
                   "notebooks 05-06: the base model after InstructGPT's SFT (notebook 04)",
                   quick={"epochs": 1, "batch_size": 256}),
    "rm": Shipped(rm_recipe(), train_rm, measure_rm, "validation accuracy",
                  "notebooks 05-06: the reward model, trained on the SFT model's ranked responses",
                  quick={"rounds": 1, "epochs": 0.05}),
    "chat-sft": Shipped(chat_sft_recipe(), train_chat_sft, measure_chat, "test behaves",
                        "notebook 07 and `minigpt chat`: the base model after SFT on dialogues and instructions "
                        "(ChatGPT's step 1)", quick={"epochs": 1, "batch_size": 512}),
    "scaling-big": Shipped(scaling_recipe(*SCALING_BIG), _fit_lm(None), measure_scaling, "validation loss",
                           "notebook 08: the run 100x bigger than the family, whose loss the fit predicts",
                           quick={"max_iters": 4, "eval_every": 2, "warmup_iters": 1, "text_chars": 100_000}),
    "ppo-ablations": Shipped(ppo_ablations_recipe(), train_ppo_ablations, measure_ppo, "gold",
                             "notebook 06: the policy of PPO against the reward model with β = 0, and the curves "
                             "of the runs that change one of notebook 06's settings",
                             quick={"runs": {"beta 0": {"beta": 0.0, "steps": 2}}, "every": 1, "prompts": 4,
                                    "settings": {**PPO_SETTINGS, "batch_size": 4, "minibatch_size": 2}}),
}


def load(name, train_here=False, cache_dir=None, progress=True):
    """(model, record) of a shipped model: the shipped weights, else your cache, else trained now.

    train_here=True trains it now from its recipe (with a progress bar) whatever is shipped or cached.
    """
    if name not in SHIPPED:
        raise ValueError(f"no shipped model named {name!r}; the names are {', '.join(SHIPPED)}")
    entry = SHIPPED[name]
    return cached_run(entry.recipe, lambda r: entry.train(r, progress), cache_dir, name=name, train_here=train_here)
