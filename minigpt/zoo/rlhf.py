"""InstructGPT's step 3 (notebook 06): PPO from the SFT model against the reward model, the gold labeler watching.

This stage starts from the two models of instruct.py: the SFT model is the policy's start and its frozen
reference, and the reward model scores its responses (and initialises the value model). Notebook 06 runs PPO
live; its ablations (β and PPO-ptx) are shipped as 'ppo-ablations':

    trainer = ppo_trainer(ppo_config())                       # notebook 06's settings, on the training prompts
    curve = ppo_curve(trainer, ppo_prompts(), rm, gold, steps=PPO_STEPS)
"""
import copy
from functools import lru_cache

import torch

from ..course_tokenizer import tokenizer
from ..data import LMData
from ..model import parameter_count
from ..ppo import PPOConfig, PPOTrainer, kl_estimates, labeler_reward, response_logprobs
from ..tinyworld import GoldLabeler, generate_corpus, instructions
from ..training import validation_loss
from .instruct import RM, SFT  # the models this stage starts from
from .instruct import sampled_gold, sampled_responses
from .pretraining import measure_base
from .shipped import Shipped

# β = 0.3: the reward model's scores of the SFT model's samples spread over several units (a prompt's samples by 1.6
# on average), so a small β barely holds the policy back. lr 5e-5: 20 steps gain +0.13 to +0.16 gold on the PPO
# prompts over seeds 0-2 at a KL of about 2, and the validation prompts' gold stays within 0.012 of SFT's; at 1e-4
# they gain a little more (+0.16 to +0.17) but lose up to 0.024 on the validation prompts
# (experiments/results/ppo_runs.md)
PPO_SETTINGS = {"batch_size": 32, "minibatch_size": 8, "ppo_epochs": 4, "max_new_tokens": 40, "learning_rate": 5e-5,
                "beta": 0.3, "value_warmup": 3}
# PPO's best case, the gold labeler's score as the reward, scaled so that over the SFT model's samples of a prompt it
# spreads about as widely as the reward model's scores (their standard deviations, 0.16 and 1.6)
GOLD_SCALE = 10.0
PPO_PROMPTS = 64  # notebook 06's PPO prompts: the training instructions the SFT model answers worst
PPO_STEPS = 20  # notebook 06's live runs: past 20 steps the held-out prompts' gold begins to fall (experiments/results/ppo_runs.md)


def ppo_config(**changes):
    """Notebook 06's PPO settings (PPO_SETTINGS: β = 0.3, no ptx, the value model trained alone for the first 3
    steps), with any of them changed."""
    return PPOConfig(**{**PPO_SETTINGS, **changes})


# ---- What PPO is judged by: the gold labeler, the reward model, KL, and the pre-training text ----------------

@lru_cache(maxsize=1)
def _pretraining_tokens():
    return torch.tensor(tokenizer(chat=True).encode(generate_corpus(seed=0)))


def pretraining_data(block_size=64, batch_size=8):
    """Windows of the base model's pre-training text (TinyWorld), for PPO-ptx's term and its LM loss."""
    return LMData(_pretraining_tokens(), block_size, batch_size)


@lru_cache(maxsize=4)
def pretraining_windows(batches=10, seed=0):
    """(batches x 8, 65) fixed windows of the pre-training text's validation part, drawn with seed."""
    data, generator = pretraining_data(), torch.Generator().manual_seed(seed)
    return torch.cat([torch.cat([x, y[:, -1:]], dim=1) for x, y in
                      (data.get_batch("val", generator) for _ in range(batches))])


def pretraining_loss(model, batches=10, seed=0):
    """The model's mean LM loss on `batches` fixed batches of the pre-training text's validation windows."""
    return validation_loss(model, pretraining_windows(batches, seed))


def hardest_prompts(model, items, labeler, *, n=PPO_PROMPTS, samples=4, seed=1):
    """The n items whose temperature-1 responses from model have the lowest mean gold score (4 samples each): where
    PPO has something to gain, since the SFT model already answers most training instructions well."""
    means = sampled_gold(model, items, labeler, samples=samples, seed=seed).mean(0)
    return [items[j] for j in means.argsort(stable=True)[:n].tolist()]


@lru_cache(maxsize=1)
def ppo_prompts():
    """Notebook 06's PPO prompts: the PPO_PROMPTS training instructions the shipped SFT model answers worst."""
    splits = instructions(seed=0)
    return tuple(hardest_prompts(SFT.load(progress=False)[0], splits["train"], GoldLabeler(splits)))


@torch.no_grad()
def ppo_evaluation(policy, items, reward_model, labeler, *, reference, samples=4, seed=7):
    """What notebook 06 watches, on `samples` fresh temperature-1 responses to each item: their mean gold score,
    reward-model score and KL to the reference (k1, summed over a response's tokens); the policy's LM loss on the
    pre-training text (pretraining_loss); and notebook 02's zero-shot test (measure_base's mean held-out accuracy)."""
    roll = sampled_responses(policy, items, samples, seed)
    ref_logprobs = response_logprobs(reference, roll.idx, roll.prompt_lengths, roll.mask.size(1))
    gold = sum(labeler.gold_score(p, r) for p, r in zip(roll.prompts, roll.responses)) / len(roll.prompts)
    return {"gold": gold, "reward": reward_model(roll.idx, roll.lengths).mean().item(),
            "kl": kl_estimates(roll.logprobs, ref_logprobs, roll.mask)[0].mean().item(),
            "lm loss": pretraining_loss(policy), "zero-shot": measure_base(policy)["held-out accuracy"]}


