"""The Docker SDK for Python (docker-py) against caissond's Docker Engine API.

Run by Tests/DockerAPITests/DockerPyTests.swift with DOCKER_HOST pointing at a private
caissond and IMAGE naming a busybox image it has. Each check prints "ok NAME"; the first
failure raises (non-zero exit with the traceback).
"""
import os
import sys
import time

import docker
from docker import errors

IMAGE = os.environ["IMAGE"]
client = docker.from_env(timeout=60)
api = client.api


def check(name):
    def decorate(function):
        function()
        print("ok " + name, flush=True)
        return function
    return decorate


@check("ping-version")
def _():
    assert client.ping() is True
    version = client.version()
    assert version["ApiVersion"] == "1.45", version
    assert version["Os"] == "linux"


@check("run-foreground")
def _():
    # High level: create, start, wait, logs; the container removed afterwards.
    output = client.containers.run(IMAGE, ["sh", "-c", "echo out; echo err >&2"], network_mode="none", remove=True)
    assert output == b"out\n", output
    try:
        client.containers.run(IMAGE, ["sh", "-c", "echo failing >&2; exit 3"], network_mode="none", remove=True,
                              stderr=True)
        raise AssertionError("no ContainerError")
    except errors.ContainerError as error:
        assert error.exit_status == 3, error
        assert b"failing" in error.stderr, error.stderr


@check("detached-exec-logs-wait")
def _():
    container = client.containers.run(IMAGE, ["sh", "-c", "echo started; sleep 300"], detach=True,
                                      network_mode="none", name="pybox", labels={"suite": "docker-py"})
    try:
        container.reload()
        assert container.status == "running", container.status
        assert container.name == "pybox"
        assert container.labels == {"suite": "docker-py"}
        result = container.exec_run(["sh", "-c", "echo from-exec; echo e >&2; exit 3"])
        assert result.exit_code == 3, result
        assert result.output == b"from-exec\ne\n", result.output
        demuxed = container.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
        assert demuxed.output == (b"o\n", b"e\n"), demuxed.output
        env = container.exec_run(["sh", "-c", "echo $A:$(pwd):$(id -u)"], environment={"A": "b"}, workdir="/tmp",
                                 user="nobody")
        assert env.output == b"b:/tmp:65534\n", env.output
        streamed = b"".join(container.exec_run(["sh", "-c", "for i in 1 2 3; do echo $i; done"], stream=True).output)
        assert streamed == b"1\n2\n3\n", streamed
        # Low level exec: create, start, inspect.
        exec_id = api.exec_create(container.id, ["sh", "-c", "exit 7"])["Id"]
        api.exec_start(exec_id)
        assert api.exec_inspect(exec_id)["ExitCode"] == 7
        logs = container.logs()
        assert logs == b"started\n", logs
        assert client.containers.list(filters={"label": "suite=docker-py"})[0].id == container.id
        container.kill()
        assert container.wait(timeout=30)["StatusCode"] == 137
    finally:
        container.remove(force=True)
    try:
        client.containers.get("pybox")
        raise AssertionError("removed container still found")
    except errors.NotFound:
        pass


@check("attach-socket-stdin")
def _():
    container = client.containers.create(IMAGE, ["sh", "-c", "read line; echo got:$line"], stdin_open=True,
                                         network_mode="none")
    try:
        socket = api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stream": 1})
        container.start()
        raw = socket._sock
        raw.sendall(b"hello\n")
        received = b""
        while len(received) < 8 + len(b"got:hello\n"):
            chunk = raw.recv(4096)
            if not chunk:
                break
            received += chunk
        assert received == b"\x01\x00\x00\x00\x00\x00\x00\x0agot:hello\n", received
        socket.close()
        assert container.wait(timeout=30)["StatusCode"] == 0
    finally:
        container.remove(force=True)


@check("errors")
def _():
    try:
        client.containers.get("no-such-container")
        raise AssertionError("no NotFound")
    except errors.NotFound as error:
        assert "No such container" in str(error), error
    try:
        client.images.get("no/such:image")
        raise AssertionError("no ImageNotFound")
    except errors.ImageNotFound:
        pass
    first = client.containers.create(IMAGE, "true", name="twice", network_mode="none")
    try:
        client.containers.create(IMAGE, "true", name="twice", network_mode="none")
        raise AssertionError("no conflict")
    except errors.APIError as error:
        assert error.status_code == 409, error
    finally:
        first.remove()
    try:
        client.containers.run(IMAGE, "true", detach=True, network_mode="none", blkio_weight=100)
        raise AssertionError("an unsupported field was accepted")
    except errors.APIError as error:
        assert error.status_code == 400 and "BlkioWeight" in str(error), error


@check("images")
def _():
    image = client.images.get(IMAGE)
    assert IMAGE in image.tags, image.tags
    assert image.tag("py/tagged", "2") is True
    assert "py/tagged:2" in client.images.get("py/tagged:2").tags
    assert any("py/tagged:2" in listed.tags for listed in client.images.list())
    client.images.remove("py/tagged:2")
    try:
        client.images.get("py/tagged:2")
        raise AssertionError("untagged image still found")
    except errors.ImageNotFound:
        pass


@check("networks-volumes")
def _():
    network = client.networks.create("pynet", driver="bridge", labels={"a": "b"})
    try:
        assert client.networks.get("pynet").attrs["Labels"] == {"a": "b"}
        assert "pynet" in [n.name for n in client.networks.list()]
    finally:
        network.remove()
    volume = client.volumes.create("pyvol", labels={"x": "y"})
    assert client.volumes.get("pyvol").attrs["Labels"] == {"x": "y"}
    output = client.containers.run(IMAGE, ["sh", "-c", "echo kept > /data/f; cat /data/f"], network_mode="none",
                                   volumes={"pyvol": {"bind": "/data", "mode": "rw"}}, remove=True)
    assert output == b"kept\n", output
    volume.remove()
    assert "pyvol" not in [v.name for v in client.volumes.list()]


