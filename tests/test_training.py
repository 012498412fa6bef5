import math
import os
from pathlib import Path

import pytest
import torch

from minigpt import GPT, GPTConfig, LMData, Trainer, TrainConfig, learning_rate_at, load_model, load_text, make_optimizer
from minigpt.checkpoint import load_checkpoint, save_checkpoint


def tiny_model(**overrides):
    torch.manual_seed(0)
    config = dict(vocab_size=20, block_size=16, n_layer=2, n_head=2, n_embd=32)
    config.update(overrides)
    return GPT(GPTConfig(**config))


def random_data():
    tokens = torch.randint(0, 20, (4000,), generator=torch.Generator().manual_seed(0))
    return LMData(tokens, block_size=16, batch_size=4)


def quiet(**overrides):
    config = dict(max_iters=20, eval_interval=10, eval_iters=2, warmup_iters=5, progress=False)
    config.update(overrides)
    return TrainConfig(**config)


def test_learning_rate_warms_up_then_follows_a_cosine():
    config = TrainConfig(max_iters=110, warmup_iters=10, learning_rate=1.0, min_lr=0.1)
    assert learning_rate_at(0, config) == pytest.approx(0.1)
    assert learning_rate_at(9, config) == pytest.approx(1.0)
    halfway = 10 + 50
    assert learning_rate_at(halfway, config) == pytest.approx(0.1 + 0.5 * (1.0 - 0.1))
    assert learning_rate_at(110, config) == pytest.approx(0.1)
    lrs = [learning_rate_at(i, config) for i in range(10, 111)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_weight_decay_applies_to_matrices_only():
    model = tiny_model()
    groups = make_optimizer(model, TrainConfig(weight_decay=0.1)).param_groups
    decayed = {id(p) for p in groups[0]["params"]}
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0
    for name, p in model.named_parameters():
        assert (id(p) in decayed) == (p.dim() >= 2), name


def test_training_lowers_the_loss_on_learnable_text():
    text_ids = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7] * 400)  # a fully predictable sequence
    data = LMData(text_ids, block_size=16, batch_size=8)
    trainer = Trainer(tiny_model(), data, quiet(max_iters=120, learning_rate=3e-3, eval_interval=60))
    history = trainer.run()
    assert history["val_loss"][-1] < 0.3 < math.log(20)
    assert len(history["loss"]) == 120 and history["eval_iter"] == [60, 120]


def test_resume_reproduces_the_next_losses_bit_for_bit(tmp_path):
    data = random_data()
    config = quiet(checkpoint_dir=str(tmp_path))
    straight = Trainer(tiny_model(dropout=0.1), data, config)  # dropout: the global RNG state matters too
    straight.run()

    first_half = Trainer(tiny_model(dropout=0.1), data, config)
    first_half.run(until=10)  # writes the checkpoint at step 10
    resumed = Trainer(tiny_model(dropout=0.1), data, config).resume()
    assert resumed.iter == 10
    resumed.run()
    assert resumed.history["loss"] == straight.history["loss"]
    assert resumed.history["val_loss"] == straight.history["val_loss"]


def test_on_eval_runs_after_each_evaluation_and_its_numbers_are_logged(capsys):
    seen = []

    def on_eval(trainer):
        seen.append((trainer.iter, trainer.history["eval_iter"][-1]))
        return {"probe": trainer.iter / 100}

    Trainer(tiny_model(), random_data(), quiet(progress=True), on_eval=on_eval).run()
    assert seen == [(10, 10), (20, 20)]  # called once per evaluation, after the losses are recorded
    out = capsys.readouterr().out  # the log lines go where tqdm.write puts them, stdout
    assert "probe 0.100" in out and "probe 0.200" in out


def test_log_lines_without_a_progress_bar_are_printed_as_each_evaluation_ends(capsys):
    printed_by_then = []

    def on_eval(trainer):  # runs just before the log line of its own evaluation is printed
        printed_by_then.append(capsys.readouterr().out)

    Trainer(tiny_model(), random_data(), quiet(log=True), on_eval=on_eval).run()
    assert "step    10: train loss" in printed_by_then[1]  # the first line came out before training went on
    assert "step    20: train loss" in capsys.readouterr().out
    Trainer(tiny_model(), random_data(), quiet()).run()  # log follows progress by default: silent here
    assert capsys.readouterr().out == ""


def test_interrupt_keeps_the_work_and_writes_a_checkpoint(tmp_path):
    calls = {"n": 0}

    def interrupted_loss(model, batch):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        x, y = batch
        return model(x, y)[1]

    trainer = Trainer(tiny_model(), random_data(), quiet(checkpoint_dir=str(tmp_path)), loss_fn=interrupted_loss)
    trainer.run()
    assert trainer.interrupted and trainer.iter == 3
    assert load_checkpoint(tmp_path)["iter"] == 3


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"x": torch.ones(3)}, path)

    def failing_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError):
        save_checkpoint({"x": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["x"], torch.ones(3))  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["checkpoint.pt"]  # and no temporary file is left behind


class RunsCode:
    """A pickle payload that would create a file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": {}, "payload": RunsCode(marker)}, path)
    with pytest.raises(ValueError, match="refusing to load"):
        load_checkpoint(path)
    assert not marker.exists()


def test_a_checkpoint_from_an_incompatible_config_gets_a_clear_error(tmp_path):
    trainer = Trainer(tiny_model(), random_data(), quiet(max_iters=2, checkpoint_dir=str(tmp_path)))
    trainer.run()
    bigger = Trainer(tiny_model(n_embd=64), random_data(), quiet(checkpoint_dir=str(tmp_path)))
    with pytest.raises(ValueError, match=r"n_embd=32 \(model has 64\)"):
        bigger.resume()
    restored = load_model(tmp_path)  # builds the right shape from the checkpoint itself
    assert restored.config.n_embd == 32
    for a, b in zip(restored.parameters(), trainer.model.parameters()):
        assert torch.equal(a, b)


def test_batches_are_next_token_shifted_windows():
    tokens = torch.arange(100)
    data = LMData(tokens, block_size=8, batch_size=5, val_fraction=0.2)
    x, y = data.get_batch("train", torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1)
    assert int(x.max()) < 80 and int(data.get_batch("val")[0].min()) >= 80


def test_too_short_text_gets_a_clear_error():
    with pytest.raises(ValueError, match="block_size \\+ 1 = 65"):
        LMData(torch.arange(50), block_size=64, batch_size=4)


def test_load_text_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_text(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(ValueError, match="empty"):
        load_text(tmp_path / "empty.txt")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        load_text(tmp_path / "latin1.txt")
