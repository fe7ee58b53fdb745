"""What kdd-python and kdd-python-numpy share: reading the model artifact and checking events.

Both functions' code folders get a copy of this file (functions/kdd-python/CMakeLists.txt);
only the arithmetic differs between them. The event checks and their messages are shared
word for word with kdd-java and kdd-native.
"""

import json
import math
import os
import zipfile

FORMAT = "coldlab-kdd-logreg/1"
FEATURES = ["duration", "src_bytes", "dst_bytes"]
TRANSFORM = "log(x + 0.1)"

NOT_AN_OBJECT = 'the event must be a JSON object with "features" or "instances"'
NOT_ONE_KEY = 'the event must have exactly one of "features" or "instances"'
BAD_FEATURES = '"features" must be an array of 3 numbers [duration, src_bytes, dst_bytes]'
BAD_INSTANCES = '"instances" must be an array of [duration, src_bytes, dst_bytes] arrays'
BAD_INSTANCE = "instance {} must be an array of 3 numbers [duration, src_bytes, dst_bytes]"
BAD_VALUES = "feature values must be finite and >= 0"


class InvalidEvent(Exception):
    """A bad event: a handled function error, of type "InvalidEvent" in every runtime."""


class ModelLoadError(Exception):
    """The model artifact cannot be used, so the function cannot start."""


# The runtime client types an error by its exception class's __name__, as awslambdaric does.
# Failing to load the model is typed like the platform's own init errors, dots and all.
ModelLoadError.__name__ = ModelLoadError.__qualname__ = "Runtime.ModelLoadError"


def artifact_path():
    """$MODEL_ARTIFACT (absolute, or relative to the code folder), else <code folder>/model.zip."""
    root = os.environ.get("LAMBDA_TASK_ROOT") or "."
    # join() keeps an absolute second part as it is.
    return os.path.join(root, os.environ.get("MODEL_ARTIFACT") or "model.zip")


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def to_float(value):
    try:
        return float(value)
    except OverflowError:  # an integer too big for any double is not a finite value
        return math.inf


def load_model(path):
    """The artifact's mean, std, weights, bias and threshold, accepted on kdd-native's terms."""
    def fail(problem):
        return ModelLoadError(f"model artifact {path}: {problem}")

    if not os.path.isfile(path):
        raise fail("no such file")
    try:
        artifact = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise fail("not a zip archive")
    except OSError as e:
        raise fail(f"cannot open: {e}")
    with artifact:
        try:
            text = artifact.read("model.json")
        except KeyError:
            raise fail("the archive has no model.json entry")
        except Exception as e:  # a damaged entry: BadZipFile (bad CRC), zlib.error, EOFError
            raise fail(f"cannot read model.json: {e}")
    try:
        model = json.loads(text)
    except ValueError as e:
        raise fail(f"model.json is not valid JSON: {e}")

    def invalid(problem):
        return fail(f"model.json: {problem}")

    def number(value, what):
        if not is_number(value) or not math.isfinite(to_float(value)):
            raise invalid(f"{what} must be a finite number")
        return float(value)

    def vector(key):
        v = model.get(key)
        if not isinstance(v, list) or len(v) != 3:
            raise invalid(f'"{key}" must be an array of 3 numbers')
        return [number(x, f'"{key}"[{i}]') for i, x in enumerate(v)]

    if not isinstance(model, dict):
        raise invalid("must be a JSON object")
    for key, expected in (("format", FORMAT), ("features", FEATURES), ("transform", TRANSFORM)):
        if model.get(key) != expected:
            raise invalid(f'"{key}" must be {json.dumps(expected, separators=(",", ":"))}')
    mean, std = vector("mean"), vector("std")
    for i, s in enumerate(std):
        if not s > 0:
            raise invalid(f'"std"[{i}] must be > 0 (it divides)')
    weights = vector("weights")
    bias = number(model.get("bias"), '"bias"')
    threshold = number(model.get("threshold"), '"threshold"')
    if not 0 <= threshold <= 1:
        raise invalid('"threshold" must be in [0, 1]')
    return mean, std, weights, bias, threshold


def features(value):
    """[d, s, b] as floats, or None unless value is an array of exactly 3 numbers."""
    if not isinstance(value, list) or len(value) != 3 or not all(is_number(v) for v in value):
        return None
    return [to_float(v) for v in value]


def usable(row):
    return all(x >= 0 and math.isfinite(x) for x in row)  # x >= 0 is False for NaN


def rows_of(event):
    """The event's feature rows, and whether it is a batch; InvalidEvent if it is bad."""
    if not isinstance(event, dict):
        raise InvalidEvent(NOT_AN_OBJECT)
    if ("features" in event) == ("instances" in event):
        raise InvalidEvent(NOT_ONE_KEY)
    if "features" in event:
        row = features(event["features"])
        if row is None:
            raise InvalidEvent(BAD_FEATURES)
        if not usable(row):
            raise InvalidEvent(BAD_VALUES)
        return [row], False
    instances = event["instances"]
    if not isinstance(instances, list):
        raise InvalidEvent(BAD_INSTANCES)
    rows = []
    for k, instance in enumerate(instances):
        row = features(instance)
        if row is None:
            raise InvalidEvent(BAD_INSTANCE.format(k))
        if not usable(row):
            raise InvalidEvent(f"instance {k}: {BAD_VALUES}")
        rows.append(row)
    return rows, True
