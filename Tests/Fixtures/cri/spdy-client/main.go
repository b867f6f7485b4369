// A minimal client of Kubernetes' streaming protocols over SPDY/3.1, built on Debian's
// docker/spdystream, for caissond's tests.
//
// spdy-client exec URL [stdin-text [tty]]: remote command (v4.channel.k8s.io). It
// upgrades the connection, opens the error, stdout, stderr (and, with
// stdin-text, stdin) streams, writes stdin-text and closes stdin, copies stdout and
// stderr to its own, and prints the error stream's status on the last line of stderr
// as "STATUS: <json>". With "tty", there is no stderr stream but a resize stream, on
// which it sends a 100x30 terminal size before any input.
//
// spdy-client portforward URL PORT DATA: port forwarding (portforward.k8s.io). It opens
// the error and data streams of one connection to PORT, writes DATA, closes its side,
// and copies what comes back to stdout; the error stream's text goes to stderr.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/docker/spdystream"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "spdy-client: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 3 || (os.Args[1] != "exec" && os.Args[1] != "portforward") {
		fail("usage: spdy-client exec URL [stdin-text [tty]] | portforward URL PORT DATA")
	}
	mode := os.Args[1]
	args := os.Args[2:]
	protocol := "v4.channel.k8s.io"
	if mode == "portforward" {
		protocol = "portforward.k8s.io"
	}
	target, err := url.Parse(args[0])
	if err != nil {
		fail("bad URL: %v", err)
	}
	conn, err := net.DialTimeout("tcp", target.Host, 5*time.Second)
	if err != nil {
		fail("dial: %v", err)
	}
	request := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"+
		"X-Stream-Protocol-Version: %s\r\nContent-Length: 0\r\n\r\n", target.RequestURI(), target.Host, protocol)
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
	if version := response.Header.Get("X-Stream-Protocol-Version"); version != protocol {
		fail("negotiated %q, not %s", version, protocol)
	}
	if reader.Buffered() > 0 {
		fail("server sent data before the first stream")
	}
	spdy, err := spdystream.NewConnection(conn, false)
	if err != nil {
		fail("spdy: %v", err)
	}
	go spdy.Serve(spdystream.NoOpStreamHandler)
	extra := http.Header{}
	open := func(kind string) *spdystream.Stream {
		headers := http.Header{}
		for name, values := range extra {
			headers[name] = values
		}
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
	if mode == "portforward" {
		if len(args) != 3 {
			fail("usage: spdy-client portforward URL PORT DATA")
		}
		extra.Set("port", args[1])
		extra.Set("requestID", "0")
		errorStream := open("error")
		data := open("data")
		if _, err := data.Write([]byte(args[2])); err != nil {
			fail("write data: %v", err)
		}
		data.Close()
		done := make(chan struct{})
		go func() { io.Copy(os.Stdout, data); close(done) }()
		message, _ := io.ReadAll(errorStream)
		<-done
		os.Stderr.Write(message)
		spdy.Close()
		return
	}
	tty := len(args) > 2 && args[2] == "tty"
	errorStream := open("error")
	var stdin *spdystream.Stream
	if len(args) > 1 {
		stdin = open("stdin")
	}
	stdout := open("stdout")
	var stderr io.Reader = strings.NewReader("")
	if tty {
		resize := open("resize")
		if _, err := resize.Write([]byte("{\"Width\":100,\"Height\":30}\n")); err != nil {
			fail("write resize: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	} else {
		stderr = open("stderr")
	}
	if stdin != nil {
		if _, err := stdin.Write([]byte(args[1])); err != nil {
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
