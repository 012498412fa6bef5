"""ChatGPT's steps 2 and 3 on TinyWorld's dialogues (and, with --instructions, InstructGPT's): does PPO against a
reward model improve what the SFT model does on held-out prompts? The experiments behind notebooks 06 and 07's RLHF.

The training prompts are shuffled and split: SFT learns the SFT share's demonstrations; a reward model learns
--rounds rounds of the SFT model's ranked replies to the PPO share; PPO (zoo.ppo_config) runs on the PPO share's
prompts against it, or against 3 x the labeler's gold score (--reward gold). Every --every steps: the greedy replies'
behaviour rate (--instructions: gold score) on each share, validation and test.

    python experiments/chat_rlhf.py --beta 0.3 --lr 3e-5                 # a cautious PPO, SFT on half
    python experiments/chat_rlhf.py --reward gold --beta 0.3 --lr 3e-5   # the labeler itself as the reward
    python experiments/chat_rlhf.py --instructions --sft-share 0.25 --iterations 3  # the policy's replies ranked too

Conclusion (experiments/results/chat_rlhf.md): with the gold reward a cautious PPO (beta 0.3, lr 3e-5) raises every
held-out rate (test 0.817 -> 0.887). Against every learned reward model tried (noiseless, careless, retrained on the
policy's own replies) PPO stays within noise of SFT or gets worse: the reward model is what holds PPO back.
"""
import argparse
import copy
import json
import random
import time

import torch

from minigpt import tinyworld, zoo
from minigpt.ppo import PPOTrainer, labeler_reward
from minigpt.reward import RewardModel, pairwise_accuracy, train_reward_model

import record_results


def shares(train, sft_share, seed=0):
    """(SFT share, PPO share) of the training dialogues, shuffled with seed; at sft_share 1 both are all of them."""
    if sft_share >= 1:
        return train, train
    shuffled = train[:]
    random.Random(seed).shuffle(shuffled)
    cut = round(sft_share * len(shuffled))
    return shuffled[:cut], shuffled[cut:]


