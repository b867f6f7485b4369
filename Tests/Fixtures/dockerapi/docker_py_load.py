"""Fifty docker-py clients at once against caissond: each creates, starts, execs in and
removes its own container while a log stream stays open. Nothing may be lost or made
twice, the long stream must not hold the others up, and /_ping must stay quick.

Run by Tests/DockerAPITests/DockerPyTests.swift (DOCKER_HOST, IMAGE, CLIENTS).
"""
import os
import sys
import threading
import time

import docker

IMAGE = os.environ["IMAGE"]
CLIENTS = int(os.environ.get("CLIENTS", "50"))
failures = []
made = []
lock = threading.Lock()

# A long stream open the whole time: a container's log, followed.
streamer = docker.from_env(timeout=120)
talker = streamer.containers.run(IMAGE, ["sh", "-c", "while true; do echo tick; sleep 0.2; done"], detach=True,
                                 network_mode="none", name="talker")
ticks = []


def follow():
    try:
        for line in talker.logs(stream=True, follow=True):
            ticks.append(line)
    except Exception:
        pass


threading.Thread(target=follow, daemon=True).start()


def client_work(index):
    client = docker.from_env(timeout=120)
    name = "load-%d" % index
    try:
        container = client.containers.run(IMAGE, ["sleep", "60"], detach=True, network_mode="none", name=name,
                                          labels={"load": "1"})
        with lock:
            made.append(container.id)
        result = container.exec_run(["sh", "-c", "echo %d" % index])
        if result.output != b"%d\n" % index:
            raise AssertionError("exec in %s gave %r" % (name, result.output))
        container.remove(force=True)
    except Exception as error:
        with lock:
            failures.append("%s: %r" % (name, error))


pings = []
stop_pinging = threading.Event()


def ping():
    client = docker.from_env(timeout=30)
    while not stop_pinging.is_set():
        started = time.monotonic()
        client.ping()
        pings.append(time.monotonic() - started)
        time.sleep(0.2)


pinger = threading.Thread(target=ping, daemon=True)
pinger.start()
started = time.monotonic()
threads = [threading.Thread(target=client_work, args=(i,)) for i in range(CLIENTS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.monotonic() - started
stop_pinging.set()
pinger.join()

client = docker.from_env(timeout=60)
left = client.containers.list(all=True, filters={"label": "load=1"})
talker.remove(force=True)
print("clients %d, failures %d, made %d, unique %d, left %d, ticks %d, slowest ping %.3f s, %.1f s" % (
    CLIENTS, len(failures), len(made), len(set(made)), len(left), len(ticks), max(pings or [0]), elapsed), flush=True)
for failure in failures:
    print("failure: " + failure, flush=True)
ok = not failures and len(made) == CLIENTS and len(set(made)) == CLIENTS and not left and len(ticks) > 3
print("load ok" if ok else "load failed", flush=True)
sys.exit(0 if ok else 1)
