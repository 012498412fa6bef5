"""Exercise checkers: run a student's function against minigpt's reference and explain what is off.

Every checker follows one recipe, ``run_check`` (in core.py): call the student's function
on a few seeded random inputs and compare with the reference. When they differ, compare with
known-wrong versions (a ``Mistake`` each) to name the likely mistake in a student's terms. An
unfinished exercise (a stub that raises NotImplementedError) prints "not implemented yet" and
returns False instead of raising, so exercise notebooks still run top to bottom.

A new checker is a reference, a function that makes inputs, and a list of Mistakes. The checkers
live beside the exercises they check; import them all from here:

    attention.py   causal self-attention, splitting into heads and merging them back
    gpt1.py        the next-token loss, GPT-1's entailment input and auxiliary loss
    sampling.py    the sampling step (temperature, top-k): random draws, so it compares
                   frequencies with the exact distribution instead of values
    gpt2.py        one BPE merge step, GPT-2's pre-LN block and scaled residual init,
                   and scoring a continuation by its log-likelihood (zero-shot)
    gpt3.py        a K-shot prompt, accuracy against the number of shots, and the
                   induction score of an attention pattern
    sft.py         InstructGPT's SFT loss, masked to the response of right-padded sequences
    reward.py      InstructGPT's reward model: the C(K, 2) pairs of a ranking, and the K-wise loss
    ppo.py         InstructGPT's PPO: the KL-penalised reward, GAE, and the clipped objective
    dialogue.py    ChatGPT's dialogue format, and the loss mask over the assistant's turns only
    scaling.py     GPT-4's predictable scaling: the straight-line step of fitting a power law, and the
                   floor (irreducible loss) of a tiny generator's text, computed by hand
"""
from .attention import check_causal_self_attention, check_merge_heads, check_split_heads
from .core import Mistake, recorded, run_check
from .dialogue import check_dialogue_mask
from .gpt1 import check_auxiliary_loss, check_entailment_input, check_next_token_loss
from .gpt2 import (check_continuation_logprob, check_merge, check_most_frequent_pair, check_pre_ln_block,
                   check_residual_init_std)
from .gpt3 import check_accuracy_over_shots, check_induction_score, check_k_shot_prompt
from .ppo import check_best_of_n, check_clipped_policy_loss, check_gae, check_kl_penalised_rewards
from .reward import check_ranking_loss, check_ranking_pairs
from .sampling import check_sample_next_token
from .scaling import check_fit_line, check_text_floor
from .sft import check_sft_loss

__all__ = [
    "Mistake", "check_auxiliary_loss", "check_causal_self_attention", "check_entailment_input",
    "check_merge_heads", "check_next_token_loss", "check_sample_next_token", "check_split_heads", "run_check",
]
__all__ += ["check_continuation_logprob", "check_merge", "check_most_frequent_pair", "check_pre_ln_block",
            "check_residual_init_std"]
__all__ += ["check_accuracy_over_shots", "check_induction_score", "check_k_shot_prompt"]
__all__ += ["check_sft_loss"]
__all__ += ["check_ranking_loss", "check_ranking_pairs"]
__all__ += ["check_best_of_n", "check_clipped_policy_loss", "check_gae", "check_kl_penalised_rewards"]
__all__ += ["check_dialogue_mask"]
__all__ += ["check_fit_line", "check_text_floor"]

# Every checker records its verdict for `minigpt grade` (core.recorded: a file, never printed text).
for _name in [name for name in __all__ if name.startswith("check_")]:
    globals()[_name] = recorded(globals()[_name])
