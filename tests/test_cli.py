"""The command line, end to end on a small local text file."""
import subprocess
import sys

import pytest

from minigpt.cli import main

TEXT = "the cat sat on the mat. the dog sat on the log. a bird sang in the tree.\n" * 60


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "input.txt"
    path.write_text(TEXT)
    return path


def small_run(text_file, out, *extra):
    return ["train", "--text", str(text_file), "--out", str(out), "--block-size", "32", "--n-layer", "2",
            "--n-head", "2", "--n-embd", "32", "--max-iters", "40", "--eval-interval", "20", "--eval-iters", "2",
            "--warmup-iters", "5", "--no-progress", *extra]


def test_train_then_sample_end_to_end(text_file, tmp_path):
    out = tmp_path / "run"
    trained = subprocess.run([sys.executable, "-m", "minigpt", *small_run(text_file, out)],
                             capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    assert "step    20: train loss" in trained.stdout and "val loss" in trained.stdout
    assert "trained to step 40 in" in trained.stdout
    sampled = subprocess.run([sys.executable, "-m", "minigpt", "sample", "--checkpoint", str(out), "--prompt", "the ",
                              "--max-new-tokens", "30"], capture_output=True, text=True, timeout=300)
    assert sampled.returncode == 0, sampled.stderr
    assert sampled.stdout.startswith("the ") and len(sampled.stdout.strip()) >= 30


def test_bpe_tokenizer_and_resume(text_file, tmp_path, capsys):
    out = tmp_path / "bpe"
    assert main(small_run(text_file, out, "--tokenizer", "bpe", "--vocab-size", "280")) == 0
    assert (out / "vocab.json").exists() and (out / "merges.txt").exists()
    assert main(small_run(text_file, out, "--resume", "--max-iters", "60")) == 0
    printed = capsys.readouterr().out
    assert "resuming from step 40" in printed and "trained to step 60" in printed


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("abc", "one example needs block_size + 1"),
])
def test_bad_training_text_gets_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    assert main(small_run(path, tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_a_character_the_tokenizer_never_saw_gets_a_clear_error(text_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(small_run(text_file, out, "--max-iters", "2")) == 0
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(out), "--prompt", "Zebra"]) == 2
    err = capsys.readouterr().err
    assert "'Z'" in err and "not in this tokenizer's vocabulary" in err


def test_sampling_a_missing_checkpoint_gets_a_clear_error(tmp_path, capsys):
    assert main(["sample", "--checkpoint", str(tmp_path / "nowhere"), "--prompt", "a"]) == 2
    assert "error:" in capsys.readouterr().err


def test_resume_takes_the_model_shape_from_the_checkpoint(text_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(small_run(text_file, out)) == 0  # block size 32, 2 layers, 32 dims
    capsys.readouterr()
    resumed = ["train", "--text", str(text_file), "--out", str(out), "--resume", "--max-iters", "50",
               "--eval-interval", "10", "--eval-iters", "2", "--no-progress"]  # no model flags repeated
    assert main(resumed) == 0
    assert "resuming from step 40" in capsys.readouterr().out


def test_train_defaults_are_the_documented_ones(text_file, tmp_path):
    """The defaults that --help describes (chosen on a megabyte of English, benchmarks/train_defaults.py): nanoGPT's
    architecture choices at 2 x 128, and GPT-2's (biases, tanh GELU) one option away."""
    from minigpt.checkpoint import load_model

    out = tmp_path / "run"
    assert main(["train", "--text", str(text_file), "--out", str(out), "--max-iters", "2", "--eval-interval", "2",
                 "--eval-iters", "1", "--no-progress"]) == 0
    config = load_model(out).config
    assert (config.n_layer, config.n_embd, config.block_size, config.bias, config.activation) == (2, 128, 64, False,
                                                                                                   "gelu")
    help_text = subprocess.run([sys.executable, "-m", "minigpt", "train", "-h"], capture_output=True, text=True).stdout
    assert "(default: 3000)" in help_text and "(default: 0.003)" in help_text
    assert main(["train", "--text", str(text_file), "--out", str(tmp_path / "gpt2"), "--max-iters", "1",
                 "--eval-iters", "1", "--bias", "--activation", "gelu_tanh", "--no-progress"]) == 0
    config = load_model(tmp_path / "gpt2").config
    assert config.bias and config.activation == "gelu_tanh"
