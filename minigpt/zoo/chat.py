"""ChatGPT's steps 1-3 (notebook 07 and `minigpt chat`): SFT on dialogues, a dialogue reward model, PPO.

This stage starts from the pre-trained base model (pretraining.BASE), fine-tuned with InstructGPT's SFT recipe on
TinyWorld's dialogues and instructions together, shipped as 'chat-sft'. InstructGPT's steps 2 and 3 run on
dialogues as notebooks 05-06 run them (chat_reward_model, chat_ppo; experiments/chat_rlhf.py); no RLHF chat model
ships yet, since none beats chat-sft on the held-out dialogues (experiments/results/chat_rlhf.md):

    model, record = CHAT_SFT.load()
    behaviour_rates(model, dialogues(seed=0)["test"])       # how often each behaviour is what it should be
    behaviour_rates(model, deep_in_conversation("test"))    # the same, two exchanges into a conversation
"""
import copy
import random

from ..chat import format_chat, respond
from ..course_tokenizer import tokenizer
from ..ppo import PPOConfig, PPOTrainer
from ..tinyworld import DialogueLabeler, deep_dialogues, dialogues, instructions
from .instruct import comparisons, fine_tuned, fit_rm, normalize_to_demonstrations, rm_comparisons, rm_quality
from .pretraining import BASE  # the model this stage starts from
from .rlhf import PPO_SETTINGS, hardest_prompts
from .shipped import Shipped, training_record


def chat_sft_recipe(epochs=16, seed=0):
    """ChatGPT's step 1 on the base model: InstructGPT's SFT recipe (16 epochs, dropout 0.2, cosine) on TinyWorld's
    dialogues and its instructions together, as ChatGPT's dialogue data was mixed with InstructGPT's. Each
    dialogue is there twice: as it is, and after `history` = [fewest, most] earlier exchanges (deep_dialogues),
    since a model that has only seen short dialogues repeats its last answer a few turns into a conversation."""
    return {"base": BASE.recipe, "epochs": epochs, "learning_rate": 1e-3, "dropout": 0.2, "batch_size": 32,
            "seed": seed, "instructions_seed": 0, "dialogues_seed": 0, "history": [1, 2]}


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


REPLY_TOKENS = 40  # the course's replies to dialogues: up to 40 new tokens


def leaves_room(turns, block_size=128):
    """Whether a conversation leaves room for a reply of REPLY_TOKENS in the chat models' 128-token context."""
    return len(tokenizer(chat=True).encode(format_chat(list(turns), reply=True))) + REPLY_TOKENS <= block_size


def with_earlier_turns(items, split, exchanges, seed):
    """tinyworld.deep_dialogues of items, from the split's instructions, each leaving room for a reply."""
    return deep_dialogues(items, instructions(seed=0)[split], exchanges=exchanges, seed=seed, fits=leaves_room)


def sft_share(recipe):
    """(the training dialogues whose demonstrations SFT learns, the rest): a share recipe.get("share", 1) of them,
    shuffled with the recipe's seed; the rest are prompts for steps 2 and 3 alone, as InstructGPT's PPO prompts
    came without demonstrations."""
    train = dialogues(seed=recipe["dialogues_seed"])["train"]
    share = recipe.get("share", 1.0)
    if share >= 1:
        return train, []
    shuffled = list(train)
    random.Random(f"sft share:{recipe['seed']}").shuffle(shuffled)
    cut = round(share * len(shuffled))
    return shuffled[:cut], shuffled[cut:]


def deep_in_conversation(split, seed=0):
    """The dialogues of a split with two earlier exchanges before each (tinyworld.deep_dialogues, from the same
    split): every request as the third user turn or later."""
    return with_earlier_turns(dialogues(seed=0)[split], split, (2, 2), seed)


