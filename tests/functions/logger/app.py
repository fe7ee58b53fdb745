# Writes event["lines"] lines "line 0" .. "line N-1" to stdout and one line to stderr.
import sys


def handler(event, context):
    for i in range(int(event.get("lines", 1))):
        print(f"line {i}")
    print("to stderr", file=sys.stderr)
    return {"ok": True}
