"""Pick the fastest device available: cuda, then mps (Apple silicon), then cpu."""
import torch


def pick_device(preferred=None):
    """Return a torch.device: `preferred` if given ("cpu", "cuda", "mps"), else the best one present.

    CPU is the course's tested path; everything also runs on a GPU when there is one.
    """
    if preferred is not None:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but torch sees no CUDA GPU; use 'cpu'")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError("device 'mps' was asked for but this machine has no Apple-silicon GPU; use 'cpu'")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