def task_pieces(instructions):
    """What differs between ChatGPT's dialogues and (--instructions) InstructGPT's instructions: the splits, the
    labeler (and its careless twin), the SFT model and recipe, the demonstrations SFT always learns besides its
    share, what is measured on greedy replies, and what a PPO prompt is."""
    ins, dia = tinyworld.instructions(seed=0), tinyworld.dialogues(seed=0)
    if instructions:
        gold = tinyworld.GoldLabeler(ins)
        return {"splits": ins, "gold": gold,
                "noisy": lambda careless: tinyworld.GoldLabeler(ins, careless=careless, seed=1), "shipped": "sft",
                "recipe": zoo.sft_recipe(), "always": {"train": [], "validation": ins["validation"]},
                "measure": lambda model, items: zoo.judge_replies(model, items, gold)[0], "prompt": lambda i: i.prompt}
    gold = tinyworld.DialogueLabeler()
    return {"splits": dia, "gold": gold, "noisy": lambda careless: tinyworld.DialogueLabeler(careless=careless, seed=1),
            "shipped": "chat-sft", "recipe": zoo.chat_sft_recipe(),
            "always": {"train": ins["train"], "validation": ins["validation"] + dia["validation"]},
            "measure": lambda model, items: zoo.behaviour_rates(model, items, gold)["all"], "prompt": lambda d: d}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instructions", action="store_true", help="InstructGPT's instructions instead of dialogues")
    parser.add_argument("--sft-share", type=float, default=0.5, help="the share of training prompts SFT learns")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--careless", type=float, default=0.0, help="the labeler's share of random rankings")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0],
                        help="the temperatures of the reward model's training comparisons (its held-out ones: 0.5-2)")
    parser.add_argument("--rm-epochs", type=float, default=3)
    parser.add_argument("--reward", choices=["rm", "gold"], default="rm")
    parser.add_argument("--beta", type=float, default=zoo.PPO_SETTINGS["beta"])
    parser.add_argument("--lr", type=float, default=zoo.PPO_SETTINGS["learning_rate"])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=1, help="split PPO into this many stages; before each "
                        "stage after the first, --iteration-rounds rounds of the policy's replies to the PPO share are "
                        "ranked and added to the comparisons, and a new reward model is trained on them all")
    parser.add_argument("--iteration-rounds", type=int, default=4)
    parser.add_argument("--out", help="write the results as JSON here")
    record_results.add_options(parser)
    args = parser.parse_args(argv)
    from minigpt.model import set_dropout
    from minigpt.reward import labeler_agreement

    tok, task = zoo.tokenizer(chat=True), task_pieces(args.instructions)
    splits, gold = task["splits"], task["gold"]
    sft_share, ppo_share = shares(splits["train"], args.sft_share)
    start = time.perf_counter()
    if args.sft_share >= 1:
        sft, _ = zoo.load(task["shipped"], progress=False)
    else:
        base, _ = zoo.load("base", progress=False)
        demonstrations = {"train": task["always"]["train"] + sft_share, "validation": task["always"]["validation"]}
        sft, _ = zoo.fine_tuned(base, demonstrations, task["recipe"], on_epoch=lambda trainer: {}, curve=[],
                                progress=True)
    sft.eval()
    evaluated = {"SFT share": sft_share, "PPO share": ppo_share, "validation": splits["validation"],
                 "test": splits["test"]}

    def rates(model):
        return {name: round(task["measure"](model, items), 3) for name, items in evaluated.items()}

    result = {"args": vars(args), "SFT": rates(sft)}
    print(json.dumps(result), flush=True)
    noisy = task["noisy"](args.careless)
    data = {"train": zoo.comparisons(sft, ppo_share, noisy, rounds=args.rounds, temperatures=args.temperatures),
            "validation": zoo.comparisons(sft, splits["validation"], noisy, rounds=3, seed=1000),
            "test": zoo.comparisons(sft, splits["test"], noisy, rounds=3, seed=2000)}

    def reward_model():
        """A reward model trained from the SFT weights on data["train"], and its accuracy (printed, and kept)."""
        torch.manual_seed(0)
        rm = RewardModel(set_dropout(copy.deepcopy(sft), 0.0), tok)
        train_reward_model(rm, tok, data, epochs=args.rm_epochs, learning_rate=1e-3, batch_size=32, grouped=True,
                           seed=0, evals_per_epoch=1, progress=True)
        result.setdefault("reward models", []).append(
            {"comparisons": len(data["train"]), "labeler agreement": labeler_agreement(data["train"], gold),
             "RM accuracy": {s: round(pairwise_accuracy(rm, tok, data[s], gold), 3) for s in ("validation", "test")}})
        print(json.dumps(result["reward models"][-1]), flush=True)
        return rm

    rm = reward_model()
    config = zoo.ppo_config(beta=args.beta, learning_rate=args.lr, value_warmup=3, value_clip=10.0)
    score = labeler_reward(gold, 3.0) if args.reward == "gold" else None  # the gold labeler x 3: PPO's best case
    trainer = PPOTrainer(copy.deepcopy(sft), sft, rm, tok, prompts=[task["prompt"](item) for item in ppo_share],
                         config=config, labeler=gold, score=score)
    result["curve"] = []
    stage = args.steps // args.iterations
    for step in range(1, args.steps + 1):
        if args.reward == "rm" and step > 1 and (step - 1) % stage == 0 and (step - 1) // stage < args.iterations:
            # iterated collection: the policy's own replies, ranked, join the comparisons; a new reward model
            new = zoo.comparisons(trainer.policy, ppo_share, noisy, rounds=args.iteration_rounds, seed=100 * step,
                                  temperatures=args.temperatures)
            print(json.dumps({"step": step, "the reward model on the policy's new replies":
                              round(pairwise_accuracy(trainer.reward_model, tok, new, gold), 3)}), flush=True)
            data["train"] += new
            trainer.reward_model = reward_model()
        stats = trainer.step()
        if step % args.every == 0:
            result["curve"].append({"step": step, "kl": round(stats["kl"], 3), "gold": round(stats["gold"], 3),
                                    **rates(trainer.policy)})
            print(json.dumps(result["curve"][-1]), flush=True)
    if not args.instructions:
        result["test by behaviour"] = {name: {k: round(v, 3) for k, v in zoo.behaviour_rates(model, splits["test"],
                                                                                             gold).items()}
                                       for name, model in (("SFT", sft), ("PPO", trainer.policy))}
        print(json.dumps(result["test by behaviour"]))
    result["seconds"] = round(time.perf_counter() - start)
    shown = ("PPO share", "validation", "test")
    last = result["curve"][-1] if result["curve"] else {}
    after = (" / ".join(str(last[name]) for name in shown) + f" (step {last['step']})") if last else "-"
    record_results.record(__file__, [{
        "options": record_results.options(argv), "task": "instructions" if args.instructions else "dialogues",
        "RM accuracy val / test": " / ".join(str(a) for a in result["reward models"][-1]["RM accuracy"].values()),
        "SFT": " / ".join(str(result["SFT"][name]) for name in shown),
        "at the last step": after,
        "KL at the end": last.get("kl", "-"), "seconds": result["seconds"]}], args)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
