# Sleeps INIT_SLEEP seconds at import: longer than Lambda's 10 s init limit by default.
import os
import time

time.sleep(float(os.environ.get("INIT_SLEEP", "12")))


def handler(event, context):
    return {"ok": True}
