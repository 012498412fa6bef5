"""`python -m minigpt chat`: multi-turn chat in the terminal or from a pipe, and the Conversation behind it."""
import builtins
import subprocess
import sys

import pytest
import torch

from minigpt import zoo
from minigpt.chat import END_OF_TURN, Conversation
from minigpt.cli import main


@pytest.fixture(scope="module")
def sft():
    return zoo.load("sft", progress=False)[0], zoo.tokenizer(chat=True)


def run_chat(stdin, *args):
    return subprocess.run([sys.executable, "-m", "minigpt", "chat", *args], input=stdin, capture_output=True,
                          timeout=300)


def test_a_piped_conversation_gets_a_reply_per_message_and_the_commands_work():
    script = "what colour is a banana?\n/temperature 0\ncount from two to five.\n/frobnicate\n/reset\n\nwhere does tom live?\n"
    result = run_chat(script.encode())
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("you> ")] == [f"you> {x}" for x in script.splitlines()]
    assert sum(line.startswith("assistant> ") for line in lines) == 3  # one per message, none for the blank line
    assert "(temperature 0)" in lines and "(a new conversation)" in lines
    assert "unknown command /frobnicate; the commands are /reset" in out
    assert lines[-1] == "bye." and "loaded" not in out  # loading messages go to stderr, not into the transcript
    assert END_OF_TURN not in out


def test_bytes_that_are_not_utf8_get_a_clear_error():
    result = run_chat(b"what colour is a banana?\n\xff\xfe\n")
    assert result.returncode == 2
    assert "standard input is not UTF-8 text" in result.stderr.decode()


def test_the_reply_streams_as_it_is_written_and_becomes_a_turn(sft):
    model, tok = sft
    chat = Conversation(model, tok, temperature=0.0)
    pieces = []
    reply, dropped = chat.say("count from two to five.", on_text=pieces.append)
    assert len(pieces) >= 3 and "".join(pieces).strip() == reply and dropped == 0
    assert chat.turns == [("user", "count from two to five."), ("assistant", reply)]
    chat.reset()
    assert chat.turns == []


def test_generate_reports_each_new_token():
    from minigpt.model import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=20, block_size=16, n_layer=1, n_head=2, n_embd=16))
    seen = []
    out = model.generate(torch.zeros(2, 3, dtype=torch.long), 5, on_token=lambda ids: seen.append(ids.tolist()))
    assert seen == out[:, 3:].T.tolist()


def test_the_oldest_turns_are_dropped_when_the_context_is_full(sft, monkeypatch, capsys):
    model, tok = sft
    chat = Conversation(model, tok, temperature=0.0, max_new_tokens=104)  # leaves 24 of the 128 tokens for the chat
    questions = ["where does tom live?", "what pet does tom have?", "what food does tom like?"]
    results = [chat.say(q) for q in questions]
    assert results[0][1] == 0 and any(dropped for _, dropped in results[1:])
    assert chat.turns[0][0] == "user" and chat.turns[-2] == ("user", questions[-1])
    assert len(tok.encode("".join(f"{r} {t}" for r, t in chat.turns))) < 128
    monkeypatch.setattr(sys, "stdin", FakeStdin("\n".join(questions) + "\n"))
    assert main(["chat", "--model", "sft", "--max-new-tokens", "104", "--temperature", "0"]) == 0
    assert "-token context: its oldest 2 turns were dropped)" in capsys.readouterr().out


def test_a_message_longer_than_the_context_is_refused_and_the_chat_goes_on(sft, monkeypatch, capsys):
    model, tok = sft
    with pytest.raises(ValueError, match="would not fit the context of 128"):
        Conversation(model, tok).say("tom " * 200)
    monkeypatch.setattr(sys, "stdin", FakeStdin("tom " * 200 + "\nwhat colour is a banana?\n"))
    assert main(["chat", "--model", "sft"]) == 0
    captured = capsys.readouterr()
    assert "say it in fewer words" in captured.err and captured.out.count("assistant> ") == 1


@pytest.mark.parametrize("leave", [EOFError, KeyboardInterrupt])
def test_ctrl_d_and_ctrl_c_at_the_prompt_leave_cleanly(leave, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", FakeStdin("", tty=True))
    answers = iter(["what colour is a banana?"])

    def fake_input(prompt):
        try:
            return next(answers)
        except StopIteration:
            raise leave from None

    monkeypatch.setattr(builtins, "input", fake_input)
    assert main(["chat", "--model", "sft"]) == 0
    out = capsys.readouterr().out
    assert "assistant> " in out and out.endswith("bye.\n")


def test_a_model_that_is_not_there_gets_a_clear_error(tmp_path, capsys):
    assert main(["chat", "--model", "gpt-5"]) == 2
    assert "no shipped model named 'gpt-5'" in capsys.readouterr().err
    assert main(["chat", "--model", str(tmp_path)]) == 2
    assert "holds no model" in capsys.readouterr().err


class FakeStdin:
    """Lines to read, as a pipe (or a terminal) would give them."""

    def __init__(self, text, tty=False):
        self.lines, self.tty = text.splitlines(keepends=True), tty

    def readline(self):
        return self.lines.pop(0) if self.lines else ""

    def isatty(self):
        return self.tty
