import functools
import http.server
import threading

import pytest

from minigpt.corpus import KNOWN_CORPORA, DownloadError, cache_directory, download_text

TEXT = "first citizen:\nbefore we proceed any further, hear me speak.\n" * 50


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = []  # paths asked for, in order

    def do_GET(self):
        QuietHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A local web server for tmp_path/site on 127.0.0.1, on a free port, in a daemon thread."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "input.txt").write_text(TEXT, encoding="utf-8")
    QuietHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.stop = lambda: (httpd.shutdown(), httpd.server_close(), thread.join(timeout=5))
    yield httpd
    if thread.is_alive():
        httpd.stop()


def test_download_writes_the_file_into_the_cache_and_then_uses_it_offline(server, tmp_path):
    cache = tmp_path / "cache"
    path = download_text(server.base_url + "/input.txt", cache_dir=cache, timeout=5)
    assert path.parent == cache and path.read_text(encoding="utf-8") == TEXT
    assert QuietHandler.requests == ["/input.txt"]
    assert not list(cache.glob("*.part"))  # the temporary file was renamed, not left behind
    server.stop()
    again = download_text(server.base_url + "/input.txt", cache_dir=cache, timeout=5)
    assert again == path and again.read_text(encoding="utf-8") == TEXT
    assert QuietHandler.requests == ["/input.txt"]


def test_different_urls_get_different_cache_files(server, tmp_path):
    (tmp_path / "site" / "other").mkdir()
    (tmp_path / "site" / "other" / "input.txt").write_text("other text\n", encoding="utf-8")
    first = download_text(server.base_url + "/input.txt", cache_dir=tmp_path / "cache", timeout=5)
    second = download_text(server.base_url + "/other/input.txt", cache_dir=tmp_path / "cache", timeout=5)
    assert first != second and second.read_text(encoding="utf-8") == "other text\n"


def test_a_missing_file_gives_a_clear_error_and_leaves_no_file(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as info:
        download_text(server.base_url + "/nothing.txt", cache_dir=cache, timeout=5)
    message = str(info.value)
    assert "could not download" in message and "404" in message
    assert "minigpt.tinyworld.generate_corpus()" in message
    assert not list(cache.iterdir())


def test_a_refused_connection_says_no_network_and_points_to_tinyworld(server, tmp_path):
    url = server.base_url + "/input.txt"
    server.stop()
    with pytest.raises(DownloadError, match=r"could not download .*\(no network\?\).*generate_corpus\(\)"):
        download_text(url, cache_dir=tmp_path / "cache", timeout=5)


def test_known_names_map_to_urls_and_a_cached_copy_needs_no_network(tmp_path):
    assert KNOWN_CORPORA["tinyshakespeare"].endswith("/tinyshakespeare/input.txt")
    (tmp_path / "tinyshakespeare.txt").write_text(TEXT, encoding="utf-8")
    assert download_text("tinyshakespeare", cache_dir=tmp_path) == tmp_path / "tinyshakespeare.txt"


def test_cache_folder_comes_from_the_argument_then_the_environment_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGPT_CACHE", str(tmp_path / "env"))
    assert cache_directory(tmp_path / "arg") == tmp_path / "arg"
    assert cache_directory() == tmp_path / "env"
    monkeypatch.delenv("MINIGPT_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_directory() == tmp_path / "home" / ".cache" / "minigpt"


def test_environment_variable_is_used_by_download(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGPT_CACHE", str(tmp_path / "env"))
    path = download_text(server.base_url + "/input.txt", timeout=5)
    assert path.parent == tmp_path / "env"


def test_an_unknown_name_is_rejected_without_touching_the_network():
    with pytest.raises(ValueError, match="neither a known corpus .*tinyshakespeare"):
        download_text("shakespeare_complete")
