"""Real text, when you are online: download a public corpus once into a local cache.

The course never needs this (its default corpus, TinyWorld, is generated offline by
minigpt.tinyworld.generate_corpus()); it is the path to real data:

    path = download_text("tinyshakespeare")   # ~1 MB, fetched once, then read from the cache
    text = load_text(path)

Nothing here touches the network at import time, and nothing calls download_text by default.
"""
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

KNOWN_CORPORA = {
    "tinyshakespeare": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
}


class DownloadError(OSError):
    """The text could not be fetched; the message says what to do instead."""


def cache_directory(cache_dir=None):
    """cache_dir if given, else $MINIGPT_CACHE, else ~/.cache/minigpt."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("MINIGPT_CACHE"):
        return Path(os.environ["MINIGPT_CACHE"])
    return Path.home() / ".cache" / "minigpt"


def _url_and_filename(name_or_url):
    """A known name -> (its URL, 'name.txt'); a URL -> (itself, 'basename-<8 hex of the URL>.txt')."""
    if name_or_url in KNOWN_CORPORA:
        return KNOWN_CORPORA[name_or_url], f"{name_or_url}.txt"
    if urllib.parse.urlparse(name_or_url).scheme in ("http", "https"):
        stem = Path(urllib.parse.urlparse(name_or_url).path).stem or "download"
        digest = hashlib.sha256(name_or_url.encode("utf-8")).hexdigest()[:8]  # two URLs, two files
        return name_or_url, f"{stem}-{digest}.txt"
    raise ValueError(
        f"{name_or_url!r} is neither a known corpus ({', '.join(sorted(KNOWN_CORPORA))}) nor an http(s) URL; "
        "for a file you already have, use minigpt.load_text(path)"
    )


def download_text(name_or_url, cache_dir=None, timeout=30):
    """Path of a local copy of a named corpus or a URL, downloading it only if it is not cached yet.

    The file is written to a temporary name in the cache folder and then renamed, so an interrupted
    download never leaves a half file where a later call would take it for the whole.
    """
    url, filename = _url_and_filename(name_or_url)
    folder = cache_directory(cache_dir)
    path = folder / filename
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=folder, prefix=filename + ".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while chunk := response.read(1 << 16):
                out.write(chunk)
        os.chmod(partial, 0o644)  # mkstemp makes it private; a cache may be shared
        os.replace(partial, path)
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as err:
        if isinstance(err, urllib.error.HTTPError):
            reason = f"HTTP {err.code} {err.reason}"
        else:
            reason = getattr(err, "reason", None) or err
        raise DownloadError(
            f"could not download {url} ({reason}) (no network?). Put the file there yourself "
            f"({path}) or use the offline TinyWorld corpus: minigpt.tinyworld.generate_corpus()"
        ) from None
    finally:
        Path(partial).unlink(missing_ok=True)  # after a success it has already been renamed away
    return path
