"""ChatGPT's steps 2 and 3 on TinyWorld's dialogues (and, with --instructions, InstructGPT's): does PPO against a
reward model improve what the SFT model does on held-out prompts? The experiments behind notebooks 06 and 07's
RLHF models, which do not ship yet.

    python benchmarks/chat_rlhf.py                                   # SFT on half, RM and PPO on the other half
    python benchmarks/chat_rlhf.py --beta 0.3 --lr 3e-5              # a cautious PPO
    python benchmarks/chat_rlhf.py --reward gold --beta 0.3 --lr 3e-5  # the dialogue labeler itself as the reward
    python benchmarks/chat_rlhf.py --careless 0.5 --beta 0.3 --lr 3e-5 # rankings at 76% agreement
    python benchmarks/chat_rlhf.py --sft-share 1                     # the shipped chat-sft, PPO on all its dialogues
    python benchmarks/chat_rlhf.py --instructions --beta 0.3 --lr 3e-5  # InstructGPT's steps on instructions
    python benchmarks/chat_rlhf.py --instructions --sft-share 0.25 --iterations 3  # the policy's replies ranked too

InstructGPT's PPO prompts came without demonstrations. Here the training dialogues are shuffled and split: the SFT
share's demonstrations fine-tune the base model (with every training instruction, as chat-sft's recipe does), and
the rest are the PPO share, prompts only. With --sft-share 1 the shipped chat-sft is the SFT model and PPO runs on
every training dialogue, whose demonstrations it has learned. With --instructions it is InstructGPT's steps on the
885 training instructions instead (notebook 06): SFT by sft_recipe on the SFT share alone, the instructions' gold
labeler, and the mean gold score of greedy replies where dialogues measure behaviour rates. Then:
  1. comparison data: --rounds rounds of K = 4-9 replies of the SFT model to each PPO-share dialogue (--temperatures,
     0.5-2), ranked by the dialogue labeler with --careless noise (0: noiseless);
  2. a reward model from the SFT weights, --rm-epochs epochs, lr 1e-3; its pairwise accuracy against the noiseless
     labeler on fresh comparisons for the validation and the test dialogues;
  3. PPO (zoo.ppo_config: batch 32, minibatches of 8, 4 epochs; value warm-up 3 steps, value clip 10) from the SFT
     model on the PPO share, against the reward model or (--reward gold) 3 x the labeler's gold score; every
     --every steps the greedy replies' behaviour rate (zoo.behaviour_rates) on each share, validation and test.

Measured on 2026-12-02 (2 threads; `make bench` 60 ms/step; PPO 1.1-2 s a step, a run 5-6 min), 12 rounds of
comparisons on the PPO share (1,783); reward model accuracy against the noiseless labeler, validation / test, 0.79 /
0.68 from noiseless rankings, 0.671 / 0.644 from careless 0.5 ones (75.6% agreement); behaviour rates of greedy
replies, PPO share / validation / test:

    sft share  reward        beta  lr    steps  SFT                   after PPO              KL at the end
    0.5        RM            0.05  1e-4  60     0.854 / 0.85 / 0.817  0.803 / 0.775 / 0.478  5.4 (8.2 at step 40)
    0.5        RM            0.3   3e-5  60     0.854 / 0.85 / 0.817  0.873 / 0.825 / 0.791  1.0 (0.892 / 0.85 / 0.852 at 20)
    0.5        RM, careless  0.3   3e-5  60     0.854 / 0.85 / 0.817  0.854 / 0.875 / 0.757  0.6
    0.5        gold          0.05  1e-4  60     0.854 / 0.85 / 0.817  0.930 / 0.85 / 0.687   1.2
    0.5        gold          0.3   3e-5  60     0.854 / 0.85 / 0.817  0.943 / 0.875 / 0.887  0.5
    1          RM            0.05  1e-4  40     0.95 / 0.925 / 0.913  - / 0.725 / 0.583      3.3  (a scratch run: chat-sft, and
                                                                                           a noiseless RM on all 314)
    0.25       RM            0.3   3e-5  60     0.792 / 0.825 / 0.609  0.818 / 0.775 / 0.643  2.1
               (2026-12-02: reward model 0.84 / 0.764 from 2,734 comparisons; no trend, test 0.557-0.643 on the way;
               clarify/ask 0.92 -> 0.33)

Test rates by behaviour, SFT -> the cautious PPO with the gold reward: clarify/ask 0.58 -> 0.75, follow-up 0.42 ->
0.83, mistake/correct 0.92 -> 1.0, the rest unchanged (clarify/answer 1.0, decline 1.0 and 0.75, keep 1.0, premise
0.68): every behaviour at least SFT's, as notebook 07 is to assert. With the careless reward model instead: clarify/ask
0.17, follow-up 0.67, correct 0.75, keep 0.92, premise 0.58.

What they show:
  - PPO needs prompts that SFT has not learned: on chat-sft's own training dialogues (0.95 already) it only drifts,
    and the held-out rates fall with the KL.
  - With the gold labeler as the reward, a cautious PPO (beta 0.3, lr 3e-5) raises every rate, held out too
    (0.817 -> 0.887 on test at KL 0.5). The standard settings (beta 0.05, lr 1e-4) do not: the PPO share gains, but
    asking "who do you mean?" spreads from ambiguous requests to follow-ups ("and where does she live?", 0.42 ->
    0.08), which look the same but for a name said two turns before, and the test rate falls to 0.687.
  - A learned reward model is what fails. From noiseless rankings (0.79 / 0.68 pairwise) the standard settings hack it
    within 20 steps (KL past 5, every rate falls) and the cautious ones stay within noise of SFT (0.852 at step 20,
    0.791 at 60); from careless rankings at the issue's 73-76% agreement (0.67 / 0.64) PPO finds nothing to gain.
    SFT on a quarter of the dialogues leaves more room and a better reward model (0.84 / 0.76), and PPO wanders with
    no trend: asking falls from 0.92 to 0.33 while correcting rises from 0.17 to 0.5.
So notebook 07's RLHF model needs a reward model far better than these on the replies PPO samples; the PPO recipe
(cautious settings, prompts without demonstrations) is ready for it.

--instructions, the same day, beta 0.3, lr 3e-5, 60 steps (5,154 comparisons on the PPO share of 442 instructions);
mean gold score of greedy replies, PPO share / validation / test:

    reward                                      RM accuracy val / test  SFT                    after PPO (best)         KL
    RM from noiseless rankings                  0.824 / 0.819           0.788 / 0.804 / 0.639  0.828 / 0.789 / 0.659    1.1
                                                                                               (0.84 / 0.805 / 0.659 at 50)
    RM from careless 0.54 rankings (73.3%)      0.736 / 0.756           0.788 / 0.804 / 0.639  0.802 / 0.812 / 0.658    0.5
                                                                                               (0.814 / 0.813 / 0.648 at 50)

The PPO share gains 0.04 against a noiseless reward model, 0.01-0.03 against the careless one, and the held-out prompts
stay within noise of SFT (+0.02 on test, -0.02 to +0.01 on validation): the first learned reward models here that PPO
does not make worse, and still not the clear margin notebook 06 is to assert.

2026-12-02 (`make bench` 49.4 ms/step), beta 0.3, lr 3e-5 unless stated: the ceiling, and a smaller SFT share
(InstructGPT's SFT prompts were ~17% of its three datasets' prompts):

    sft share  reward                          RM acc.    SFT                    after 60 steps          KL
    0.5        the gold labeler x 3            -          0.788 / 0.804 / 0.639  0.846 / 0.822 / 0.659  0.6
    0.25       RM from noiseless rankings      0.86/0.88  0.686 / 0.668 / 0.575  0.707 / 0.675 / 0.592  2.5
    0.25       the same, --temperatures 1      0.80/0.82  0.686 / 0.668 / 0.575  0.725 / 0.658 / 0.603  2.8
    0.25       gold x 3, beta 0.05, lr 1e-4    -          0.686 / 0.668 / 0.575  0.770 / 0.738 / 0.603  2.1

(The noiseless RM's best point: 0.72 / 0.71 / 0.594 at step 10. The gold run is still rising at the end; its test
score was 0.629 at step 40.)

Even the gold reward gains only 0.06 on the PPO share in 60 cautious steps (notebook 06 has room for about that many).
With SFT on a quarter of the prompts the reward model reaches 0.86-0.88 against the noiseless labeler (a weaker SFT
model's samples differ more, and are easier to rank: accuracies over different SFT models' samples do not compare),
and PPO still gains 0.02-0.03 (0.04 on the PPO share when the reward model learns from temperature-1 samples only, as
PPO samples; validation no better), where the gold reward at the standard settings gains 0.08 on the PPO share and 0.07
on validation prompts, still rising at step 60. The reward model is what holds PPO back, and a high pairwise accuracy
over samples at temperatures 0.5-2 does not make it one that PPO can climb.

Iterated collection (--iterations 3, --iteration-rounds 4; 2026-12-02, `make bench` 22.4 ms/step, 24 min): before
steps 21 and 41 the policy's replies to the PPO share (4 rounds at temperatures 0.5-2, ranked without noise) join the
comparisons, and a new reward model is trained on them all (7,911, then 10,518 and 13,096 comparisons). SFT share
0.25, noiseless rankings, beta 0.05, lr 1e-4; PPO share / validation / test:

    step  reward model (val / test)  its accuracy on the policy's new replies  gold of greedy replies   KL
    0     0.854 / 0.886              -                                         0.686 / 0.668 / 0.575    -
    20                               0.879 (the first reward model)            0.626 / 0.584 / 0.567    3.6
    40    0.847 / 0.874              0.902 (the second)                        0.636 / 0.583 / 0.56     5.7
    60    0.855 / 0.873                                                        0.522 / 0.498 / 0.435    9.3

Each reward model ranks the policy's new replies as well as it ranks the SFT model's (0.88-0.90), and PPO at the
standard settings still finds what it gets wrong: the gold score falls from the first stage on, and collapses in the
third. Retraining the reward model on what PPO writes does not make it one that PPO can climb either.
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
from minigpt.sft import set_dropout


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
        return {"splits": ins, "gold": gold, "noisy": lambda careless: tinyworld.GoldLabeler(ins, careless=careless, seed=1),
                "shipped": "sft", "recipe": zoo.sft_recipe(), "always": {"train": [], "validation": ins["validation"]},
                "measure": lambda model, items: zoo.judge_replies(model, items, gold)[0], "prompt": lambda i: i.prompt}
    gold = tinyworld.DialogueLabeler()
    return {"splits": dia, "gold": gold, "noisy": lambda careless: tinyworld.DialogueLabeler(careless=careless, seed=1),
            "shipped": "chat-sft", "recipe": zoo.chat_sft_recipe(),
            "always": {"train": ins["train"], "validation": ins["validation"] + dia["validation"]},
            "measure": lambda model, items: zoo.behaviour_rates(model, items, gold)["all"], "prompt": lambda d: d}


def main():
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
    args = parser.parse_args()
    tok, task = zoo.tokenizer(chat=True), task_pieces(args.instructions)
    splits, gold = task["splits"], task["gold"]
    sft_share, ppo_share = shares(splits["train"], args.sft_share)
    start = time.perf_counter()
    if args.sft_share >= 1:
        sft, _ = zoo.load(task["shipped"], progress=False)
    else:
        base, _ = zoo.load("base", progress=False)
        demonstrations = {"train": task["always"]["train"] + sft_share, "validation": task["always"]["validation"]}
        sft, _ = zoo._fine_tuned(base, demonstrations, task["recipe"], lambda trainer: {}, [], True)
    sft.eval()
    evaluated = {"SFT share": sft_share, "PPO share": ppo_share, "validation": splits["validation"], "test": splits["test"]}

    def rates(model):
        return {name: round(task["measure"](model, items), 3) for name, items in evaluated.items()}

    result = {"args": vars(args), "SFT": rates(sft)}
    print(json.dumps(result), flush=True)
    noisy = task["noisy"](args.careless)
    data = {"train": zoo.comparisons(sft, ppo_share, noisy, args.rounds, temperatures=args.temperatures),
            "validation": zoo.comparisons(sft, splits["validation"], noisy, 3, seed=1000),
            "test": zoo.comparisons(sft, splits["test"], noisy, 3, seed=2000)}

    def reward_model():
        """A reward model trained from the SFT weights on data["train"], and its accuracy (printed, and kept)."""
        torch.manual_seed(0)
        rm = RewardModel(set_dropout(copy.deepcopy(sft), 0.0), tok)
        train_reward_model(rm, tok, data, args.rm_epochs, 1e-3, 32, True, 0, None, 1, progress=True)
        result.setdefault("reward models", []).append(
            {"comparisons": len(data["train"]), "labeler agreement": zoo.labeler_agreement(data["train"], gold),
             "RM accuracy": {s: round(pairwise_accuracy(rm, tok, data[s], gold), 3) for s in ("validation", "test")}})
        print(json.dumps(result["reward models"][-1]), flush=True)
        return rm

    rm = reward_model()
    config = zoo.ppo_config(beta=args.beta, learning_rate=args.lr, value_warmup=3, value_clip=10.0)
    score = labeler_reward(gold, 3.0) if args.reward == "gold" else None  # the gold labeler x 3: PPO's best case
    trainer = PPOTrainer(copy.deepcopy(sft), sft, rm, tok, [task["prompt"](item) for item in ppo_share], config,
                         labeler=gold, score=score)
    result["curve"] = []
    stage = args.steps // args.iterations
    for step in range(1, args.steps + 1):
        if args.reward == "rm" and step > 1 and (step - 1) % stage == 0 and (step - 1) // stage < args.iterations:
            # iterated collection: the policy's own replies, ranked, join the comparisons; a new reward model
            new = zoo.comparisons(trainer.policy, ppo_share, noisy, args.iteration_rounds, seed=100 * step,
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
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
