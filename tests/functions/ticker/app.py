# Counts in a background thread from Init on, one tick per millisecond while it may run;
# returns the count. Between invocations a frozen environment's count stands still.
import threading
import time

ticks = 0


def _count():
    global ticks
    while True:
        time.sleep(0.001)
        ticks += 1


threading.Thread(target=_count, daemon=True).start()


def handler(event, context):
    return {"ticks": ticks}
