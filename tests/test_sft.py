"""The chat format (minigpt.chat) and InstructGPT's SFT loss, masked to the response (minigpt.sft)."""
import pytest
import torch
import torch.nn.functional as F

from minigpt import GPT, BPETokenizer, GPTConfig
from minigpt.chat import ASSISTANT, END_OF_TURN, SPECIAL_TOKENS, USER, encode_chat, format_chat, respond
from minigpt.model import IGNORE_INDEX, set_dropout
from minigpt.sft import SFTData, sft_batch, sft_example, sft_loss

TEXT = "what colour is a banana? yellow. what colour is grass? green. the opposite of hot is cold. " * 20
TOKENIZER = BPETokenizer().train(TEXT, 300, special_tokens=SPECIAL_TOKENS)


def test_a_chat_is_role_markers_text_and_end_of_turn_tokens():
    turns = [("user", "what colour is a banana?"), ("assistant", "yellow.")]
    assert format_chat(turns) == f"{USER} what colour is a banana?{END_OF_TURN}{ASSISTANT} yellow.{END_OF_TURN}"
    assert format_chat(turns[:1], reply=True).endswith(f"{END_OF_TURN}{ASSISTANT}")
    ids, mask = encode_chat(TOKENIZER, turns)
    assert TOKENIZER.decode(ids) == format_chat(turns) and len(ids) == len(mask)
    written = [i for i, m in zip(ids, mask) if m]  # what the assistant writes: its text and its end-of-turn token
    assert TOKENIZER.decode(written) == f" yellow.{END_OF_TURN}"
    assert all(TOKENIZER.special_tokens[marker] in ids for marker in (USER, ASSISTANT, END_OF_TURN))


@pytest.mark.parametrize("turns, message", [
    ([("user", "hi"), ("assistant", "  ")], "turn is empty"),
    ([("robot", "hi")], "unknown role"),
    ([("user", "say <|end|> now")], "only the chat format may write"),
])
def test_bad_turns_are_refused_with_a_clear_error(turns, message):
    with pytest.raises(ValueError, match=message):
        encode_chat(TOKENIZER, turns)


def test_a_tokenizer_without_the_chat_tokens_is_refused():
    with pytest.raises(ValueError, match="special_tokens=chat.SPECIAL_TOKENS"):
        encode_chat(BPETokenizer().train(TEXT, 300), [("user", "hi")])


def test_a_demonstration_longer_than_the_context_is_refused():
    with pytest.raises(ValueError, match="block_size is 8"):
        sft_example(TOKENIZER, "what colour is a banana? " * 3, "yellow.", block_size=8)


def test_the_sft_loss_is_the_mean_next_token_loss_over_the_response_tokens_alone():
    examples = [sft_example(TOKENIZER, p, r, 64) for p, r in [("what colour is a banana?", "yellow."),
                                                              ("the opposite of hot is", "cold, the opposite of hot."),
                                                              ("what colour is grass?", "green.")]]
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=64, n_layer=1, n_head=2, n_embd=16))
    x, y = sft_batch(examples)
    logits, _ = model(x)
    losses = []  # by hand: every token the assistant writes, predicted from everything before it
    for row, (ids, mask) in enumerate(examples):
        for t in range(1, len(ids)):
            if mask[t]:
                losses.append(-F.log_softmax(logits[row, t - 1], dim=-1)[ids[t]])
    assert torch.allclose(sft_loss(model, (x, y)), torch.stack(losses).mean(), atol=1e-6)
    assert (y != IGNORE_INDEX).sum() == len(losses)  # nothing else counts: not the prompt, not the padding


def test_the_prompt_and_padding_targets_do_not_count():
    example = sft_example(TOKENIZER, "what colour is a banana?", "yellow.", 64)
    longer = sft_example(TOKENIZER, "what colour is a banana? what colour is grass?", "green.", 64)
    x, y = sft_batch([example, longer], pad_id=5)
    n = len(example[0]) - 1
    assert (y[0, n:] == IGNORE_INDEX).all() and (x[0, n:] == 5).all()  # padding: ignored whatever its id
    n_prompt = example[1].index(1)  # the first token the assistant writes
    assert (y[0, : n_prompt - 1] == IGNORE_INDEX).all() and (y[0, n_prompt - 1 : n] != IGNORE_INDEX).all()


def test_sft_data_draws_batches_of_demonstrations_from_a_split():
    examples = [sft_example(TOKENIZER, "what colour is a banana?", "yellow.", 64),
                sft_example(TOKENIZER, "what colour is grass?", "green.", 64)]
    data = SFTData(examples, examples[:1], batch_size=5)
    x, y = data.get_batch("val", torch.Generator().manual_seed(0))
    assert x.shape[0] == 5 and torch.equal(x, sft_batch(examples[:1] * 5)[0])
    with pytest.raises(ValueError, match="both splits"):
        SFTData(examples, [], 4)


def test_set_dropout_reaches_every_layer():
    model = set_dropout(GPT(GPTConfig(vocab_size=30, block_size=8, n_layer=2, n_head=2, n_embd=16)), 0.2)
    assert model.config.dropout == 0.2
    assert all(m.dropout == 0.2 for m in model.modules() if isinstance(getattr(m, "dropout", None), float))
    model.train()
    idx = torch.randint(30, (2, 8))
    assert not torch.equal(model(idx)[0], model(idx)[0])  # dropout on in training
    model.eval()
    assert torch.equal(model(idx)[0], model(idx)[0])


def test_respond_gives_each_conversation_its_reply_up_to_the_end_of_turn():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=64, n_layer=1, n_head=2, n_embd=16))
    end = TOKENIZER.special_tokens[END_OF_TURN]
    with torch.no_grad():  # make <|end|> the likeliest next token everywhere: every reply is just the end of turn
        model.transformer.ln_f.weight.zero_()  # the final hidden state is ln_f's bias at every position ...
        model.transformer.ln_f.bias.fill_(1.0)
        model.lm_head.weight[end] = 1.0  # ... whose dot product with <|end|>'s row is 16, far above any other
    conversations = [[("user", "what colour is a banana?")], [("user", "hi")], [("user", "what colour is grass?")]]
    assert respond(model, TOKENIZER, conversations, max_new_tokens=5, temperature=0.0) == [END_OF_TURN] * 3
    untrained = GPT(GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=64, n_layer=1, n_head=2, n_embd=16))
    replies = respond(untrained, TOKENIZER, conversations, max_new_tokens=6, seed=3)
    assert replies == respond(untrained, TOKENIZER, conversations, max_new_tokens=6, seed=3)  # seeded
    assert all(END_OF_TURN not in r[:-len(END_OF_TURN)] for r in replies)  # cut at the first end of turn
    with pytest.raises(ValueError, match="would not fit the block_size"):
        respond(model, TOKENIZER, conversations, max_new_tokens=60)
