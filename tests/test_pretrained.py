"""GPT-2 checkpoints in Hugging Face's format, checked against Hugging Face itself.

The reference is an independent implementation: a tiny random transformers.GPT2LMHeadModel, saved the
way the Hub stores GPT-2, must give the same logits and the same greedy continuation once loaded into
minigpt's GPT; a tokenizer trained by Hugging Face's `tokenizers` must give the same token ids through
minigpt's BPETokenizer. transformers is imported inside the fixtures: it is slow to import and only
the tests need it.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from minigpt import BPETokenizer
from minigpt.pretrained import find_local_gpt2, load_gpt2

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)


def tiny_hf_gpt2(activation_function="gelu_new", seed=0):
    """A small random GPT-2 from transformers, in eval mode.

    Every parameter gets extra noise, so that LayerNorm weights and biases (initialised to 1 and 0)
    matter too, and a square matrix loaded without its transpose (attn.c_proj) changes the logits.
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(**TINY, activation_function=activation_function, bos_token_id=None, eos_token_id=None)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model


def save_as_pytorch_model_bin(hf_model, directory):
    """config.json + pytorch_model.bin laid out as OpenAI's GPT-2 on the Hub: no "transformer." prefix and the
    causal-mask buffers attn.bias / attn.masked_bias saved alongside. (transformers 5 writes only safetensors.)"""
    hf_model.config.save_pretrained(directory)
    state = {k.removeprefix("transformer."): v for k, v in hf_model.state_dict().items() if k != "lm_head.weight"}
    for i in range(hf_model.config.n_layer):
        n = hf_model.config.n_positions
        state[f"h.{i}.attn.bias"] = torch.ones(n, n, dtype=torch.bool).tril().view(1, 1, n, n)
        state[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    torch.save(state, Path(directory) / "pytorch_model.bin")


@pytest.fixture(scope="module")
def hf_model():
    return tiny_hf_gpt2()


@pytest.fixture(scope="module", params=["model.safetensors", "pytorch_model.bin"])
def checkpoint_dir(request, hf_model, tmp_path_factory):
    directory = tmp_path_factory.mktemp(request.param.replace(".", "_"))
    if request.param == "model.safetensors":
        hf_model.save_pretrained(directory)  # keys with the "transformer." prefix, lm_head left out (tied)
    else:
        save_as_pytorch_model_bin(hf_model, directory)
    assert {p.name for p in directory.iterdir()} >= {"config.json", request.param}
    return directory


def test_logits_match_hugging_face_gpt2(checkpoint_dir, hf_model):
    model = load_gpt2(checkpoint_dir)
    assert not model.training
    generator = torch.Generator().manual_seed(1)
    worst = 0.0
    for batch, length in [(1, 1), (3, 17), (2, 64)]:  # 64 = n_positions, the whole context
        idx = torch.randint(0, TINY["vocab_size"], (batch, length), generator=generator)
        with torch.no_grad():
            ours, _ = model(idx)
            theirs = hf_model(idx).logits
        worst = max(worst, (ours - theirs).abs().max().item())
    print(f"largest logit difference from Hugging Face: {worst:.2e}")
    assert worst < 1e-5


def test_greedy_generation_matches_hugging_face_gpt2(checkpoint_dir, hf_model):
    model = load_gpt2(checkpoint_dir)
    prompt = torch.randint(0, TINY["vocab_size"], (2, 6), generator=torch.Generator().manual_seed(2))
    theirs = hf_model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False, max_new_tokens=20)
    ours = model.generate(prompt, max_new_tokens=20, temperature=0)
    assert theirs.shape == (2, 26)
    assert ours.tolist() == theirs.tolist()


