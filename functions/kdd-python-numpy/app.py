"""The study's KDD99 anomaly detector, computing with numpy (Handler app.handler).

  {"features": [duration, src_bytes, dst_bytes]} -> {"probability": p, "label": 0|1}
  {"instances": [[d, s, b], ...]}                -> {"predictions": [{"probability": p, "label": 0|1}, ...]}

The same function as kdd-python, but numpy is imported at module level and does the
arithmetic, so that this variant's cold start carries the import of a heavy numerical
library, as a real framework's would. The model artifact is unzipped at import too; reading
it and checking events is kdd.py's (functions/kdd-python/kdd.py, copied into this function's
code folder by the build), word for word the same as kdd-python's.
"""

import numpy as np

from kdd import artifact_path, load_model, rows_of

_mean, _std, _weights, BIAS, THRESHOLD = load_model(artifact_path())
MEAN, STD, WEIGHTS = np.array(_mean), np.array(_std), np.array(_weights)


def predict(rows):
    """A prediction for each row of raw features: the contract's arithmetic, vectorised.

    The dot product may add the three terms in another order than the contract's
    s = bias; s += w0*z0; ..., so results agree with the other runtimes to within rounding,
    not bit for bit.
    """
    x = np.array(rows, dtype=np.float64).reshape(-1, 3)  # reshape: an empty batch stays 2-D
    z = (np.log(x + 0.1) - MEAN) / STD
    s = BIAS + z @ WEIGHTS
    # exp(-|s|) is the contract's exp(-s) for s >= 0 and exp(s) below, and never overflows.
    e = np.exp(-np.abs(s))
    p = np.where(s >= 0, 1 / (1 + e), e / (1 + e))
    return [{"probability": float(pk), "label": 1 if pk >= THRESHOLD else 0} for pk in p]


def handler(event, context):
    rows, batch = rows_of(event)
    predictions = predict(rows)
    if batch:
        return {"predictions": predictions}
    return predictions[0]