def train_chat_sft(recipe, progress=True):
    """Fine-tune the base model on the training dialogues and instructions; record["curve"] holds, after every
    epoch, the validation loss and the share of validation dialogues whose greedy reply behaves."""
    model, _ = BASE.load(recipe["base"], progress=progress)
    ins, dia = instructions(seed=recipe["instructions_seed"]), dialogues(seed=recipe["dialogues_seed"])
    dia = {**dia, "train": sft_share(recipe)[0]}
    data = {split: ins[split] + dia[split] + with_earlier_turns(dia[split], split, recipe["history"], recipe["seed"])
            for split in ("train", "validation")}
    curve = []

    def on_epoch(trainer):
        behaves = behaviour_rates(trainer.model, dia["validation"])["all"]
        curve.append({"step": trainer.iter, "val loss": trainer.history["val_loss"][-1], "behaves": behaves})
        return {"behaves": behaves}

    return fine_tuned(model, data, recipe, on_epoch=on_epoch, curve=curve, progress=progress)


def measure_chat(model):
    """Each behaviour's rate on the held-out (test) dialogues, and over all of them ("test behaves"); the same with
    two earlier exchanges before each ("deep test ...": deep_in_conversation)."""
    figures = {}
    for name, items in (("test", dialogues(seed=0)["test"]), ("deep test", deep_in_conversation("test"))):
        rates = behaviour_rates(model, items)
        figures |= {f"{name} behaves": rates.pop("all"), **{f"{name} {kind}": rate for kind, rate in rates.items()}}
    return figures


CHAT_SFT = Shipped("chat-sft", chat_sft_recipe(), train_chat_sft, measure_chat, "test behaves",
                   "notebook 07 and `minigpt chat`: the base model after SFT on dialogues and instructions "
                   "(ChatGPT's step 1)", quick={"epochs": 1, "batch_size": 512})


# ---- ChatGPT's steps 2 and 3: a reward model of dialogue replies, and PPO against it --------------------------

def chat_prompts(split, seed=1):
    """The dialogues of a split, each as it is and after 1 or 2 earlier exchanges (with_earlier_turns, drawn with
    seed): the conversations the dialogue reward model learns from and PPO practises on, short and deep."""
    items = dialogues(seed=0)[split]
    return items + with_earlier_turns(items, split, (1, 2), seed)


def fresh_dialogues(seeds):
    """Training conversations that no demonstration holds: the training dialogues tinyworld.dialogues writes with
    other seeds (other wrong answers, false premises and earlier questions about the same people and things), less
    any that seed 0's dialogues hold and any about what seed 0's validation or test dialogues ask about. Prompts
    without demonstrations, as InstructGPT's PPO prompts came, where the SFT model has not learned the answer."""
    known = dialogues(seed=0)
    seen = {d.turns for split in known.values() for d in split}
    held_out = {d.item[:2] for split in ("validation", "test") for d in known[split]}
    fresh = {}
    for seed in seeds:
        for d in dialogues(seed=seed)["train"]:
            if d.turns not in seen and d.item[:2] not in held_out:
                fresh.setdefault(d.turns, d)
    return list(fresh.values())


def rlhf_prompts(recipe):
    """The conversations of ChatGPT's steps 2 and 3: the training dialogues (those SFT did not learn, when the SFT
    recipe has a "share"), each also after 1 or 2 earlier exchanges, and the fresh ones of recipe["fresh"]."""
    _, rest = sft_share(recipe["sft"])
    items = rest or dialogues(seed=recipe["sft"]["dialogues_seed"])["train"]  # what SFT did not learn, if anything
    deep = with_earlier_turns(items, "train", (1, 2), recipe["prompts_seed"])
    return items + deep + fresh_dialogues(recipe["fresh"])


