#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/corpus/TARGET/ (run from the repository root).

The inputs are the documents the tests use (configs from `caisson-runtime spec`, the
registries.conf and auth files of Tests/ImageTests, the --format strings of
Tests/EngineTests) and small archives and SPDY frames made here the way the real peers
make them (tar, gzip, zstd, client-go's header blocks). Files named regression-* are inputs that
crashed a parser once, and captured-* are requests recorded from real clients (the docker
CLI 28.2 and 20.10 and docker-py creating containers with many flags); both are kept by
hand, not written here."""
import gzip, hashlib, io, json, os, re, struct, subprocess, sys, tarfile, zlib

OUT = "Fuzz/corpus"
SPECS = sys.argv[1] if len(sys.argv) > 1 else None  # a directory with root.json, rootless.json


def put(target, name, data):
    os.makedirs(f"{OUT}/{target}", exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(f"{OUT}/{target}/{name}", "wb") as f:
        f.write(data)


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


# --- JSON documents -----------------------------------------------------------------
manifest_layer = b"layer"
config_doc = {
    "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05.123456789Z",
    "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "WorkingDir": "/", "User": "1000:1000",
               "Labels": {"a": "b"}, "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}}, "StopSignal": "SIGTERM"},
    "rootfs": {"type": "layers", "diff_ids": [sha(b"diff")]},
    "history": [{"created": "2024-01-02T03:04:05Z", "created_by": "/bin/sh -c #(nop) ADD file", "empty_layer": False}],
}
config_bytes = json.dumps(config_doc).encode()
oci_manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config_bytes), "size": len(config_bytes)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(manifest_layer), "size": 5,
                            "annotations": {"k": "v"}}]}
docker_manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                   "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": sha(config_bytes), "size": len(config_bytes)},
                   "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": sha(manifest_layer), "size": 5}]}
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(b"m1"), "size": 100,
                        "platform": {"architecture": "amd64", "os": "linux"}},
                       {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(b"m2"), "size": 100,
                        "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}],
         "annotations": {"org.opencontainers.image.ref.name": "latest"}}
put("image", "oci-manifest.json", json.dumps(oci_manifest))
put("image", "docker-manifest.json", json.dumps(docker_manifest))
put("image", "index.json", json.dumps(index))
put("image", "config.json", config_bytes)
for i, text in enumerate(["busybox", "docker.io/library/busybox:1.36", "quay.io/podman/stable@" + sha(b"x"),
                          "localhost:5000/team/app:v1", "[::1]:5000/a/b:c", sha(b"y"), "linux/arm64/v8"]):
    put("image", f"name-{i}.txt", text)

specs = []
if SPECS:
    for name in ["root.json", "rootless.json"]:
        data = open(os.path.join(SPECS, name), "rb").read()
        specs.append(data)
        put("config", "spec-" + name, data)
process = {"terminal": False, "user": {"uid": 0, "gid": 0, "additionalGids": [1, 2]}, "args": ["sh", "-c", "echo hi"],
           "env": ["PATH=/bin"], "cwd": "/", "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
           "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}], "noNewPrivileges": True,
           "consoleSize": {"height": 24, "width": 80}, "apparmorProfile": "", "oomScoreAdj": 100}
put("config", "process.json", json.dumps(process))
put("config", "resources.json", json.dumps({"memory": {"limit": 104857600, "swap": 209715200}, "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1"},
                                            "pids": {"limit": 64}, "devices": [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
                                            "unified": {"memory.high": "max"}, "hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}))
put("config", "state.json", json.dumps({"id": "fuzz", "pid": 4242, "pidStartTime": 123456789, "bundle": "/b", "rootfs": "/b/rootfs",
                                        "created": "2024-01-02T03:04:05.000000000Z", "owner": "root"}))
put("config", "state-document.json", json.dumps({"ociVersion": "1.2.0", "id": "c1", "status": "running", "pid": 42, "bundle": "/b",
                                                 "annotations": {"a": "b"}}))
full = {"ociVersion": "1.2.0", "process": process, "root": {"path": "rootfs", "readonly": True}, "hostname": "h", "domainname": "d",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro", "rprivate"]}],
        "hooks": {"prestart": [{"path": "/bin/true", "args": ["true"], "env": ["A=1"], "timeout": 5}]},
        "annotations": {"x": "y"},
        "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}, {"type": "mount"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}],
                  "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                  "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 5}},
                  "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}],
                  "cgroupsPath": "/caisson/c1", "resources": {"memory": {"limit": 1048576}, "pids": {"limit": 10}},
                  "sysctl": {"net.ipv4.ip_forward": "1"}, "rootfsPropagation": "rslave", "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
                  "mountLabel": "", "intelRdt": {"closID": "x"}, "personality": {"domain": "LINUX32"},
                  "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                              "listenerPath": "/run/l.sock",
                              "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                                           {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}]}}}
put("config", "full-spec.json", json.dumps(full, indent=2))
for i, doc in enumerate([oci_manifest, index, full, process]):
    put("json", f"doc-{i}.json", json.dumps(doc, indent=1))
put("json", "numbers.json", '[0, -0, 1e308, -1.5E-300, 18446744073709551615, -9223372036854775808, 0.1, 123456789012345678901234567890]')
put("json", "strings.json", '{"a":"\\u0000\\ud83d\\ude00\\t\\"\\\\\\/","":[],"b":{"":null}}')
if specs:
    put("json", "spec.json", specs[0])

# --- registries.conf and auth files ------------------------------------------------------
put("registries", "registries-v2.conf", """# comment
unqualified-search-registries = ["quay.io", 'docker.io']  # trailing comment
short-name-mode = "permissive"

[[registry]]
prefix = "docker.io"
location = "mirror.internal:5000"
insecure = true
[[registry.mirror]]
location = "cache.internal/dockerhub"

[[registry]]
prefix = "docker.io/special"
location = "special.internal/x"

[[registry]]
location = "bad.example.com"
blocked = true
mirror-by-digest-only = false

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
""")
put("registries", "registries-v1.conf", """[registries.search]
registries = ['docker.io', "registry.fedoraproject.org"]

[registries.insecure]
registries = ["my.registry:5000"]

[registries.block]
registries = ["evil.example.com"]
""")
put("registries", "daemon.toml", 'root = "/var/lib/caisson"\n[cni]\nconf_dir = "/etc/cni/net.d"\nbin_dirs = ["/opt/cni/bin", "/usr/lib/cni"]\nnumber = 12\nflag = false\nesc = "a\\tb\\u00e9"\n')
put("registries", "auth.json", '{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},"localhost:5000":{"auth":"YTpi"}},"credsStore":"none"}')
put("registries", "auth-urlsafe.json", '{"auths":{"quay.io":{"auth":"dXNlcjpw-_3M="}}}')

# --- tar archives and layers -------------------------------------------------------------
def tar_bytes(members, fmt):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644, pax=None):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = 1700000000
    if kind == tarfile.REGTYPE:
        info.size = len(data)
    info.linkname = link
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    if pax:
        info.pax_headers = pax
    return (info, data if kind == tarfile.REGTYPE else None)


basic = [member("etc", tarfile.DIRTYPE, mode=0o755), member("etc/hostname", data=b"box\n"),
         member("bin", tarfile.DIRTYPE, mode=0o755), member("bin/sh", data=b"#!/bin/true\n", mode=0o755),
         member("bin/ash", tarfile.LNKTYPE, link="bin/sh"), member("bin/busybox", tarfile.SYMTYPE, link="sh"),
         member("dev", tarfile.DIRTYPE, mode=0o755), member("dev/null", tarfile.CHRTYPE, mode=0o666),
         member("run/fifo", tarfile.FIFOTYPE)]
longname = "d/" + "x" * 120 + "/" + "y" * 120
extended = [member(longname, data=b"long"), member("l", tarfile.SYMTYPE, link="t" * 150),
            member("xattr", data=b"x", pax={"SCHILY.xattr.user.k": "v", "mtime": "1700000000.5"})]
whiteouts = [member("a", tarfile.DIRTYPE, mode=0o755), member("a/.wh..wh..opq"), member("a/.wh.gone"),
             member(".wh.b"), member("c/d/e", data=b"deep")]
escapes = [member("link", tarfile.SYMTYPE, link="../../.."), member("link/escape", data=b"out"),
           member("../up", data=b"up"), member("/abs", data=b"abs"), member("h", tarfile.LNKTYPE, link="../../etc/passwd"),
           member("dir", tarfile.SYMTYPE, link="/"), member("dir/x", data=b"x")]
samples = {"ustar": tar_bytes(basic, tarfile.USTAR_FORMAT), "gnu": tar_bytes(basic + extended[:2], tarfile.GNU_FORMAT),
           "pax": tar_bytes(extended + basic[:2], tarfile.PAX_FORMAT), "whiteouts": tar_bytes(whiteouts, tarfile.PAX_FORMAT),
           "escapes": tar_bytes(escapes, tarfile.GNU_FORMAT)}
for name, data in samples.items():
    put("tar", name + ".tar", data)
    put("layer", name + ".tar", data)
put("layer", "basic.tar.gz", gzip.compress(samples["ustar"], mtime=0))
put("layer", "whiteouts.tar.gz", gzip.compress(samples["whiteouts"], mtime=0) + gzip.compress(b"", mtime=0))
zst = subprocess.run(["zstd", "-q", "-c", "-19"], input=samples["pax"], capture_output=True, check=True).stdout
put("layer", "pax.tar.zst", zst)

# --- docker-archive and OCI-archive --------------------------------------------------------
layer_tar = tar_bytes(basic[:4], tarfile.USTAR_FORMAT)
diff = sha(layer_tar)
img_config = dict(config_doc, rootfs={"type": "layers", "diff_ids": [diff]})
img_config_bytes = json.dumps(img_config).encode()
cfg_hex = hashlib.sha256(img_config_bytes).hexdigest()
diff_hex = diff.split(":")[1]
docker = [member(cfg_hex + ".json", data=img_config_bytes), member(diff_hex, tarfile.DIRTYPE, mode=0o755),
          member(diff_hex + "/layer.tar", data=layer_tar),
          member("manifest.json", data=json.dumps([{"Config": cfg_hex + ".json", "RepoTags": ["busybox:latest"],
                                                    "Layers": [diff_hex + "/layer.tar"]}]).encode())]
put("archive", "docker-archive.tar", tar_bytes(docker, tarfile.USTAR_FORMAT))
gz_layer = gzip.compress(layer_tar, mtime=0)
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cfg_hex, "size": len(img_config_bytes)},
     "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(gz_layer), "size": len(gz_layer)}]}
m_bytes = json.dumps(m).encode()
idx = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(m_bytes), "size": len(m_bytes),
                                          "annotations": {"io.containerd.image.name": "docker.io/library/busybox:latest",
                                                          "org.opencontainers.image.ref.name": "latest"}}]}
oci = [member("oci-layout", data=b'{"imageLayoutVersion":"1.0.0"}'), member("index.json", data=json.dumps(idx).encode()),
       member("blobs/sha256/" + hashlib.sha256(gz_layer).hexdigest(), data=gz_layer),
       member("blobs/sha256/" + cfg_hex, data=img_config_bytes), member("blobs/sha256/" + hashlib.sha256(m_bytes).hexdigest(), data=m_bytes)]
oci_tar = tar_bytes(oci, tarfile.USTAR_FORMAT)
put("archive", "oci-archive.tar", oci_tar)
put("archive", "oci-archive.tar.gz", gzip.compress(oci_tar, mtime=0))

# --- SPDY frames as client-go's spdystream sends them ----------------------------------------
src = open("Sources/SPDY/SPDYDictionary.swift").read()
words = re.findall(r'"([^"]*)"', src[src.index("words = ["):src.index("static let tail")])
tail = "".join(re.findall(r'"([^"]*)"', src[src.index("static let tail"):src.index("public static let bytes")]))
dictionary = b"".join(struct.pack(">I", len(w)) + w.encode() for w in words) + tail.encode()
assert len(dictionary) == 1423, len(dictionary)
deflater = zlib.compressobj(zdict=dictionary)


def headers(pairs):
    plain = struct.pack(">I", len(pairs)) + b"".join(struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode() for k, v in pairs)
    return deflater.compress(plain) + deflater.flush(zlib.Z_SYNC_FLUSH)


def control(kind, flags, payload):
    return struct.pack(">HHB", 0x8003, kind, flags) + len(payload).to_bytes(3, "big") + payload


def data(stream, body, fin=False):
    return struct.pack(">IB", stream, 1 if fin else 0) + len(body).to_bytes(3, "big") + body


def syn(stream, pairs, fin=False):
    return control(1, 1 if fin else 0, struct.pack(">IIH", stream, 0, 0) + headers(pairs))


exec_frames = (control(4, 0, struct.pack(">II", 1, 0x07) + struct.pack(">I", 65536))  # SETTINGS
               + syn(1, [("streamtype", "error")]) + syn(3, [("streamtype", "stdin")]) + syn(5, [("streamtype", "stdout")])
               + syn(7, [("streamtype", "resize")]) + data(3, b"echo hello\n") + data(7, b'{"Width":80,"Height":24}')
               + data(3, b"", fin=True) + control(6, 0, struct.pack(">I", 1)) + control(9, 0, struct.pack(">II", 1, 4096)))
put("spdy", "exec.bin", exec_frames)
deflater = zlib.compressobj(zdict=dictionary)
pf = (syn(1, [("streamtype", "error"), ("port", "80"), ("requestid", "0")]) + syn(3, [("streamtype", "data"), ("port", "80"), ("requestid", "0")])
      + data(3, b"GET / HTTP/1.0\r\n\r\n") + control(3, 0, struct.pack(">II", 3, 5)) + control(7, 0, struct.pack(">II", 0, 0)))
put("spdy", "portforward.bin", pf)
deflater = zlib.compressobj(zdict=dictionary)
put("spdy", "reply-headers.bin", control(2, 0, struct.pack(">I", 2) + headers([("status", "200")])) + control(8, 0, struct.pack(">I", 2) + headers([("a", "b\0c")])))

# --- --format templates (Tests/EngineTests and docker's documentation) ---------------------
for i, text in enumerate(["{{.Names}}", "{{.Names}} {{.Ports}} {{.State}}", "table {{.ID}}\\t{{.Image}}\\t{{.Status}}",
                          "{{json .}}", "{{json .Config}}", "{{.Name}} {{.State.Running}} {{.Config.Labels.team}}",
                          "{{json .NetworkSettings.Networks}}", "{{.Action}} {{.Actor.Attributes.name}}", "2024-01-02T03:04:05.5+01:00"]):
    put("format", f"template-{i}.txt", text)

# --- Dockerfiles (the reference examples of Tests/DockerfileTests) ---------------------------
examples = open("Tests/DockerfileTests/ReferenceExampleTests.swift").read()
for i, text in enumerate(re.findall(r'#"""\n(.*?)\n"""#', examples, re.S)):
    put("dockerfile", f"reference-{i}", text + "\n")
put("dockerfile", "stages", "ARG BASE=scratch\nFROM $BASE AS a\nENV X=1 Y=\"$X b\"\nFROM a AS b\nCOPY --from=a /x /y\n"
    "RUN --mount=type=cache,target=/c,from=a <<EOF\necho ${X:-none} ${Y#*1}\nEOF\nFROM b\nONBUILD RUN true\n")
put("dockerfile", "ignore", "# comment\n*.log\n!keep.log\n**/tmp\n../x\n/abs/*?[a-c]\n")

# --- package versions: two or three per input, one per line ----------------------------------
for i, text in enumerate(["1:2.3-4\n2.3-4~deb12u1\n1:2.3", "1.2.3-r4\n1.2.3_rc1-r0\n1.2.3a", "1.0-1.el9\n1.0~rc1-1\n1.0^2",
                          "1.0.post1\n1.0a1.dev2\n2!0.1+local.7", "1.2.3-alpha.1+b\n1.2.3\nv1.2.4-0.20230101-abcdef",
                          "1.0-SNAPSHOT\n1.0.RELEASE\n1-rc-2", "0\n\n1"]):
    put("versions", f"versions-{i}.txt", text)

# --- Docker Engine API requests (heads and bodies as the docker CLI sends them) ------------------
put("dockerapi", "ping.http", "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n")
put("dockerapi", "list.http", "GET /v1.45/containers/json?all=1&limit=5&filters=%7B%22status%22%3A%7B%22exited%22%3Atrue%7D%2C%22label%22%3A%5B%22a%3Db%22%5D%7D HTTP/1.1\r\nHost: d\r\n\r\n")
put("dockerapi", "chunked.http", "POST /v1.41/containers/create?name=x HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n"
    "1a\r\n{\"Image\":\"busybox\",\"Cmd\":[\"t\r\n6\r\nrue\"]}\r\n0\r\n\r\n")
put("dockerapi", "filters-legacy.http", "GET /containers/json?filters=%7B%22name%22%3A%5B%22web%22%5D%7D&size=true HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