# ---- PPO runs ------------------------------------------------------------------------------------------------

def ppo_trainer(config, prompts="train", *, sft=None, reward_model=None, gold_scale=None):
    """A PPOTrainer on copies of the SFT model (the policy, and the frozen reference; the shipped one unless sft is
    given) against the shipped reward model (or reward_model), on the prompts of an instructions split (or a list of
    Instructions), with the noiseless gold labeler watching and the pre-training text at hand for PPO-ptx (its LM
    loss is logged as "ptx loss" even when ptx_coef is 0). gold_scale: the reward is gold_scale x the gold
    labeler's score instead of the reward model's: PPO's best case, a perfect reward model."""
    sft = sft if sft is not None else SFT.load(progress=False)[0]
    rm = reward_model if reward_model is not None else RM.load(progress=False)[0]
    splits = instructions(seed=0)
    gold = GoldLabeler(splits)
    items = splits[prompts] if isinstance(prompts, str) else prompts
    return PPOTrainer(copy.deepcopy(sft), sft, rm, tokenizer(chat=True), prompts=[i.prompt for i in items],
                      config=config, labeler=gold, ptx_data=pretraining_data(),
                      score=None if gold_scale is None else labeler_reward(gold, gold_scale))


def ppo_curve(trainer, items, reward_model, labeler, *, steps, every=10, start=None, progress=True):
    """Run the trainer until step `steps`, with ppo_evaluation of its policy on items (KL against the trainer's
    reference) at step 0 and every `every` steps; returns the list of {"step": ..., **figures}. start: the step-0
    figures, when they are already measured."""
    def evaluate():
        return ppo_evaluation(trainer.policy, items, reward_model, labeler, reference=trainer.reference)

    curve = [{"step": 0, **(start or evaluate())}]
    while trainer.iter < steps:
        trainer.run(min(every, steps - trainer.iter), progress=progress)
        curve.append({"step": trainer.iter, **evaluate()})
    return curve


def ppo_ablations_recipe(seed=0):
    """Notebook 06's ablations: its PPO run from the SFT model against the reward model (PPO_SETTINGS, PPO_STEPS
    steps on the PPO_PROMPTS hardest training prompts) with one setting changed in each, evaluated every 10 steps.
    β = 0 runs longer, at twice the learning rate, and is evaluated every 5 steps, so that its gold score's rise
    and fall both show within 80 steps."""
    return {"sft": SFT.recipe, "rm": RM.recipe, "settings": PPO_SETTINGS, "prompts": PPO_PROMPTS,
            "steps": PPO_STEPS, "every": 10, "seed": seed,
            "runs": {"beta 0": {"beta": 0.0, "learning_rate": 1e-4, "steps": 80, "every": 5}, "beta 0.05": {"beta": 0.05},
                     "beta 1": {"beta": 1.0}, "ptx": {"ptx_coef": 1.0}}}


def train_ppo_ablations(recipe, progress=True):
    """Run every ablation of the recipe, from the SFT and reward models of its "sft" and "rm" recipes. Returns the
    first run's policy (β = 0) and a record: "runs" holds each run's evaluations (ppo_evaluation every
    recipe["every"] steps or the run's own "every", as "curve") and per-step history, "prompts" the PPO prompts."""
    sft, _ = SFT.load(recipe["sft"], progress=progress)
    rm, _ = RM.load(recipe["rm"], progress=progress)
    splits = instructions(seed=0)
    gold = GoldLabeler(splits)
    prompts = hardest_prompts(sft, splits["train"], gold, n=recipe["prompts"])
    runs, seconds, kept = {}, 0.0, None
    for name, changes in recipe["runs"].items():
        changes = dict(changes)
        steps, every = changes.pop("steps", recipe["steps"]), changes.pop("every", recipe["every"])
        config = PPOConfig(**{**recipe["settings"], **changes, "seed": recipe["seed"]})
        trainer = ppo_trainer(config, prompts, sft=sft, reward_model=rm)
        curve = ppo_curve(trainer, prompts, rm, gold, steps=steps, every=every, progress=progress)
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
    shipped reward model and the shipped SFT model as the reference."""
    splits = instructions(seed=0)
    return ppo_evaluation(copy.deepcopy(policy).float(), ppo_prompts(), RM.load(progress=False)[0],
                          GoldLabeler(splits), reference=SFT.load(progress=False)[0])


PPO_ABLATIONS = Shipped("ppo-ablations", ppo_ablations_recipe(), train_ppo_ablations, measure_ppo, "gold",
                        "notebook 06: the policy of PPO against the reward model with β = 0, and the curves of the "
                        "runs that change one of notebook 06's settings",
                        quick={"runs": {"beta 0": {"beta": 0.0, "steps": 2}}, "every": 1, "prompts": 4,
                               "settings": {**PPO_SETTINGS, "batch_size": 4, "minibatch_size": 2}})
