# Sleeps INIT_SLEEP seconds at import: longer than Lambda's 10 s init limit by default.
import os
import subprocess
import time

# INIT_ORPHAN_PIDFILE: first start a process in a session of its own (out of the runtime's
# process group, as a daemon would) and append its pid to that file.
if os.environ.get("INIT_ORPHAN_PIDFILE"):
    orphan = subprocess.Popen(["sleep", "600"], start_new_session=True)
    with open(os.environ["INIT_ORPHAN_PIDFILE"], "a") as f:
        f.write(f"{orphan.pid}\n")

time.sleep(float(os.environ.get("INIT_SLEEP", "12")))


def handler(event, context):
    return {"ok": True}
