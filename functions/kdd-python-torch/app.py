"""The study's KDD99 anomaly detector, served by PyTorch (Handler app.handler).

  {"features": [duration, src_bytes, dst_bytes]} -> {"probability": p, "label": 0|1}
  {"instances": [[d, s, b], ...]}                -> {"predictions": [{"probability": p, "label": 0|1}, ...]}

The same model as every KDD variant, loaded the way the study's function loaded its
TensorFlow model: the framework is imported and the model built at Init, its weights read
from the model artifact (unzipped and checked by kdd.py, word for word kdd-python's). The
model is a torch.nn.Linear(3, 1) followed by a sigmoid, in float64, the trainer's precision:
in float32 a probability near the threshold could round to the other label.
"""

import torch

from kdd import artifact_path, load_model, rows_of

_mean, _std, _weights, _bias, THRESHOLD = load_model(artifact_path())

MEAN = torch.tensor(_mean, dtype=torch.float64)
STD = torch.tensor(_std, dtype=torch.float64)
MODEL = torch.nn.Sequential(torch.nn.Linear(3, 1, dtype=torch.float64), torch.nn.Sigmoid())
with torch.no_grad():
    MODEL[0].weight.copy_(torch.tensor([_weights], dtype=torch.float64))
    MODEL[0].bias.fill_(_bias)
MODEL.eval()


def predict(rows):
    """A prediction for each row of raw features: standardised log features through the model.

    torch adds the dot product's terms in its own order and computes the sigmoid its own way,
    so results agree with the other runtimes to within rounding (docs/kdd.md), not bit for bit.
    """
    x = torch.tensor(rows, dtype=torch.float64).reshape(-1, 3)  # reshape: an empty batch stays 2-D
    z = (torch.log(x + 0.1) - MEAN) / STD
    with torch.inference_mode():
        p = MODEL(z).reshape(-1).tolist()
    return [{"probability": pk, "label": 1 if pk >= THRESHOLD else 0} for pk in p]


def handler(event, context):
    rows, batch = rows_of(event)
    predictions = predict(rows)
    if batch:
        return {"predictions": predictions}
    return predictions[0]
