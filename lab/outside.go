package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// OutsideNetns is the outside network namespace (netns-lab.sh's shlab-out).
const OutsideNetns = "shlab-out"

// inNetns runs fn on an OS thread moved into the named network namespace:
// sockets fn makes belong to that namespace for good, whichever thread
// later uses them. The thread stays locked and dies with its goroutine, so
// no other goroutine ever runs in the namespace.
func inNetns(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the runtime ends the thread
		f, err := os.Open(filepath.Join("/var/run/netns", name))
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering netns %s: %w", name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// OutsideConnect connects from the outside namespace to ip:port, giving up
// when no connection is made within connect (a dropped SYN is a timeout:
// keep connect under the kernel's first SYN retransmission, 1 s, and a probe
// sees the filter as it was when it began), sends request, and returns what
// the other end says before it closes or ctx ends.
func (l *Lab) OutsideConnect(ctx context.Context, ip string, port int, connect time.Duration, request string) (string, error) {
	var conn net.Conn
	err := inNetns(OutsideNetns, func() error {
		d := net.Dialer{Timeout: connect}
		var err error
		conn, err = d.DialContext(ctx, "tcp4", net.JoinHostPort(ip, strconv.Itoa(port)))
		return err
	})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return "", err
	}
	if request != "" {
		if _, err := io.WriteString(conn, request); err != nil {
			return "", err
		}
	}
	b, err := io.ReadAll(conn)
	return string(b), err
}

// OutsideHTTP asks ip:port for "/" over HTTP/1.0 from the outside namespace
// and returns the body; an answer that is not 200 is an error.
func (l *Lab) OutsideHTTP(ctx context.Context, ip string, port int, connect time.Duration) (string, error) {
	out, err := l.OutsideConnect(ctx, ip, port, connect, "GET / HTTP/1.0\r\n\r\n")
	if err != nil {
		return "", err
	}
	head, body, ok := strings.Cut(out, "\r\n\r\n")
	if !ok || !strings.Contains(strings.SplitN(head, "\r\n", 2)[0], " 200 ") {
		return "", fmt.Errorf("http://%s:%d/: not a 200 answer: %.200q", ip, port, out)
	}
	return body, nil
}

// OutsideListen listens on TCP port in the outside namespace (all its
// addresses). Each connection is answered with the address it came from,
// "IP\n", then closed: a guest's nc learns what source the outside saw.
// Closing the listener stops it.
func (l *Lab) OutsideListen(port int) (net.Listener, error) {
	var ln net.Listener
	err := inNetns(OutsideNetns, func() error {
		var err error
		ln, err = net.Listen("tcp4", ":"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.WriteString(c, host+"\n")
			c.Close()
		}
	}()
	return ln, nil
}
