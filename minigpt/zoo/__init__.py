"""The course's TinyWorld models by name, one module per stage of the chain:

    pretraining.py   notebooks 02-03: the GPT-2 sizes, the in-context learners, and the base model   (from scratch)
    instruct.py      notebooks 04-05: InstructGPT's SFT model and reward model                      (from the base)
    rlhf.py          notebook 06: PPO, its evaluation and its ablations                   (from the SFT and reward models)
    chat.py          notebook 07: SFT on dialogues, a dialogue reward model and PPO                 (from the base)
    scaling.py       notebook 08: the long-tail family, its ladder and big run; TinyWorld's contrast (from scratch)

Each shipped model is a Shipped entry (shipped.py): its recipe, its training, the figures measured from its
weights. Models whose training is not the lesson are trained once by `make models` and shipped inside the package,
as OpenAI published GPT-2; a notebook loads them by name:

    tokenizer = zoo.tokenizer()              # byte-level BPE with 1,024 tokens, trained on TinyWorld
    model, record = zoo.pretrained("M")      # notebook 02: trained now (or loaded from your cache)
    model, record = zoo.load("icl-2layer")   # notebook 03: the shipped weights (or your cache, or trained now)
    record["curve"]                          # what was measured while it trained, every eval_every steps

A shipped model's `figures` are its key numbers, measured from the weights by its `measure` at the end of
training; the record keeps them so that a test can measure them again and compare.
"""
from ..course_tokenizer import tokenizer
from .chat import (CHAT_SFT, behaviour_rates, chat_ppo, chat_prompts, chat_reward_model, chat_rlhf_recipe,
                   chat_sft_recipe, deep_in_conversation, fresh_dialogues, leaves_room, measure_chat, rlhf_prompts,
                   sft_share, train_chat_sft, with_earlier_turns)
from .instruct import (RM, RM_NOISE, SFT, comparisons, damaged_demonstrations, fine_tuned, fit_rm, greedy_replies,
                       judge, judge_replies, judged_samples, measure_rm, measure_sft, normalize_to_demonstrations,
                       prefers_demonstrations, rm_comparisons, rm_quality, rm_recipe, rollout_gold, sampled_gold,
                       sampled_responses, sft_recipe, train_rm, train_sft)
from .pretraining import (BASE, ICL_1LAYER, ICL_2LAYER, LEX_SHOTS, SIZES, base_recipe, icl_recipe, induction_probe,
                          key_match_probe, measure_base, measure_icl, pretrained, recipe, train, train_lm)
from .rlhf import (GOLD_SCALE, PPO_ABLATIONS, PPO_PROMPTS, PPO_SETTINGS, PPO_STEPS, hardest_prompts, measure_ppo,
                   ppo_ablations_recipe, ppo_config, ppo_curve, ppo_evaluation, ppo_prompts, ppo_trainer,
                   pretraining_data, pretraining_loss, train_ppo_ablations)
from .scaling import (BUCKETS, SCALING_BATCH, SCALING_BIG, SCALING_BIG_RUN, SCALING_CONTEXT, SCALING_FAMILY,
                      SCALING_LADDER, SCALING_LADDER_RUNS, SCALING_TINYWORLD, SCALING_WORLD, TINYWORLD_BIG,
                      TINYWORLD_FAMILY, TOKENS_PER_PARAMETER, bucket_name, line_nats, measure_scaling,
                      measure_tinyworld, scaling_recipe, scaling_run, scaling_text, scaling_tokenizer, scaling_world,
                      shape_parameters, tinyworld_capability, tinyworld_parameters, tinyworld_recipe, tinyworld_run,
                      tinyworld_validation_tokens, train_scaling, train_tinyworld, validation_lines)
from .shipped import Shipped

# Every shipped model, in the order `make models` trains them: a model comes after the one it starts from.
SHIPPED = {entry.name: entry for entry in
           (ICL_2LAYER, ICL_1LAYER, BASE, SFT, RM, CHAT_SFT, SCALING_LADDER_RUNS, SCALING_BIG_RUN, SCALING_TINYWORLD,
            PPO_ABLATIONS)}


def load(name, train_here=False, cache_dir=None, progress=True):
    """(model, record) of a shipped model: the shipped weights, else your cache, else trained now.

    train_here=True trains it now from its recipe (with a progress bar) whatever is shipped or cached.
    """
    if name not in SHIPPED:
        raise ValueError(f"no shipped model named {name!r}; the names are {', '.join(SHIPPED)}")
    return SHIPPED[name].load(train_here=train_here, cache_dir=cache_dir, progress=progress)
