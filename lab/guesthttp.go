package lab

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MetadataIP is where guests find the metadata service (Nova's and EC2's
// link-local address; each host's nftables DNAT it to its own service).
const MetadataIP = "169.254.169.254"

// HTTPAnswer is what a guest got back for one HTTP request: Status 0 and
// no body when nothing answered (no connection, or a connection that
// closed without a status line).
type HTTPAnswer struct {
	Status int
	Body   string
}

// HTTPGet has the tiny guest ask http://ip/path (port 80) over HTTP/1.0 and
// returns the answer. The request is written by nc -e's program, which then
// saves the answer (as the image's init asks the metadata service: nc
// itself would half-close the connection at the end of its input, and Go's
// HTTP server cancels a request on that); nc gives up connecting after 2 s.
//
// from, when not "", is the source address to send from instead of the
// guest's own: it is added to eth0 and a host route to ip via the default
// gateway names it as source, both removed afterwards. A guest may add any
// address; the network must drop what it sends from one not its own.
func (g *Guest) HTTPGet(ctx context.Context, ip, path, from string) (HTTPAnswer, error) {
	if _, err := netip.ParseAddr(ip); err != nil {
		return HTTPAnswer{}, fmt.Errorf("lab: HTTPGet: %w", err)
	}
	if from != "" {
		if _, err := netip.ParseAddr(from); err != nil {
			return HTTPAnswer{}, fmt.Errorf("lab: HTTPGet from: %w", err)
		}
	}
	if strings.ContainsAny(path, "'\"\\ %") || !strings.HasPrefix(path, "/") {
		return HTTPAnswer{}, fmt.Errorf("lab: HTTPGet: path %q must start with / and need no quoting", path)
	}
	out, rc, err := g.Run(ctx, httpGetCommand(ip, path, from))
	if err != nil {
		return HTTPAnswer{}, err
	}
	if rc != 0 {
		return HTTPAnswer{}, fmt.Errorf("guest %s: GET http://%s%s exited %d: %s", g.Name, ip, path, rc, strings.TrimSpace(out))
	}
	return parseHTTPAnswer(out), nil
}

// httpGetCommand is HTTPGet's line of busybox sh. Its exit status is 0
// unless setting up the spoofed source fails; what came back (perhaps
// nothing) is printed last.
func httpGetCommand(ip, path, from string) string {
	get := fmt.Sprintf(`timeout 5 nc -w 2 %s 80 -e /bin/sh -c 'printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n"; cat >/tmp/lab-get'`,
		ip, path, ip)
	show := `tr -d '\r' </tmp/lab-get`
	if from == "" {
		return ": >/tmp/lab-get; " + get + "; " + show
	}
	return fmt.Sprintf(`: >/tmp/lab-get; gw=$(ip -4 route | awk '/^default/ {print $3; exit}') && ip addr add %s/32 dev eth0 && ip route add %s/32 via $gw dev eth0 src %s && { %s; true; }; `+
		`r=$?; ip route del %s/32 2>/dev/null; ip addr del %s/32 dev eth0 2>/dev/null; %s; [ $r = 0 ]`,
		from, ip, from, get, ip, from, show)
}

// parseHTTPAnswer reads an HTTP/1.x answer as the guest printed it (CRs
// removed): the status line's code and what follows the headers. Anything
// else (nothing, a truncated status line) is Status 0.
func parseHTTPAnswer(out string) HTTPAnswer {
	head, body, _ := strings.Cut(out, "\n\n")
	status, _, _ := strings.Cut(head, "\n")
	f := strings.Fields(status)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return HTTPAnswer{}
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return HTTPAnswer{}
	}
	return HTTPAnswer{Status: code, Body: body}
}
