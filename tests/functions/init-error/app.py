# Fails at import, so every cold start fails in the Init phase.
raise RuntimeError("init failed on purpose")


def handler(event, context):
    return {"unreachable": True}
