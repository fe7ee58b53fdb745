"""The study's KDD99 anomaly detector, on Python's standard library (Handler app.handler).

  {"features": [duration, src_bytes, dst_bytes]} -> {"probability": p, "label": 0|1}
  {"instances": [[d, s, b], ...]}                -> {"predictions": [{"probability": p, "label": 0|1}, ...]}

The model artifact is unzipped at import, so it is part of the cold start's Init phase, as in
the study. Reading it and checking events is kdd.py's, shared with kdd-python-numpy.
"""

import math

from kdd import artifact_path, load_model, rows_of

MEAN, STD, WEIGHTS, BIAS, THRESHOLD = load_model(artifact_path())


def probability(x):
    """P(anomaly) for one row of raw features, in the contract's order of operations."""
    z0 = (math.log(x[0] + 0.1) - MEAN[0]) / STD[0]
    z1 = (math.log(x[1] + 0.1) - MEAN[1]) / STD[1]
    z2 = (math.log(x[2] + 0.1) - MEAN[2]) / STD[2]
    s = BIAS
    s += WEIGHTS[0] * z0
    s += WEIGHTS[1] * z1
    s += WEIGHTS[2] * z2
    # Either form of the sigmoid, whichever cannot overflow for this sign of s.
    return 1 / (1 + math.exp(-s)) if s >= 0 else math.exp(s) / (1 + math.exp(s))


def predict(row):
    p = probability(row)
    return {"probability": p, "label": 1 if p >= THRESHOLD else 0}


def handler(event, context):
    rows, batch = rows_of(event)
    if batch:
        return {"predictions": [predict(row) for row in rows]}
    return predict(rows[0])
