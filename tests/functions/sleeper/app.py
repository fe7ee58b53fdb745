# Sleeps event["seconds"]; with Timeout 1 it drives the timeout tests.
import time


def handler(event, context):
    seconds = event["seconds"]
    time.sleep(seconds)
    return {"slept": seconds}