def test_exact_gelu_checkpoint_matches_hugging_face(tmp_path):
    hf_model = tiny_hf_gpt2(activation_function="gelu", seed=3)
    hf_model.save_pretrained(tmp_path)
    model = load_gpt2(tmp_path)
    assert model.config.activation == "gelu"
    idx = torch.randint(0, TINY["vocab_size"], (2, 9), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert (model(idx)[0] - hf_model(idx).logits).abs().max() < 1e-5


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_reduced_precision_safetensors_load_as_float32(tmp_path, hf_model, dtype):
    from safetensors.torch import save_file

    hf_model.config.save_pretrained(tmp_path)
    state = {k: v.to(dtype) for k, v in hf_model.state_dict().items() if k != "lm_head.weight"}
    save_file(state, tmp_path / "model.safetensors")  # written by the safetensors library, read by ours
    model = load_gpt2(tmp_path)
    ln = model.transformer.h[1].ln_2.weight
    assert ln.dtype == torch.float32
    assert torch.equal(ln, state["transformer.h.1.ln_2.weight"].float())
    assert torch.equal(model.transformer.h[0].mlp.c_fc.weight, state["transformer.h.0.mlp.c_fc.weight"].float().t())


class RunsCode:
    """A pickle payload that would create a file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def write_config(directory, **changes):
    config = {"model_type": "gpt2", "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, **TINY, **changes}
    (Path(directory) / "config.json").write_text(json.dumps(config))


def test_a_pytorch_model_bin_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "code-ran"
    write_config(tmp_path)
    torch.save({"wte.weight": torch.zeros(3), "payload": RunsCode(marker)}, tmp_path / "pytorch_model.bin")
    with pytest.raises(ValueError, match="refusing to load .*could run arbitrary code"):
        load_gpt2(tmp_path)
    assert not marker.exists()


def test_unsupported_activation_gets_a_clear_error(tmp_path):
    write_config(tmp_path, activation_function="relu")
    (tmp_path / "model.safetensors").write_bytes(b"")  # never read: the config is checked first
    with pytest.raises(ValueError, match=r"activation_function='relu' is not supported.*'gelu_new'"):
        load_gpt2(tmp_path)


def test_a_missing_weight_is_named(tmp_path, hf_model):
    from safetensors.torch import save_file

    hf_model.config.save_pretrained(tmp_path)
    left_out = ("lm_head.weight", "transformer.h.1.mlp.c_fc.weight")
    state = {k: v for k, v in hf_model.state_dict().items() if k not in left_out}
    save_file(state, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match=r"no weights for transformer\.h\.1\.mlp\.c_fc\.weight"):
        load_gpt2(tmp_path)


def test_a_weight_of_the_wrong_shape_is_named_with_the_shape_expected(checkpoint_dir, tmp_path):
    for f in checkpoint_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    write_config(tmp_path, vocab_size=101)
    with pytest.raises(ValueError, match=r"wte\.weight has shape \(100, 32\), but .* needs \(101, 32\)"):
        load_gpt2(tmp_path)


def test_a_truncated_safetensors_file_gets_a_clear_error(tmp_path, hf_model):
    hf_model.save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(ValueError, match="not a valid safetensors file .truncated or corrupt"):
        load_gpt2(tmp_path)


def test_a_missing_checkpoint_says_where_it_looked_and_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)nowhere.*hf download openai-community/gpt2 config.json"):
        load_gpt2(tmp_path / "nowhere")
    write_config(tmp_path)  # a config without weights
    with pytest.raises(FileNotFoundError, match=r"no weights: looked for model\.safetensors and pytorch_model\.bin"):
        load_gpt2(tmp_path)


def test_loading_never_imports_hugging_face_libraries(checkpoint_dir):
    code = (
        "import sys; from minigpt import load_gpt2; load_gpt2(sys.argv[1]); "
        "print(sorted(m for m in ('transformers', 'tokenizers', 'safetensors', 'huggingface_hub') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(checkpoint_dir)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


TRAINING_TEXT = """\
The quick brown fox jumps over the lazy dog. The dog didn't mind; it's been there before, and it'll be there again.
In 1984, 42 people walked 3.5 km to the café on the Rue de la Paix, where naïve tourists paid €12 for coffee.
Numbers like 2024, 365 and 1000000 appear in text; so do symbols: #, @, %, &&, ->, ==, and ... ellipses!
  Indented lines,\ttabs\tand   runs of spaces   matter to a byte-level tokenizer.
We've seen that they're the ones who'd know. I'm sure you'll agree: the THE The tHe.
<|endoftext|>
A second document begins here. Über-smart façades; São Paulo; Zürich; Ångström; piñata.
def encode(text): return [ord(c) for c in text]  # code is text too
"""

TEST_TEXT = (
    "Hello, world! The café's naïve owner said: \"we'll see\" 👋🏽🎉 — 東京タワー、北京 和 서울."
    "\n\n  \t"
    "Prices: 3.14159, 1,000,000 and 2024-05-17.   Trailing spaces   \n"
    "<|endoftext|>New document<|endoftext|><|endoftext|> don't  DON'T\r\n\tend "
)


def test_tokenizer_files_from_hugging_face_tokenizers_give_the_same_ids(tmp_path):
    from tokenizers import ByteLevelBPETokenizer

    reference = ByteLevelBPETokenizer()  # add_prefix_space=False, as GPT-2
    reference.train_from_iterator([TRAINING_TEXT] * 3, vocab_size=400, min_frequency=2,
                                  special_tokens=["<|endoftext|>"], show_progress=False)
    reference.save_model(str(tmp_path))  # vocab.json + merges.txt
    ours = BPETokenizer.from_pretrained(tmp_path)
    assert ours.vocab_size == reference.get_vocab_size()
    for text in (TEST_TEXT, TRAINING_TEXT):
        ids = ours.encode(text)
        assert ids == reference.encode(text).ids
        assert ours.decode(ids) == text
    assert ours.encode("<|endoftext|>") == [reference.token_to_id("<|endoftext|>")]


def test_find_local_gpt2_takes_the_first_complete_directory_and_never_a_partial_one(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGPT_GPT2", raising=False)
    partial, complete, other = tmp_path / "partial", tmp_path / "complete", tmp_path / "other"
    for directory, names in ((partial, ["config.json", "model.safetensors", "vocab.json"]),  # no merges.txt
                             (complete, ["config.json", "pytorch_model.bin", "vocab.json", "merges.txt"]),
                             (other, ["config.json", "model.safetensors", "vocab.json", "merges.txt"])):
        directory.mkdir()
        for name in names:
            (directory / name).write_text("{}")
    assert find_local_gpt2([tmp_path / "missing", partial, complete, other]) == complete
    assert find_local_gpt2([partial]) is None and find_local_gpt2([]) is None
    monkeypatch.setenv("MINIGPT_GPT2", str(other))  # the environment variable is looked at first
    assert find_local_gpt2([complete]) == other
