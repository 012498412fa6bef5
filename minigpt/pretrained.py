"""OpenAI's GPT-2 weights, read from a Hugging Face checkpoint directory, in minigpt's GPT.

    gpt2 = load_gpt2("~/models/gpt2")  # a GPT in eval mode, weights in float32
    tokenizer = BPETokenizer.from_pretrained("~/models/gpt2")

A GPT-2 checkpoint on the Hugging Face Hub (https://huggingface.co/openai-community/gpt2) is a
directory with
    config.json           the shape of the network: n_layer, n_head, n_embd, n_positions, vocab_size, ...
    model.safetensors     the weights (older checkpoints: pytorch_model.bin, a torch.save pickle)
    vocab.json, merges.txt  the tokenizer, read by minigpt.BPETokenizer.from_pretrained

minigpt's parameter names are GPT-2's own, so loading is a short rename table with two twists:
- Hugging Face stores the weights under "transformer." (GPT2LMHeadModel) or without it (GPT2Model,
  and OpenAI's converted files); both are accepted.
- GPT-2's original code (TensorFlow) multiplied x @ W with W of shape (in, out), and Hugging Face's
  "Conv1D" layer keeps that layout. nn.Linear stores (out, in) and computes x @ W^T, so the four
  Conv1D matrices (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj) are transposed on the way in.

Nothing here touches the network, and nothing here imports transformers: the files are read by hand.
"""
import json
import os
import re
import struct
from pathlib import Path

import torch

from .checkpoint import load_checkpoint
from .model import GPT, GPTConfig

DOWNLOAD_HINT = (
    "To get GPT-2 (124M) when you are online, either run (with huggingface_hub installed)\n"
    "  hf download openai-community/gpt2 config.json model.safetensors vocab.json merges.txt "
    "--local-dir ~/models/gpt2\n"
    "(older huggingface_hub releases call the command huggingface-cli), or, with transformers installed, save\n"
    "GPT2LMHeadModel.from_pretrained('openai-community/gpt2') and GPT2Tokenizer.from_pretrained(...) into one\n"
    "directory with their save_pretrained. Then minigpt.load_gpt2('~/models/gpt2') and\n"
    "BPETokenizer.from_pretrained(...) read the files offline."
)

# Hugging Face's name for GPT-2's activation -> ours. "gelu_new" is the tanh approximation GPT-2 used.
ACTIVATIONS = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu"}

# The four matrices that GPT-2 stores as (in, out) and nn.Linear as (out, in).
CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")

# Buffers, not parameters: the causal mask ("attn.bias") and the value it filled in ("attn.masked_bias").
# minigpt builds its mask on the fly, so they are skipped.
IGNORED = re.compile(r"h\.\d+\.attn\.(bias|masked_bias)")


GPT2_FILES = ("config.json", "vocab.json", "merges.txt")  # plus the weights, in either format
DEFAULT_PLACES = ("~/models/gpt2",)


def find_local_gpt2(places=None):
    """The first directory that holds a complete GPT-2 checkpoint, or None; never touches the network.

    It looks in $MINIGPT_GPT2 (when set), then in each of `places` (default: ~/models/gpt2). A complete
    checkpoint has config.json, vocab.json, merges.txt and model.safetensors or pytorch_model.bin.
    """
    candidates = [os.environ["MINIGPT_GPT2"]] if os.environ.get("MINIGPT_GPT2") else []
    candidates += list(DEFAULT_PLACES if places is None else places)
    for candidate in candidates:
        path = Path(candidate).expanduser()
        has_weights = (path / "model.safetensors").is_file() or (path / "pytorch_model.bin").is_file()
        if has_weights and all((path / name).is_file() for name in GPT2_FILES):
            return path
    return None


