// spdy-exec URL [stdin-text]: a minimal client of Kubernetes' remote-command protocol
// (v4.channel.k8s.io over SPDY/3.1), built on Debian's docker/spdystream, for caissond's
// tests: it upgrades the connection, opens the error, stdout, stderr (and, with
// stdin-text, stdin) streams, writes stdin-text and closes stdin, copies stdout and
// stderr to its own, and prints the error stream's status on the last line of stderr
// as "STATUS: <json>".
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/docker/spdystream"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "spdy-exec: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: spdy-exec URL [stdin-text]")
	}
	target, err := url.Parse(os.Args[1])
	if err != nil {
		fail("bad URL: %v", err)
	}
	conn, err := net.DialTimeout("tcp", target.Host, 5*time.Second)
	if err != nil {
		fail("dial: %v", err)
	}
	request := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"+
		"X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\n"+
		"Content-Length: 0\r\n\r\n", target.RequestURI(), target.Host)
	if _, err := conn.Write([]byte(request)); err != nil {
		fail("write request: %v", err)
	}
	reader := bufio.NewReader(conn)
	response, err := http.ReadResponse(reader, nil)
	if err != nil {
		fail("read response: %v", err)
	}
	if response.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(response.Body)
		fail("upgrade refused: %s: %s", response.Status, body)
	}
	if version := response.Header.Get("X-Stream-Protocol-Version"); version != "v4.channel.k8s.io" {
		fail("negotiated %q, not v4.channel.k8s.io", version)
	}
	if reader.Buffered() > 0 {
		fail("server sent data before the first stream")
	}
	spdy, err := spdystream.NewConnection(conn, false)
	if err != nil {
		fail("spdy: %v", err)
	}
	go spdy.Serve(spdystream.NoOpStreamHandler)
	open := func(kind string) *spdystream.Stream {
		headers := http.Header{}
		headers.Set("streamType", kind)
		stream, err := spdy.CreateStream(headers, nil, false)
		if err != nil {
			fail("create %s stream: %v", kind, err)
		}
		if err := stream.WaitTimeout(10 * time.Second); err != nil {
			fail("%s stream not accepted: %v", kind, err)
		}
		return stream
	}
	errorStream := open("error")
	var stdin *spdystream.Stream
	if len(os.Args) > 2 {
		stdin = open("stdin")
	}
	stdout := open("stdout")
	stderr := open("stderr")
	if stdin != nil {
		if _, err := stdin.Write([]byte(os.Args[2])); err != nil {
			fail("write stdin: %v", err)
		}
		stdin.Close()
	}
	var wait sync.WaitGroup
	wait.Add(2)
	go func() { defer wait.Done(); io.Copy(os.Stdout, stdout) }()
	go func() { defer wait.Done(); io.Copy(os.Stderr, stderr) }()
	status, _ := io.ReadAll(errorStream)
	wait.Wait()
	fmt.Fprintf(os.Stderr, "STATUS: %s\n", status)
	spdy.Close()
}
