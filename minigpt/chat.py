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


def prompt_turns(prompt):
    """The conversation a prompt stands for: an instruction's text is one user turn; a dialogue (anything with
    .turns, such as tinyworld.Dialogue) is its turns."""
    return [("user", prompt)] if isinstance(prompt, str) else list(prompt.turns)


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


def respond(model, tokenizer, conversations, *, max_new_tokens=48, temperature=1.0, seed=0):
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


class Conversation:
    """A multi-turn chat with a model, kept within its context window: what `python -m minigpt chat` runs.

        chat = Conversation(model, tokenizer, temperature=0.7)
        text, dropped = chat.say("what pet does tom have?", on_text=print)   # the reply, streamed as it is written

    Before each reply the turns so far, the new user turn and room for max_new_tokens must fit block_size; if they
    do not, the oldest turns are dropped (a user turn with the reply after it, so the rest still starts with the
    user), and say() returns how many.
    """

    def __init__(self, model, tokenizer, *, temperature=1.0, max_new_tokens=48, seed=0):
        require_chat_tokens(tokenizer)
        self.model, self.tokenizer, self.max_new_tokens = model, tokenizer, max_new_tokens
        self.temperature, self.seed, self.turns = temperature, seed, []

    def reset(self):
        self.turns = []

    def _fit(self, turns):
        """(turns that fit with room for the reply, how many were dropped from the front)."""
        room = self.model.config.block_size - self.max_new_tokens
        dropped = 0
        while (length := len(self.tokenizer.encode(format_chat(turns, reply=True)))) > room:
            if len(turns) == 1:
                raise ValueError(f"that message is {length} tokens with its markers; with room for a reply of "
                                 f"{self.max_new_tokens} it would not fit the context of {self.model.config.block_size}"
                                 ": say it in fewer words")
            turns, dropped = turns[2:], dropped + 2  # the oldest user turn and the reply to it
        return turns, dropped

    def say(self, text, on_text=None):
        """The model's reply to the user's `text` (END_OF_TURN removed), and the number of old turns dropped to make
        room. on_text(piece) receives the reply's text as it is generated."""
        import torch

        turns, dropped = self._fit(self.turns + [("user", text)])
        prompt = self.tokenizer.encode(format_chat(turns, reply=True))
        stop = self.tokenizer.special_tokens[END_OF_TURN]
        written, shown = [], ""

        def stream(ids):  # one conversation, so generation ends right after the end-of-turn token
            nonlocal shown
            if int(ids[0]) == stop:
                return
            written.append(int(ids[0]))
            text_so_far = self.tokenizer.decode(written)
            if on_text is not None and not text_so_far.endswith("\ufffd"):  # wait for a split character's last byte
                on_text(text_so_far[len(shown):])
                shown = text_so_far

        device = next(self.model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(self.seed + len(self.turns))
        self.model.generate(torch.tensor([prompt], device=device), self.max_new_tokens, temperature=self.temperature,
                            generator=generator, stop_token=stop, on_token=stream)
        reply = self.tokenizer.decode(written)
        for marker in SPECIAL_TOKENS:  # a marker the model wrote mid-reply would break the format of the next turn
            reply = reply.replace(marker, " ")
        reply = " ".join(reply.split()) or "..."  # a turn needs some text
        self.turns = turns + [("assistant", reply)]  # turns ends with the user's new one
        return reply, dropped