def load_gpt2(path, device="cpu"):
    """A GPT with the weights of the Hugging Face GPT-2 checkpoint in directory `path`, in eval mode.

    Reads config.json and model.safetensors (or, if that is missing, pytorch_model.bin, loaded with
    torch.load(weights_only=True) so that it cannot run code). The weights become float32. Nothing is
    downloaded (DOWNLOAD_HINT says how); the tokenizer files in the same directory load with
    BPETokenizer.from_pretrained(path).
    """
    path = Path(path).expanduser()
    config_path = path / "config.json"
    weight_paths = [path / "model.safetensors", path / "pytorch_model.bin"]
    if not config_path.is_file():
        where = f"{path} has no config.json" if path.is_dir() else f"there is no directory {path}"
        raise FileNotFoundError(f"looked for a GPT-2 checkpoint at {path}, but {where}.\n{DOWNLOAD_HINT}")
    weights_path = next((p for p in weight_paths if p.is_file()), None)
    if weights_path is None:
        raise FileNotFoundError(
            f"{path} has config.json but no weights: looked for {weight_paths[0].name} and {weight_paths[1].name} "
            f"(a checkpoint split into shards is not supported).\n{DOWNLOAD_HINT}"
        )
    config = gpt_config_from_hf(json.loads(config_path.read_text(encoding="utf-8")), source=config_path)
    if weights_path.suffix == ".safetensors":
        state = read_safetensors(weights_path)
    else:
        state = load_checkpoint(weights_path)  # weights-only: a pickle that would run code is refused
    model = GPT(config)
    params = model.state_dict()  # shares memory with the model's parameters
    with torch.no_grad():
        for name, tensor in our_state_dict(state, model, source=weights_path).items():
            params[name].copy_(tensor)
    return model.to(device).eval()


def gpt_config_from_hf(hf, source="config.json"):
    """Hugging Face's GPT2Config (as the dict in config.json) -> our GPTConfig."""
    if hf.get("model_type", "gpt2") != "gpt2":
        raise ValueError(f"{source} describes a {hf['model_type']!r} model; load_gpt2 reads GPT-2 checkpoints only")
    missing = [k for k in ("n_layer", "n_head", "n_embd", "n_positions", "vocab_size") if k not in hf]
    if missing:
        raise ValueError(f"{source} has no {', '.join(missing)}; a GPT-2 config.json names all of n_layer, "
                         "n_head, n_embd, n_positions and vocab_size")
    activation = hf.get("activation_function", "gelu_new")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{source}: activation_function={activation!r} is not supported; minigpt's GPT computes "
                         "'gelu_new' or 'gelu_pytorch_tanh' (the tanh approximation GPT-2 used) and 'gelu' (exact)")
    # Variations of GPT-2 that Hugging Face supports and minigpt's blocks do not compute.
    if hf.get("n_inner") not in (None, 4 * hf["n_embd"]):
        raise ValueError(f"{source}: n_inner={hf['n_inner']}, but minigpt's MLP has "
                         f"4 * n_embd = {4 * hf['n_embd']} units")
    for key, gpt2_value in (("scale_attn_weights", True), ("scale_attn_by_inverse_layer_idx", False),
                            ("add_cross_attention", False)):
        if hf.get(key, gpt2_value) != gpt2_value:
            raise ValueError(f"{source}: {key}={hf[key]!r}, but minigpt only computes GPT-2's {key}={gpt2_value}")
    return GPTConfig(
        vocab_size=hf["vocab_size"],
        block_size=hf["n_positions"],
        n_layer=hf["n_layer"],
        n_head=hf["n_head"],
        n_embd=hf["n_embd"],
        dropout=0.0,  # for inference; GPT-2 was trained with 0.1 (the *_pdrop entries of config.json)
        activation=ACTIVATIONS[activation],
        layer_norm_epsilon=hf.get("layer_norm_epsilon", 1e-5),
        tie_weights=hf.get("tie_word_embeddings", True),
    )


