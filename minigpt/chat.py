"""The course's one chat format, shared by SFT, the reward model, PPO and dialogue (notebooks 04-07).

A conversation is a list of turns (role, text), the role "user" or "assistant". Written out:

    <|user|> what colour is a banana?<|end|><|assistant|> yellow.<|end|>

The role markers and the end-of-turn token are special tokens of the BPE tokenizer: one id each, which
ordinary text never produces. Each turn's text starts with a space, as words do in TinyWorld's text, so that a
turn's words are the same tokens the model met in pre-training. The model learns to end its turn by writing
<|end|>; generation stops there.
"""
USER, ASSISTANT, END_OF_TURN = "<|user|>", "<|assistant|>", "<|end|>"
ROLES = {"user": USER, "assistant": ASSISTANT}
SPECIAL_TOKENS = ("<|endoftext|>", USER, ASSISTANT, END_OF_TURN)  # for BPETokenizer.train(special_tokens=...)


def format_turn(role, text):
    """One turn as text: its role marker, a space, the text, the end-of-turn token."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; a turn's role is one of {', '.join(ROLES)}")
    text = text.strip()
    if not text:
        raise ValueError(f"the {role}'s turn is empty; every turn needs some text")
    for marker in SPECIAL_TOKENS:
        if marker in text:
            raise ValueError(f"the {role}'s turn contains {marker!r}, which only the chat format may write")
    return f"{ROLES[role]} {text}{END_OF_TURN}"


def format_chat(turns, reply=False):
    """A conversation as text; reply=True ends it with the assistant's marker, so that a model writes the reply."""
    return "".join(format_turn(role, text) for role, text in turns) + (ASSISTANT if reply else "")


def require_chat_tokens(tokenizer):
    """A clear error unless the tokenizer has the chat format's special tokens."""
    missing = [marker for marker in SPECIAL_TOKENS[1:] if marker not in getattr(tokenizer, "special_tokens", {})]
    if missing:
        raise ValueError(f"this tokenizer has no {', '.join(missing)} token(s): it is not the chat tokenizer; train one "
                         "with BPETokenizer().train(text, vocab_size, special_tokens=chat.SPECIAL_TOKENS)")


def encode_chat(tokenizer, turns):
    """(ids, mask): the conversation's token ids, and 1 for each token the assistant writes (its text and its
    end-of-turn token; not its role marker, which the format supplies), 0 for the rest. The mask says where
    the SFT loss applies."""
    require_chat_tokens(tokenizer)
    ids, mask = [], []
    for role, text in turns:
        marker, *written = tokenizer.encode(format_turn(role, text))  # the role marker is one special token
        ids += [marker, *written]
        mask += [0] + [int(role == "assistant")] * len(written)
    return ids, mask


def cut_reply(text):
    """What the assistant wrote: the generated text up to and including its end-of-turn token, if it wrote one."""
    end = text.find(END_OF_TURN)
    return text if end < 0 else text[: end + len(END_OF_TURN)]


def encode_prompts(tokenizer, conversations, max_new_tokens, block_size):
    """(ids, groups): each conversation's token ids, ending with the assistant's marker so that a model writes the
    reply, and {length: indices of the conversations that long}, for generating equal lengths as one batch.
    A clear error when a conversation leaves no room for max_new_tokens in the context."""
    ids = [tokenizer.encode(format_chat(turns, reply=True)) for turns in conversations]
    too_long = [len(p) for p in ids if len(p) + max_new_tokens > block_size]
    if too_long:
        raise ValueError(f"a conversation has {max(too_long)} tokens, and with {max_new_tokens} new ones it would not "
                         f"fit the block_size of {block_size}: shorten it or ask for fewer new tokens")
    groups = {}
    for i, p in enumerate(ids):
        groups.setdefault(len(p), []).append(i)
    return ids, groups


def respond(model, tokenizer, conversations, max_new_tokens=48, temperature=1.0, seed=0):
    """The model's next assistant turn for each conversation (a list of turns), as text ending with END_OF_TURN
    when the model ended its turn within max_new_tokens. Conversations of the same length in tokens are
    generated together, one batch each; seeded, so the same call gives the same replies."""
    import torch  # only generation needs it; the format above is plain text

    prompts, groups = encode_prompts(tokenizer, conversations, max_new_tokens, model.config.block_size)
    generator = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    replies = [None] * len(prompts)
    for length, members in sorted(groups.items()):
        idx = torch.tensor([prompts[i] for i in members], device=generator.device)
        out = model.generate(idx, max_new_tokens, temperature=temperature, generator=generator,
                             stop_token=tokenizer.special_tokens[END_OF_TURN])
        for i, row in zip(members, out[:, length:].tolist()):
            replies[i] = cut_reply(tokenizer.decode(row))
    return replies
