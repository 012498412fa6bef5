"""ChatGPT's steps 2 and 3 on TinyWorld's dialogues, as chat-rlhf's recipe runs them (zoo.chat_rlhf_recipe): does
PPO against the dialogue reward model make the chat-sft model behave better on the held-out dialogues, at the first
turn and deep in a conversation? The experiment behind notebook 07's RLHF column and the shipped 'chat-rlhf'.

    python experiments/chat_rlhf.py                           # the shipped recipe, seed 0
    python experiments/chat_rlhf.py --steps 40 --lr 1e-4      # PPO changed (the reward model is cached: --rm-cache)
    python experiments/chat_rlhf.py --reward gold             # the labeler itself as the reward: PPO's best case

Figures: the greedy replies' behaving rate on the 115 test dialogues and on the same with two earlier exchanges
(deep), for the SFT model and after PPO, by behaviour; the reward model's pairwise accuracy on fresh validation
comparisons and the oracle fraction of its pick of 16 (zoo.chat_reward_model). One row per run.

Rows before 2026-12-05 came from this script's earlier pipeline (SFT on a share of the dialogues, a reward model
without demonstrations; `git show 3949d54:experiments/chat_rlhf.py`).
"""
import argparse
import copy
import json
import os
import time

import torch

from minigpt import zoo
from minigpt.ppo import labeler_reward
from minigpt.reward import RewardModel
from minigpt.tinyworld import DialogueLabeler

import record_results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, help="the reward model's rounds of comparisons (recipe: 24)")
    parser.add_argument("--reward", choices=["rm", "gold"], default="rm")
    parser.add_argument("--gold-scale", type=float, default=zoo.GOLD_SCALE, help="--reward gold: the labeler x this")
    parser.add_argument("--beta", type=float)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--prompts", type=int, help="PPO's prompts: the hardest this many training conversations")
    parser.add_argument("--fresh", type=int, nargs="*", help="seeds of the fresh dialogues among the prompts")
    parser.add_argument("--per-kind", choices=["yes", "no"], help="PPO's prompts: the hardest of each kind, or of all")
    parser.add_argument("--share", type=float, help="chat-sft's recipe with SFT on this share of the training "
                        "dialogues (trained now, or from your cache); the rest are prompts of steps 2 and 3")
    parser.add_argument("--seed", type=int, default=0, help="PPO's seed (the reward model's stays the recipe's)")
    parser.add_argument("--rm-cache", help="keep the reward model's weights and figures in this file, and reuse them "
                        "when the file exists (for PPO runs against one reward model)")
    parser.add_argument("--out", help="write the results as JSON here")
    record_results.add_options(parser)
    args = parser.parse_args(argv)

    recipe = zoo.chat_rlhf_recipe()
    if args.rounds:
        recipe["rm"] = {**recipe["rm"], "rounds": args.rounds}
    settings = {**recipe["settings"], **({"beta": args.beta} if args.beta is not None else {}),
                **({"learning_rate": args.lr} if args.lr else {})}
    recipe = {**recipe, "settings": settings, "seed": args.seed, **({"steps": args.steps} if args.steps else {}),
              **({"prompts": args.prompts} if args.prompts else {}),
              **({"fresh": args.fresh} if args.fresh is not None else {}),
              **({"per_kind": args.per_kind == "yes"} if args.per_kind else {})}
    if args.share:
        recipe["sft"] = {**recipe["sft"], "share": args.share}
    start = time.perf_counter()
    sft, _ = zoo.CHAT_SFT.load(recipe["sft"])
    sft.eval()
    # what decides the reward model: a cache made for other settings is refused, not reused
    rm_key = json.dumps({k: recipe[k] for k in ("sft", "rm", "fresh", "prompts_seed")}, sort_keys=True)
    if args.rm_cache and os.path.exists(args.rm_cache):
        saved = torch.load(args.rm_cache, weights_only=True)
        if saved.get("key") != rm_key:
            raise SystemExit(f"{args.rm_cache} holds a reward model of other settings; give another --rm-cache")
        rm = RewardModel(copy.deepcopy(sft), zoo.tokenizer(chat=True))
        rm.load_state_dict(saved["state"])
        rm_figures = json.loads(saved["figures"])
    else:
        rm, rm_figures = zoo.chat_reward_model(sft, recipe)
        rm_figures = {k: v for k, v in rm_figures.items() if k not in ("history", "curve")}
        if args.rm_cache:
            torch.save({"state": rm.state_dict(), "figures": json.dumps(rm_figures), "key": rm_key}, args.rm_cache)
    rm.eval()
    print(json.dumps({"reward model": rm_figures}), flush=True)
    score = labeler_reward(DialogueLabeler(), args.gold_scale) if args.reward == "gold" else None
    trainer, curve = zoo.chat_ppo(sft, rm, recipe, reward=score)
    for point in curve:
        print(json.dumps(point), flush=True)
    result = {"args": vars(args), "reward model": rm_figures, "curve": curve,
              "test": {name: zoo.measure_chat(model) for name, model in (("SFT", sft), ("PPO", trainer.policy))},
              "seconds": round(time.perf_counter() - start)}
    for name, figures in result["test"].items():
        print(name, json.dumps({k: round(v, 3) for k, v in figures.items()}), flush=True)
    sft_test, ppo_test = result["test"]["SFT"], result["test"]["PPO"]
    worst = min(ppo_test[k] - sft_test[k] for k in sft_test if k.startswith("test ") and k != "test behaves")
    record_results.record(__file__, [{
        "options": record_results.options(argv), "rounds": recipe["rm"]["rounds"],
        "RM accuracy / oracle fraction": f"{rm_figures['pairwise accuracy']:.3f} / {rm_figures['oracle fraction']:.2f}",
        "test SFT -> PPO": f"{sft_test['test behaves']:.3f} -> {ppo_test['test behaves']:.3f}",
        "worst behaviour change": f"{worst:+.3f}",
        "deep test SFT -> PPO": f"{sft_test['deep test behaves']:.3f} -> {ppo_test['deep test behaves']:.3f}",
        "validation at the steps": " / ".join(f"{p['validation']:.3f}" for p in curve),
        "KL at the end": f"{curve[-1].get('kl', float('nan')):.2f}", "seconds": result["seconds"]}], args)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
