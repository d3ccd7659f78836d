"""Model file resolution: explicit, environment, cache, checked download, offline error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from skelbehave.errors import ModelFileError, SkelbehaveError
from skelbehave.pose import models
from skelbehave.pose.models import (
    MODEL_CHECKSUMS,
    MODEL_URLS,
    PoseModelChecksumError,
    PoseModelNotFoundError,
    download_model,
    resolve_model,
)


@pytest.fixture
def model_file(shared_dir) -> Path:
    p = shared_dir / "models" / "pose_landmarker_full.task"
    assert p.is_file(), f"test model missing at {p}"
    return p


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("SKELBEHAVE_CACHE_DIR", str(d))
    monkeypatch.delenv("SKELBEHAVE_POSE_MODEL", raising=False)
    return d


def _sha(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def test_published_checksums_are_pinned():
    assert MODEL_CHECKSUMS["full"] == (
        9_398_198,
        "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",
    )
    assert MODEL_CHECKSUMS["lite"] == (
        5_777_746,
        "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a",
    )
    assert MODEL_URLS["lite"].endswith("pose_landmarker_lite/float16/1/pose_landmarker_lite.task")


def test_explicit_path_bytes_and_env(model_file, cache, monkeypatch, tmp_path):
    assert resolve_model(model_file) == model_file
    assert resolve_model(str(model_file)) == model_file
    assert resolve_model(b"abc") == b"abc"
    with pytest.raises(PoseModelNotFoundError, match="does not exist"):
        resolve_model(tmp_path / "nope.task")
    with pytest.raises(ModelFileError):
        resolve_model(b"")
    monkeypatch.setenv("SKELBEHAVE_POSE_MODEL", str(model_file))
    assert resolve_model() == model_file
    monkeypatch.setenv("SKELBEHAVE_POSE_MODEL", str(tmp_path / "missing.task"))
    with pytest.raises(PoseModelNotFoundError, match="SKELBEHAVE_POSE_MODEL"):
        resolve_model()


def test_download_checks_and_caches(model_file, cache, monkeypatch):
    monkeypatch.setitem(MODEL_URLS, "full", model_file.as_uri())
    monkeypatch.setitem(MODEL_CHECKSUMS, "full", _sha(model_file))
    got = resolve_model()  # not cached: "downloads" from the file:// URL
    assert got == cache / "pose_landmarker_full.task"
    assert _sha(got) == _sha(model_file)
    assert sorted(p.name for p in cache.iterdir()) == ["pose_landmarker_full.task"]  # no temp file left
    # second call: from the cache, no download (the URL now points nowhere)
    monkeypatch.setitem(MODEL_URLS, "full", "http://127.0.0.1:9/unreachable.task")
    assert resolve_model("full") == got


def test_download_rejects_wrong_size_and_wrong_hash(model_file, cache, monkeypatch, tmp_path):
    wrong = tmp_path / "wrong.task"
    wrong.write_bytes(b"not a model" * 100)
    monkeypatch.setitem(MODEL_URLS, "full", wrong.as_uri())
    with pytest.raises(PoseModelChecksumError, match=r"expected 9,398,198 bytes .* found 1,100 bytes"):
        resolve_model()
    assert not cache.exists() or not any(cache.iterdir())  # nothing written
    # right size, wrong content
    size, sha = _sha(model_file)
    wrong.write_bytes(b"\0" * size)
    monkeypatch.setitem(MODEL_CHECKSUMS, "full", (size, sha))
    with pytest.raises(PoseModelChecksumError, match=sha):
        download_model("full")
    assert not cache.exists() or not any(cache.iterdir())


def test_offline_error_says_where_to_put_the_model(cache, monkeypatch):
    url = "http://127.0.0.1:9/pose_landmarker_full.task"  # nothing listens on the discard port
    monkeypatch.setitem(MODEL_URLS, "full", url)
    with pytest.raises(PoseModelNotFoundError) as info:
        resolve_model()
    msg = str(info.value)
    assert url in msg and "SKELBEHAVE_POSE_MODEL" in msg and str(cache / "pose_landmarker_full.task") in msg
    assert isinstance(info.value, SkelbehaveError) and isinstance(info.value, FileNotFoundError)
    with pytest.raises(PoseModelNotFoundError, match="no MediaPipe pose model file was found"):
        resolve_model(download=False)
    with pytest.raises(ValueError, match="variant"):
        resolve_model(variant="huge")


def test_cache_dir_default_is_per_user(monkeypatch):
    monkeypatch.delenv("SKELBEHAVE_CACHE_DIR", raising=False)
    d = models.cache_dir()
    assert "skelbehave" in str(d)