def our_state_dict(hf_state, model, source="the checkpoint"):
    """Rename (and, for Conv1D, transpose) Hugging Face's GPT-2 tensors to `model`'s parameter names.

    Every parameter of `model` must be found, with the right shape; a tensor left over is an error too.
    """
    expected = model.state_dict()
    tied = model.config.tie_weights
    renamed, extra = {}, []
    for hf_name, tensor in hf_state.items():
        name = hf_name.removeprefix("transformer.")
        if IGNORED.fullmatch(name) or (tied and name == "lm_head.weight"):
            continue  # a buffer, or the unembedding that is wte itself
        if name != "lm_head.weight":
            name = "transformer." + name
        if name not in expected:
            extra.append(hf_name)
            continue
        conv1d = name.endswith(CONV1D_WEIGHTS)
        want = expected[name].shape[::-1] if conv1d else expected[name].shape  # as stored in the file
        if tensor.shape != want:
            raise ValueError(f"{source}: {hf_name} has shape {tuple(tensor.shape)}, but a GPT-2 with "
                             f"{_shape_summary(model.config)} needs {tuple(want)}"
                             + (" (Conv1D layout: in_features x out_features)" if conv1d else ""))
        renamed[name] = (tensor.t() if conv1d else tensor).float()
    missing = [name for name in expected if name not in renamed and not (tied and name == "lm_head.weight")]
    if missing:
        raise ValueError(f"{source} has no weights for {', '.join(missing)} (looked for "
                         f"{missing[0].removeprefix('transformer.')}, with or without the 'transformer.' prefix); "
                         "is it a complete GPT-2 checkpoint?")
    if extra:
        raise ValueError(f"{source} has weights that a GPT-2 language model does not: {', '.join(extra)}; "
                         "load_gpt2 reads GPT2LMHeadModel and GPT2Model checkpoints")
    return renamed


def _shape_summary(config):
    return (f"n_layer={config.n_layer}, n_head={config.n_head}, n_embd={config.n_embd}, "
            f"block_size={config.block_size}, vocab_size={config.vocab_size}")


# safetensors dtype names -> torch dtypes. GPT-2's files are F32; F16 and BF16 halve the download.
SAFETENSORS_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}


def read_safetensors(path):
    """Read a .safetensors file into {name: tensor}, without the safetensors package.

    The format (https://huggingface.co/docs/safetensors) is three parts, one after the other:
        8 bytes    N, the header's length, an unsigned little-endian integer
        N bytes    a JSON header {name: {"dtype": "F32", "shape": [768, 2304], "data_offsets": [begin, end]},
                   ..., "__metadata__": {...}}, offsets counted from the end of the header
        the rest   every tensor's raw bytes, little-endian, row-major
    Unlike a pickle it holds only data, so reading a stranger's file cannot run code.
    """
    data = bytearray(Path(path).read_bytes())  # writable, so torch.frombuffer can view it without a warning
    corrupt = f"{path} is not a valid safetensors file (truncated or corrupt download?): "
    if len(data) < 8:
        raise ValueError(corrupt + f"it has {len(data)} bytes, fewer than the 8 of the header's length")
    (header_len,) = struct.unpack("<Q", data[:8])
    if 8 + header_len > len(data):
        raise ValueError(corrupt + f"the header says it is {header_len} bytes long, but the file has {len(data)}")
    try:
        header = json.loads(data[8 : 8 + header_len])
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(corrupt + f"its header is not JSON ({err})") from None
    tensors, start = {}, 8 + header_len  # where the tensor bytes begin
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype_name, shape, (begin, end) = info["dtype"], torch.Size(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise ValueError(corrupt + f"tensor {name} has no dtype, shape and data_offsets: {info!r}") from None
        if dtype_name not in SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype_name}; "
                             f"minigpt reads {', '.join(SAFETENSORS_DTYPES)}")
        dtype, count = SAFETENSORS_DTYPES[dtype_name], shape.numel()
        if begin < 0 or end - begin != count * dtype.itemsize or start + end > len(data):
            raise ValueError(corrupt + f"tensor {name} ({dtype_name}, shape {list(shape)}) should fill bytes "
                             f"{begin}..{end} after the header, but only {len(data) - start} bytes follow the header")
        if count == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(data, dtype=dtype, count=count, offset=start + begin).view(shape)
    return tensors