@check("archives-stats-events")
def _():
    import io
    import tarfile
    import time
    since = int(time.time()) - 1
    container = client.containers.run(IMAGE, ["sleep", "300"], detach=True, network_mode="none", name="pyfiles")
    try:
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as archive:
            payload = b"put through the API\n"
            info = tarfile.TarInfo("hello.txt")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
        assert container.put_archive("/tmp", data.getvalue()) is True
        assert container.exec_run(["cat", "/tmp/hello.txt"]).output == b"put through the API\n"
        stream, stat = container.get_archive("/tmp/hello.txt")
        assert stat["name"] == "hello.txt" and stat["size"] == 20, stat
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            assert archive.extractfile("hello.txt").read() == b"put through the API\n"
        stats = container.stats(stream=False)
        assert stats["pids_stats"]["current"] >= 1, stats["pids_stats"]
        assert "cpu_stats" in stats and "memory_stats" in stats
    finally:
        container.remove(force=True)
    actions = [event["Action"] for event in client.events(since=since, until=int(time.time()) + 1, decode=True,
                                                           filters={"container": "pyfiles"})]
    for action in ["create", "start", "destroy"]:
        assert action in actions, actions


@check("build-push-pull")
def _():
    import tempfile
    registry = os.environ.get("REGISTRY")
    assert registry, "no REGISTRY given"
    context = tempfile.mkdtemp()
    with open(os.path.join(context, "Dockerfile"), "w") as dockerfile:
        dockerfile.write("FROM %s\nRUN echo built > /built\nCMD [\"cat\", \"/built\"]\n" % IMAGE)
    name = "%s/py/built" % registry
    image, logs = client.images.build(path=context, tag=name + ":1", rm=True, network_mode="none")
    assert any("Step 2/3" in entry.get("stream", "") for entry in logs), "no build steps in the stream"
    assert client.containers.run(name + ":1", network_mode="none", remove=True) == b"built\n"
    pushed = list(api.push(name, tag="1", stream=True, decode=True))
    assert not any("error" in entry for entry in pushed), pushed
    assert any("digest" in entry.get("status", "") or "aux" in entry for entry in pushed), pushed
    client.images.remove(name + ":1")
    pulled = client.images.pull(name, tag="1")
    assert pulled.id == image.id, (pulled.id, image.id)
    client.images.remove(name + ":1")


@check("commit")
def _():
    container = client.containers.run(IMAGE, ["sh", "-c", "echo kept > /kept; sleep 300"], detach=True,
                                      network_mode="none", name="pycommit")
    try:
        deadline = time.time() + 10
        while time.time() < deadline and container.exec_run(["cat", "/kept"]).exit_code != 0:
            time.sleep(0.1)
        image = container.commit(repository="py/committed", tag="2", message="from docker-py", author="py",
                                 changes=["LABEL made=commit", "ENV FROM_CHANGE=1"],
                                 conf={"Env": ["FROM_CONF=2"], "Cmd": ["cat", "/kept"]})
        container.reload()
        assert container.status == "running", container.status
        assert image.tags == ["py/committed:2"], image.tags
        assert image.attrs["Author"] == "py" and image.attrs["Comment"] == "from docker-py", image.attrs
        assert image.labels.get("made") == "commit", image.labels
        env = image.attrs["Config"]["Env"]
        assert "FROM_CHANGE=1" in env and "FROM_CONF=2" in env, env
        assert client.containers.run("py/committed:2", network_mode="none", remove=True) == b"kept\n"
        changes = api.diff(container.id)
        assert {"Path": "/kept", "Kind": 1} in changes, changes
        assert not any(change["Path"] == "/etc/hosts" for change in changes), changes
        try:
            api.commit(container.id, changes=["RUN true"])
            raise AssertionError("RUN was taken as a change")
        except docker.errors.APIError as error:
            assert error.status_code == 400 and "not a valid change command" in str(error), error
        try:
            api.commit("py-no-such-container")
            raise AssertionError("a missing container was committed")
        except docker.errors.NotFound:
            pass
        client.images.remove("py/committed:2")
    finally:
        container.remove(force=True)


@check("clone-from-inspect")
def _():
    # Tools that copy a container (runlike, clone scripts) send its inspected Config and
    # HostConfig back to create: every value inspect shows must be taken.
    api.create_container(IMAGE, ["sleep", "1"], name="pyorig",
                         host_config=api.create_host_config(network_mode="none", binds=["/tmp:/h:ro"]))
    try:
        info = api.inspect_container("pyorig")
        body = dict(info["Config"])
        body["HostConfig"] = info["HostConfig"]
        answer = api._post_json(api._url("/containers/create"), data=body, params={"name": "pyclone"})
        assert answer.status_code == 201, answer.text
        clone = api.inspect_container("pyclone")
        assert clone["HostConfig"]["Binds"] == ["/tmp:/h:ro"], clone["HostConfig"]["Binds"]
        assert clone["Config"]["Cmd"] == ["sleep", "1"], clone["Config"]
    finally:
        for name in ["pyorig", "pyclone"]:
            try:
                api.remove_container(name, force=True)
            except docker.errors.NotFound:
                pass


print("all checks passed", flush=True)
sys.exit(0)
