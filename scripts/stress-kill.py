#!/usr/bin/python3
"""Stress under faults: many clients invoke echo and echo-python while function processes are
SIGKILLed at random; counts every kind of answer and checks each against the log.

usage: scripts/stress-kill.py [--build build] [--seconds 60] [--clients 64] [--kill-ms 100]
                              [-- extra coldlab serve arguments]

An answer is Lambda-shaped if it is 200 with exactly the event (echo), 200 with
X-Amz-Function-Error and a JSON error body, or an error status with a JSON body. Anything
else is counted under "BAD"; so is an answered request id without exactly one invocations
row of the matching status. Exits 1 if anything was BAD. This is a measurement tool, not a
test: its figures depend on the machine (tests/integration/test_faults.cpp is the test).
"""
import argparse
import collections
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties: {{FunctionName: echo, Runtime: provided.al2023, Handler: bootstrap,
                 CodeUri: "{build}/functions/echo", MemorySize: 128, Timeout: 3}}
  EchoPython:
    Type: AWS::Serverless::Function
    Properties: {{FunctionName: echo-python, Runtime: python3.11, Handler: app.handler,
                 CodeUri: "{source}/functions/echo-python", MemorySize: 128, Timeout: 3}}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--kill-ms", type=float, default=100, help="mean pause between kills")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("serve_args", nargs="*")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tmp = tempfile.mkdtemp(prefix="coldlab-stress-")
    template = os.path.join(tmp, "template.yaml")
    with open(template, "w") as f:
        f.write(TEMPLATE.format(build=build, source=source))
    db = os.path.join(tmp, "log.db")
    with open(os.path.join(tmp, "stderr.txt"), "w") as err:
        server = subprocess.Popen([os.path.join(build, "bin", "coldlab"), "serve", "--port", "0", "--db", db,
                                   "--template", template] + a.serve_args, stdout=subprocess.PIPE, stderr=err)
    line = server.stdout.readline().decode()
    if not line.startswith("coldlab listening on"):
        sys.exit(f"coldlab did not start; see {tmp}/stderr.txt")
    port = int(line.rsplit(":", 1)[1])
    stop_at = time.time() + a.seconds
    counts = collections.Counter()
    answered, bad = {}, []
    lock = threading.Lock()

    def client(k):
        rng = random.Random(a.seed * 1000 + k)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        n = 0
        while time.time() < stop_at:
            fn = rng.choice(["echo", "echo-python"])
            payload = json.dumps({"client": k, "n": n, "pad": "x" * rng.choice([1, 100, 3000, 70000])})
            n += 1
            try:
                conn.request("POST", f"/2015-03-31/functions/{fn}/invocations", payload)
                r = conn.getresponse()
                body = r.read().decode()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port)
                with lock:
                    counts["BAD transport " + type(e).__name__] += 1
                continue
            if r.status == 200 and r.getheader("X-Amz-Function-Error") is None:
                kind = "ok" if body == payload else "BAD 200 without the event"
            else:
                try:
                    doc = json.loads(body)
                    kind = (f"{r.status} " + (doc.get("errorType") or doc.get("Type") or "?")) \
                        if isinstance(doc, dict) else f"BAD {r.status} not an object"
                except ValueError:
                    kind = f"BAD {r.status} not JSON"
            with lock:
                counts[kind] += 1
                answered[r.getheader("x-amzn-RequestId")] = kind
                if kind.startswith("BAD"):
                    bad.append((fn, r.getheader("x-amzn-RequestId"), r.status, len(body), body[:60]))

    def children():
        pids = []
        for task in os.listdir(f"/proc/{server.pid}/task"):
            try:
                with open(f"/proc/{server.pid}/task/{task}/children") as f:
                    pids += [int(p) for p in f.read().split()]
            except OSError:
                pass
        return [p for p in pids if b"__thaw-on-exit" not in cmdline(p)]

    def cmdline(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read()
        except OSError:
            return b""

    def killer():
        rng = random.Random(a.seed)
        while time.time() < stop_at:
            time.sleep(rng.uniform(0.5, 1.5) * a.kill_ms / 1000)
            pids = children()
            if pids:
                try:
                    os.kill(rng.choice(pids), signal.SIGKILL)
                    counts["(kills)"] += 1
                except ProcessLookupError:
                    pass

    threads = [threading.Thread(target=client, args=(k,)) for k in range(a.clients)]
    threads.append(threading.Thread(target=killer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.send_signal(signal.SIGTERM)
    server.wait()

    rows = collections.defaultdict(list)
    for request_id, status in sqlite3.connect(db).execute("SELECT request_id, status FROM invocations"):
        rows[request_id].append(status)
    for request_id, kind in answered.items():
        logged = rows.get(request_id, [])
        if len(logged) != 1 or (kind == "ok") != (logged[0] == "ok"):
            counts["BAD log disagrees"] += 1
    for kind, n in sorted(counts.items()):
        print(f"{n:8d} {kind}")
    for b in bad[:10]:
        print("  e.g.", b)
    print(f"{len(answered)} answers; files in {tmp}")
    sys.exit(1 if any(k.startswith("BAD") for k in counts) else 0)


if __name__ == "__main__":
    main()
