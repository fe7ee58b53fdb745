# Raises in the handler: a function error, after which the environment stays usable.


def handler(event, context):
    raise ValueError("bad input on purpose")