def chat_rlhf_recipe(seed=0):
    """ChatGPT's steps 2 and 3 from the chat-sft model, as notebooks 05-06 run InstructGPT's (instruct.rm_recipe,
    rlhf.PPO_SETTINGS), on rlhf_prompts: the training dialogues short and deep, and fresh ones (recipe["fresh"]).

    "rm": the reward model's recipe: `rounds` rounds of K = 4-9 replies to each of those conversations at
    temperatures 0.7 / 1 / 1.3, with the demonstration, 2 foils (demonstrations of other dialogues of the same kind)
    and an unfinished copy among them, ranked by the DialogueLabeler without noise; one epoch from the SFT weights.
    "settings", "prompts", "steps": PPO against it on the `prompts` conversations whose sampled replies the labeler
    scores lowest (with "per_kind", the hardest of each kind in equal numbers), evaluated on the validation
    dialogues every `every` steps."""
    return {"sft": CHAT_SFT.recipe, "prompts_seed": 1, "fresh": [1, 2, 3, 4, 5, 6],
            "rm": {"rounds": 24, "k": [4, 9], "temperatures": [0.7, 1.0, 1.3], "demonstrations": True, "foils": 2,
                   "unfinished": True, "epochs": 1, "learning_rate": 1e-3, "batch_size": 32, "grouped": True,
                   "seed": seed, "quality_samples": 16},
            "settings": PPO_SETTINGS, "prompts": 128, "per_kind": True, "steps": 20, "every": 5, "seed": seed}


def chat_reward_model(sft, recipe, *, progress=True):
    """(reward model, figures): the recipe's dialogue reward model, trained from a copy of sft and normalised so that
    the training demonstrations score 0; figures: its comparisons, its pairwise accuracy on fresh validation
    comparisons and the oracle fraction of its pick of 16 sampled replies to each validation conversation
    (instruct.rm_quality)."""
    labeler, r = DialogueLabeler(), recipe["rm"]
    splits = {"train": rlhf_prompts(recipe), "validation": chat_prompts("validation", recipe["prompts_seed"])}
    data = rm_comparisons(sft, splits, labeler, r, progress=progress)
    rm, trainer = fit_rm(copy.deepcopy(sft), data, r, progress=progress)
    record = training_record(trainer, rm, [], comparisons=len(data["train"]))
    normalize_to_demonstrations(rm, splits["train"])
    held_out = comparisons(sft, splits["validation"], labeler, seed=7, k=r["k"], temperatures=r["temperatures"])
    quality = rm_quality(rm, sft, held_out, items=splits["validation"], labeler=labeler, samples=r["quality_samples"])
    return rm, {**record, **quality}


def chat_ppo(sft, rm, recipe, *, reward=None, progress=True):
    """(trainer, curve): PPO from a copy of sft (trainer.policy) against rm (or the `score` function given as
    reward) on the recipe's PPO prompts; the curve holds, at step 0 and every recipe["every"] steps, the greedy
    replies' behaving rate on the validation dialogues ("validation") and on their deep copies ("deep
    validation"), and PPO's gold score and KL of the step."""
    labeler = DialogueLabeler()
    pool = rlhf_prompts(recipe)
    if recipe["per_kind"]:  # the hardest of each kind, so that every behaviour is practised
        kinds = sorted({d.kind for d in pool})
        prompts = [p for kind in kinds for p in hardest_prompts(sft, [d for d in pool if d.kind == kind], labeler,
                                                                  n=recipe["prompts"] // len(kinds))]
    else:
        prompts = hardest_prompts(sft, pool, labeler, n=recipe["prompts"])
    config = PPOConfig(**{**recipe["settings"], "seed": recipe["seed"]})
    trainer = PPOTrainer(copy.deepcopy(sft), sft, rm, tokenizer(chat=True), prompts=prompts, config=config,
                         labeler=labeler, score=reward)
    validation, deep = dialogues(seed=0)["validation"], deep_in_conversation("validation")

    def evaluate():
        return {"step": trainer.iter, "validation": behaviour_rates(trainer.policy, validation)["all"],
                "deep validation": behaviour_rates(trainer.policy, deep)["all"],
                **{k: trainer.history[k][-1] for k in ("gold", "kl") if trainer.history.get(k)}}

    curve = [evaluate()]
    while trainer.iter < recipe["steps"]:
        trainer.run(min(recipe["every"], recipe["steps"] - trainer.iter), progress=progress)
        curve.append(evaluate())
    return trainer, curve
