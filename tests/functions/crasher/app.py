# Leaves the way the event says, without ever answering the invocation:
#   {"how": "exit", "code": N}   exit status N   (Lambda: Runtime.ExitError, "exit status N")
#   {"how": "exit0"}             exit status 0   (Lambda: "Runtime exited without providing a reason")
#   {"how": "signal"}            SIGSEGV, or {"signal": "SIGKILL"} etc. (Lambda: "signal: ...")
#   {"how": "orphan"}            starts `sleep 300` in a session of its own (out of reach of a
#                                process-group kill) and answers {"pid": ...}: only killing the
#                                whole cgroup ends it
# os._exit and os.kill, because sys.exit and exceptions would be caught and reported.
import os
import signal
import subprocess


def handler(event, context):
    how = event.get("how")
    if how == "exit":
        os._exit(int(event.get("code", 1)))
    if how == "exit0":
        os._exit(0)
    if how == "orphan":
        child = subprocess.Popen(["/bin/sleep", "300"], start_new_session=True)
        return {"pid": child.pid}
    if how == "signal":
        os.kill(os.getpid(), getattr(signal, event.get("signal", "SIGSEGV")))
    raise ValueError(f"unknown how: {how!r}")
