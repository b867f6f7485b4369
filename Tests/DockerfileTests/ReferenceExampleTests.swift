@testable import Dockerfile
import Testing

/// Every ```dockerfile example of Docker's Dockerfile reference (BuildKit's
/// frontend/dockerfile/docs/reference.md), parsed whole; fragments without a FROM are
/// parsed after `FROM scratch`. Synopsis lines with placeholders fail, as in BuildKit.
@Suite struct ReferenceExampleTests {
    static let examples: [String] = [
#"""
# Comment
INSTRUCTION arguments
"""#,
#"""
# Comment
RUN echo 'we are running some # of cool things'
"""#,
#"""
RUN echo hello \
# comment
world
"""#,
#"""
RUN echo hello \
world
"""#,
#"""
        # this is a comment-line
    RUN echo hello
RUN echo world
"""#,
#"""
# this is a comment-line
RUN echo hello
RUN echo world
"""#,
#"""
RUN echo "\
     hello\
     world"
"""#,
#"""
# direc \
tive=value
"""#,
#"""
# directive=value1
# directive=value2

FROM ImageName
"""#,
#"""
FROM ImageName
# directive=value
"""#,
#"""
# About my dockerfile
# directive=value
FROM ImageName
"""#,
#"""
# unknowndirective=value
# syntax=value
"""#,
#"""
#directive=value
# directive =value
#	directive= value
# directive = value
#	  dIrEcTiVe=value
"""#,
#"""
# syntax=docker/dockerfile:1
"""#,
#"""
# escape=\
"""#,
#"""
# escape=`
"""#,
#"""
FROM microsoft/nanoserver
COPY testfile.txt c:\\
RUN dir c:\
"""#,
#"""
# escape=`

FROM microsoft/nanoserver
COPY testfile.txt c:\
RUN dir c:\
"""#,
#"""
# check=skip=<checks|all>
# check=error=<boolean>
"""#,
#"""
# check=skip=JSONArgsRecommended,StageNameCasing
"""#,
#"""
# check=error=true
"""#,
#"""
# check=skip=JSONArgsRecommended;error=true
"""#,
#"""
FROM busybox
ENV FOO=/bar
WORKDIR ${FOO}   # WORKDIR /bar
ADD . $FOO       # ADD . /bar
COPY \$FOO /quux # COPY $FOO /quux
"""#,
#"""
ENV abc=hello
ENV abc=bye def=$abc
ENV ghi=$abc
"""#,
#"""
ENTRYPOINT ["/bin/bash", "-c", "echo hello"]
"""#,
#"""
RUN ["c:\windows\system32\tasklist.exe"]
"""#,
#"""
RUN ["c:\\windows\\system32\\tasklist.exe"]
"""#,
#"""
RUN source $HOME/.bashrc && \
echo $HOME
"""#,
#"""
RUN source $HOME/.bashrc && echo $HOME
"""#,
#"""
RUN <<EOF
  source $HOME/.bashrc
  echo $HOME
EOF
"""#,
#"""
SHELL ["/bin/bash", "-c"]
RUN echo hello
"""#,
#"""
FROM [--platform=<platform>] <image> [AS <name>]
"""#,
#"""
FROM [--platform=<platform>] <image>[:<tag>] [AS <name>]
"""#,
#"""
FROM [--platform=<platform>] <image>[@<digest>] [AS <name>]
"""#,
#"""
  FROM ubuntu AS base
  RUN apt-get update && apt-get install -y shared-tooling

  FROM base AS dev
  RUN apt-get install -y dev-tooling

  FROM base AS prod
  COPY --from=build /app /app
  
"""#,
#"""
ARG  CODE_VERSION=latest
FROM base:${CODE_VERSION}
CMD  /code/run-app

FROM extras:${CODE_VERSION}
CMD  /code/run-extras
"""#,
#"""
ARG VERSION=latest
FROM busybox:$VERSION
ARG VERSION
RUN echo $VERSION > image_version
"""#,
#"""
# Shell form:
RUN [OPTIONS] <command> ...
# Exec form:
RUN [OPTIONS] [ "<command>", ... ]
"""#,
#"""
RUN <<EOF
apt-get update
apt-get install -y curl
EOF
"""#,
#"""
RUN --device=name,[required]
"""#,
#"""
# syntax=docker/dockerfile:1-labs

FROM scratch AS model
ADD https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf /model.gguf

FROM scratch AS prompt
COPY <<EOF prompt.txt
Q: Generate  a list of 10 unique biggest countries by population in JSON with their estimated poulation in 1900 and 2024. Answer only newline formatted JSON with keys "country", "population_1900", "population_2024" with 10 items.
A:
[
    {

EOF

FROM ghcr.io/ggml-org/llama.cpp:full-cuda-b5124
RUN --device=nvidia.com/gpu=all \
    --mount=from=model,target=/models \
    --mount=from=prompt,target=/tmp \
    ./llama-cli -m /models/model.gguf -no-cnv -ngl 99 -f /tmp/prompt.txt
"""#,
#"""
RUN --mount=[type=<TYPE>][,option=<value>[,option=<value>]...]
"""#,
#"""
# syntax=docker/dockerfile:1
FROM golang
RUN --mount=type=cache,target=/root/.cache/go-build \
  go build ...
"""#,
#"""
# syntax=docker/dockerfile:1
FROM ubuntu
RUN rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
  --mount=type=cache,target=/var/lib/apt,sharing=locked \
  apt-get update && apt-get --no-install-recommends install -y gcc
"""#,
#"""
# syntax=docker/dockerfile:1
FROM python:3
RUN pip install awscli
RUN --mount=type=secret,id=aws,target=/root/.aws/credentials \
  aws s3 cp s3://... ...
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
RUN --mount=type=secret,id=API_KEY,env=API_KEY \
    some-command --token-from-env $API_KEY
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
RUN apk add --no-cache openssh-client
RUN mkdir -p -m 0700 ~/.ssh && ssh-keyscan gitlab.com >> ~/.ssh/known_hosts
RUN --mount=type=ssh \
  ssh -q -T git@gitlab.com 2>&1 | tee /hello
# "Welcome to GitLab, @GITLAB_USERNAME_ASSOCIATED_WITH_SSHKEY" should be printed here
# with the type of build progress is defined as `plain`.
"""#,
#"""
RUN --network=<TYPE>
"""#,
#"""
# syntax=docker/dockerfile:1
FROM python:3.6
ADD mypackage.tgz wheels/
RUN --network=none pip install --find-links wheels mypackage
"""#,
#"""
RUN --security=<sandbox|insecure>
"""#,
#"""
# syntax=docker/dockerfile:1
FROM ubuntu
RUN --security=insecure cat /proc/self/status | grep CapEff
"""#,
#"""
LABEL <key>=<value> [<key>=<value>...]
"""#,
#"""
LABEL "com.example.vendor"="ACME Incorporated"
LABEL com.example.label-with-value="foo"
LABEL version="1.0"
LABEL description="This text illustrates \
that label-values can span multiple lines."
"""#,
#"""
LABEL multi.label1="value1" multi.label2="value2" other="value3"
"""#,
#"""
LABEL multi.label1="value1" \
      multi.label2="value2" \
      other="value3"
"""#,
#"""
MAINTAINER <name>
"""#,
#"""
LABEL org.opencontainers.image.authors="SvenDowideit@home.org.au"
"""#,
#"""
EXPOSE <port> [<port>/<protocol>...]
"""#,
#"""
EXPOSE 80/udp
"""#,
#"""
EXPOSE 80/tcp
EXPOSE 80/udp
"""#,
#"""
ENV <key>=<value> [<key>=<value>...]
"""#,
#"""
ENV MY_NAME="John Doe"
ENV MY_DOG=Rex\ The\ Dog
ENV MY_CAT=fluffy
"""#,
#"""
ENV MY_NAME="John Doe" MY_DOG=Rex\ The\ Dog \
    MY_CAT=fluffy
"""#,
#"""
RUN DEBIAN_FRONTEND=noninteractive apt-get update && apt-get install -y ...
"""#,
#"""
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y ...
"""#,
#"""
ENV MY_VAR my-value
"""#,
#"""
ENV ONE TWO= THREE=world
"""#,
#"""
ADD [OPTIONS] <src> ... <dest>
ADD [OPTIONS] ["<src>", ... "<dest>"]
"""#,
#"""
ADD file1.txt file2.txt /usr/src/things/
"""#,
#"""
ADD https://example.com/archive.zip /usr/src/things/
ADD git@github.com:user/repo.git /usr/src/things/
"""#,
#"""
ADD *.png /dest/
"""#,
#"""
ADD index.?s /dest/
"""#,
#"""
ADD arr[[]0].txt /dest/
"""#,
#"""
ADD https://github.com/user/repo.git /mydir/
"""#,
#"""
ADD git@github.com:moby/buildkit.git#v0.14.1:docs /buildkit-docs
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
ADD git@git.example.com:foo/bar.git /bar
"""#,
#"""
# create /abs/test.txt
ADD test.txt /abs/
"""#,
#"""
WORKDIR /usr/src/app
# create /usr/src/app/rel/test.txt
ADD test.txt rel/
"""#,
#"""
ADD [--keep-git-dir=<boolean>] <src> ... <dir>
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit
"""#,
#"""
ADD [--checksum=<hash>] <src> ... <dir>
"""#,
#"""
ADD --checksum=be1f38e https://github.com/moby/buildkit.git#v0.26.2 /
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://mirrors.edge.kernel.org/pub/linux/kernel/Historic/linux-0.01.tar.gz /
"""#,
#"""
ADD [--unpack=<bool>] <src> ... <dir>
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
# Download and unpack archive.tar.gz into /download:
ADD --unpack=true https://example.com/archive.tar.gz /download
# Add local tar without unpacking:
ADD --unpack=false my-archive.tar.gz .
"""#,
#"""
COPY [OPTIONS] <src> ... <dest>
COPY [OPTIONS] ["<src>", ... "<dest>"]
"""#,
#"""
COPY file1.txt file2.txt /usr/src/things/
"""#,
#"""
FROM golang AS build
WORKDIR /app
RUN --mount=type=bind,target=. go build -o /myapp ./cmd

COPY --from=build /myapp /usr/bin/
"""#,
#"""
COPY *.png /dest/
"""#,
#"""
COPY index.?s /dest/
"""#,
#"""
COPY arr[[]0].txt /dest/
"""#,
#"""
# create /abs/test.txt
COPY test.txt /abs/
"""#,
#"""
WORKDIR /usr/src/app
# create /usr/src/app/rel/test.txt
COPY test.txt rel/
"""#,
#"""
COPY [--from=<image|stage|context>] <src> ... <dest>
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine AS build
COPY . .
RUN apk add clang
RUN clang -o /hello hello.c

FROM scratch
COPY --from=build /hello /
"""#,
#"""
COPY --from=nginx:latest /etc/nginx/nginx.conf /nginx.conf
"""#,
#"""
COPY [--chmod=<perms>] <src> ... <dest>
"""#,
#"""
COPY --chmod=755 app.sh /app/
COPY --chmod=644 file.txt /data/
ARG MODE=440
COPY --chmod=$MODE . .
"""#,
#"""
COPY --chmod=+x script.sh /app/
COPY --chmod=u=rwX,go=rX . /app/
COPY --chmod=g=u config/ /config/
"""#,
#"""
COPY [--chown=<user>:<group>] <src> ... <dest>
"""#,
#"""
COPY --chown=55:mygroup files* /somedir/
COPY --chown=bin files* /somedir/
COPY --chown=1 files* /somedir/
COPY --chown=10:11 files* /somedir/
COPY --chown=myuser:mygroup --chmod=644 files* /somedir/
"""#,
#"""
COPY [--link[=<boolean>]] <src> ... <dest>
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
COPY --link /foo /bar
"""#,
#"""
FROM alpine
"""#,
#"""
FROM scratch
COPY /foo /bar
"""#,
#"""
COPY [--parents[=<boolean>]] <src> ... <dest>
"""#,
#"""
# syntax=docker/dockerfile:1
FROM scratch

COPY ./x/a.txt ./y/a.txt /no_parents/
COPY --parents ./x/a.txt ./y/a.txt /parents/

# /no_parents/a.txt
# /parents/x/a.txt
# /parents/y/a.txt
"""#,
#"""
# syntax=docker/dockerfile:1
FROM scratch

COPY --parents ./x/./y/*.txt /parents/

# Build context:
# ./x/y/a.txt
# ./x/y/b.txt
#
# Output:
# /parents/y/a.txt
# /parents/y/b.txt
"""#,
#"""
# syntax=docker/dockerfile:1
FROM scratch

COPY --parents ./src/**/*.txt /parents/

# Build context:
# ./src/a.txt
# ./src/x/b.txt
# ./src/x/y/c.txt
#
# Output:
# /parents/src/a.txt
# /parents/src/x/b.txt
# /parents/src/x/y/c.txt
"""#,
#"""
COPY [--exclude=<path> ...] <src> ... <dest>
"""#,
#"""
# syntax=docker/dockerfile:1
FROM scratch

COPY --exclude=*.txt hom* /mydir/
"""#,
#"""
# syntax=docker/dockerfile:1
FROM scratch

COPY --exclude=*.txt --exclude=*.md hom* /mydir/
"""#,
#"""
  ENTRYPOINT ["executable", "param1", "param2"]
  
"""#,
#"""
  ENTRYPOINT command param1 param2
  
"""#,
#"""
FROM ubuntu
ENTRYPOINT ["top", "-b"]
CMD ["-c"]
"""#,
#"""
FROM debian:stable
RUN apt-get update && apt-get install -y --force-yes apache2
EXPOSE 80 443
VOLUME ["/var/www", "/var/log/apache2", "/etc/apache2"]
ENTRYPOINT ["/usr/sbin/apache2ctl", "-D", "FOREGROUND"]
"""#,
#"""
FROM ubuntu
ENTRYPOINT exec top -b
"""#,
#"""
FROM ubuntu
ENTRYPOINT top -b
CMD -- --ignored-param1
"""#,
#"""
VOLUME ["/data"]
"""#,
#"""
FROM ubuntu
RUN mkdir /myvol
RUN echo "hello world" > /myvol/greeting
VOLUME /myvol
"""#,
#"""
USER <user>[:<group>]
"""#,
#"""
USER <UID>[:<GID>]
"""#,
#"""
FROM microsoft/windowsservercore
# Create Windows user in the container
RUN net user /add patrick
# Set it for subsequent commands
USER patrick
"""#,
#"""
WORKDIR /path/to/workdir
"""#,
#"""
WORKDIR /a
WORKDIR b
WORKDIR c
RUN pwd
"""#,
#"""
ENV DIRPATH=/path
WORKDIR $DIRPATH/$DIRNAME
RUN pwd
"""#,
#"""
ARG <name>[=<default value>] [<name>[=<default value>]...]
"""#,
#"""
FROM busybox
ARG user1
ARG buildno
# ...
"""#,
#"""
FROM busybox
ARG user1=someuser
ARG buildno=1
# ...
"""#,
#"""
FROM busybox
USER ${username:-some_user}
ARG username
USER $username
# ...
"""#,
#"""
FROM ubuntu
ARG CONT_IMG_VER
ENV CONT_IMG_VER=v1.0.0
RUN echo $CONT_IMG_VER
"""#,
#"""
FROM ubuntu
ARG CONT_IMG_VER
ENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}
RUN echo $CONT_IMG_VER
"""#,
#"""
FROM ubuntu
RUN echo "Hello World"
"""#,
#"""
FROM ubuntu
ARG HTTP_PROXY
RUN echo "Hello World"
"""#,
#"""
FROM alpine
ARG TARGETPLATFORM
RUN echo "I'm building for $TARGETPLATFORM"
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
WORKDIR /src
RUN --mount=target=. \
  make REVISION=$(git rev-parse HEAD) build
"""#,
#"""
FROM ubuntu
ARG CONT_IMG_VER
RUN echo $CONT_IMG_VER
"""#,
#"""
FROM ubuntu
ARG CONT_IMG_VER
RUN echo hello
"""#,
#"""
FROM ubuntu
ARG CONT_IMG_VER
ENV CONT_IMG_VER=$CONT_IMG_VER
RUN echo $CONT_IMG_VER
"""#,
#"""
FROM ubuntu
ARG CONT_IMG_VER
ENV CONT_IMG_VER=hello
RUN echo $CONT_IMG_VER
"""#,
#"""
ONBUILD <INSTRUCTION>
"""#,
#"""
ONBUILD ADD . /app/src
ONBUILD RUN /usr/local/bin/python-build --dir /app/src
"""#,
#"""
# syntax=docker/dockerfile:1.11
FROM alpine AS baseimage
ONBUILD COPY --from=build /usr/bin/app /app
ONBUILD RUN --mount=from=config,target=/opt/appconfig ...
"""#,
#"""
STOPSIGNAL signal
"""#,
#"""
HEALTHCHECK --interval=5m --timeout=3s \
  CMD curl -f http://localhost/ || exit 1
"""#,
#"""
SHELL ["executable", "parameters"]
"""#,
#"""
FROM microsoft/windowsservercore

# Executed as cmd /S /C echo default
RUN echo default

# Executed as cmd /S /C powershell -command Write-Host default
RUN powershell -command Write-Host default

# Executed as powershell -command Write-Host hello
SHELL ["powershell", "-command"]
RUN Write-Host hello

# Executed as cmd /S /C echo hello
SHELL ["cmd", "/S", "/C"]
RUN echo hello
"""#,
#"""
RUN powershell -command Execute-MyCmdlet -param1 "c:\foo.txt"
"""#,
#"""
RUN ["powershell", "-command", "Execute-MyCmdlet", "-param1 \"c:\\foo.txt\""]
"""#,
#"""
# escape=`

FROM microsoft/nanoserver
SHELL ["powershell","-command"]
RUN New-Item -ItemType Directory C:\Example
ADD Execute-MyCmdlet.ps1 c:\example\
RUN c:\example\Execute-MyCmdlet -sample 'hello world'
"""#,
#"""
# syntax=docker/dockerfile:1
FROM debian
RUN <<EOT bash
  set -ex
  apt-get update
  apt-get install -y vim
EOT
"""#,
#"""
# syntax=docker/dockerfile:1
FROM debian
RUN <<EOT
  mkdir -p foo/bar
EOT
"""#,
#"""
# syntax=docker/dockerfile:1
FROM python:3.6
RUN <<EOT
#!/usr/bin/env python
print("hello world")
EOT
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
RUN <<FILE1 cat > file1 && <<FILE2 cat > file2
I am
first
FILE1
I am
second
FILE2
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
COPY <<EOF greeting.txt
hello world
EOF
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
ARG FOO=bar
COPY <<-EOT /script.sh
  echo "hello ${FOO}"
EOT
ENTRYPOINT ash /script.sh
"""#,
#"""
# syntax=docker/dockerfile:1
FROM alpine
ARG FOO=bar
COPY <<-"EOT" /script.sh
  echo "hello ${FOO}"
EOT
ENTRYPOINT ash /script.sh
"""#,
    ]

    /// The examples that are whole Dockerfiles.
    static var dockerfiles: [String] {
        examples.filter { text in text.split(separator: "\n").contains { $0.trimmingPrefix(while: \.isWhitespace).uppercased().hasPrefix("FROM ") } }
    }

    static func parseExample(_ text: String) throws -> Dockerfile {
        let isWhole = text.split(separator: "\n").contains { line in
            line.drop(while: { $0 == " " }).uppercased().hasPrefix("FROM ") || line.hasPrefix("# escape")
        }
        return try Dockerfile.parse(isWhole ? text : "FROM scratch\n" + text)
    }

    @Test("every example of the reference parses (or fails as BuildKit fails it)")
    func allExamples() {
        var failures: [Int: String] = [:]
        for (index, text) in Self.examples.enumerated() {
            do {
                _ = try Self.parseExample(text)
            } catch {
                failures[index] = (error as? DockerfileError)?.message ?? "\(error)"
            }
        }
        #expect(failures == Self.expectedFailures)
        #expect(Self.examples.count > 150)
    }

    /// Synopsis lines and fragments that are not valid Dockerfiles, failing as in BuildKit,
    /// except `RUN --device` (BuildKit's labs channel only: Caisson refuses it) and
    /// `ONBUILD <INSTRUCTION>` (Caisson checks triggers when parsing, BuildKit when they run).
    static let expectedFailures: [Int: String] = [
        0: "unknown instruction: INSTRUCTION",                  // INSTRUCTION arguments
        7: "unknown instruction: tive=value",                   // a directive cannot be continued
        14: "file with no instructions",                        // `# escape=\` alone
        15: "file with no instructions",                        // `# escape=`` alone
        31: "FROM requires either one or three arguments",      // FROM synopses
        32: "FROM requires either one or three arguments",
        33: "FROM requires either one or three arguments",
        39: "unknown flag: --device (for RUN)",
        40: "unknown flag: --device (for RUN)",
        41: "unexpected key '[type' in '[type=<TYPE>]['",       // RUN --mount synopsis
        47: "invalid network mode \"<TYPE>\"",                  // RUN --network synopsis
        49: "security \"<sandbox|insecure>\" is not valid",     // RUN --security synopsis
        139: "unknown instruction: <INSTRUCTION>",              // ONBUILD synopsis
    ]
}
