#!/usr/bin/env python3
"""Writes quantization-reference.json: what sentence-transformers' quantize_embeddings (and torch / numpy
for the half-precision types) make of a set of float32 vectors. The engine's OutputTypeReferenceTest checks
that qembed writes the same bytes. Run once with sentence-transformers, torch and numpy installed:

    python3 quantization_reference.py > quantization-reference.json
"""

import base64
import json

import numpy as np
import sentence_transformers
import torch
from sentence_transformers.util.quantization import quantize_embeddings


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def case(name, embeddings, calibration):
    embeddings = embeddings.astype(np.float32)
    calibration = calibration.astype(np.float32)
    out = {
        "name": name,
        "dimensions": int(embeddings.shape[1]),
        "embeddings": b64(embeddings.astype("<f4")),
        "calibration": b64(calibration.astype("<f4")),
        "calibration_count": int(calibration.shape[0]),
        "float": b64(embeddings.astype("<f4")),
        "float16": b64(embeddings.astype("<f2")),
        "bfloat16": b64(torch.from_numpy(embeddings).to(torch.bfloat16).view(torch.int16).numpy().astype("<i2")),
    }
    for precision in ("int8", "uint8"):
        out[precision] = b64(quantize_embeddings(embeddings, precision, calibration_embeddings=calibration))
    for precision in ("binary", "ubinary"):
        out[precision] = b64(quantize_embeddings(embeddings, precision))
    return out


def normalized(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


rng = np.random.default_rng(20261206)
cases = []
# Unit vectors as the engine hands them out, queries drawn like the calibration corpus: some fall
# outside its ranges and are clipped.
corpus = normalized(rng.standard_normal((120, 64)))
queries = normalized(rng.standard_normal((16, 64)))
cases.append(case("normalised-64", queries, corpus))
# A width that is not a multiple of 8 (binary pads the last byte), exact zeros (bit 0), values on the
# calibration's edges, and a dimension that never varies in the calibration (step 1).
corpus = rng.uniform(-2, 3, (50, 37))
corpus[:, 5] = 0.25
queries = rng.uniform(-2.5, 3.5, (8, 37))
queries[0, :] = 0.0
queries[1, :] = corpus.min(axis=0)
queries[2, :] = corpus.max(axis=0)
queries[3, 5] = 0.25
cases.append(case("edges-37", queries, corpus))
# Matryoshka-sized, wide vectors with a skewed calibration.
corpus = normalized(rng.standard_normal((80, 256)) + 0.3)
queries = normalized(rng.standard_normal((4, 256)))
cases.append(case("skewed-256", queries, corpus))

print(json.dumps({
    "generator": "sentence-transformers " + sentence_transformers.__version__ + ", numpy " + np.__version__
                 + ", torch " + torch.__version__,
    "cases": cases,
}, indent=1))
