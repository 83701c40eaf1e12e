//go:build linux

package cluster_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster/clustertest"
)

// sniffer captures the IPv4 packets on the loopback interface, as tcpdump
// would (an AF_PACKET socket: the tests run as root), and keeps the payloads
// of TCP and UDP packets to or from ports.
type sniffer struct {
	fd    int
	ports map[uint16]bool
	mu    sync.Mutex
	seen  [][]byte
	done  chan struct{}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func newSniffer(t *testing.T, ports ...int) *sniffer {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM, int(htons(syscall.ETH_P_IP)))
	if err != nil {
		t.Fatalf("opening a packet socket (the tests run as root): %v", err)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_IP), Ifindex: lo.Index}); err != nil {
		t.Fatal(err)
	}
	tv := syscall.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	s := &sniffer{fd: fd, ports: map[uint16]bool{}, done: make(chan struct{})}
	for _, p := range ports {
		s.ports[uint16(p)] = true
	}
	go s.run()
	t.Cleanup(s.stop)
	return s
}

func (s *sniffer) run() {
	buf := make([]byte, 65536)
	for {
		select {
		case <-s.done:
			return
		default:
		}
		n, _, err := syscall.Recvfrom(s.fd, buf, 0)
		if err != nil || n < 20 {
			continue
		}
		if p := s.payload(buf[:n]); p != nil {
			s.mu.Lock()
			s.seen = append(s.seen, bytes.Clone(p))
			s.mu.Unlock()
		}
	}
}

// payload is the transport payload of an IPv4 TCP or UDP packet to or from
// one of the ports, or nil.
func (s *sniffer) payload(pkt []byte) []byte {
	ihl := int(pkt[0]&0x0f) * 4
	if pkt[0]>>4 != 4 || len(pkt) < ihl+8 {
		return nil
	}
	seg := pkt[ihl:]
	src, dst := binary.BigEndian.Uint16(seg[0:2]), binary.BigEndian.Uint16(seg[2:4])
	if !s.ports[src] && !s.ports[dst] {
		return nil
	}
	switch pkt[9] {
	case syscall.IPPROTO_UDP:
		return seg[8:]
	case syscall.IPPROTO_TCP:
		if off := int(seg[12]>>4) * 4; len(seg) >= off {
			return seg[off:]
		}
	}
	return nil
}

func (s *sniffer) stop() {
	select {
	case <-s.done:
	default:
		close(s.done)
		_ = syscall.Close(s.fd)
	}
}

func (s *sniffer) payloads() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.seen...)
}

func portOf(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// TestGossipCaptureShowsNothingInClear captures the gossip ports while a
// fourth node joins (a TCP push-pull of every member's metadata) and the
// members gossip over UDP: no node name, address or inventory field
// appears in clear. A marker sent in clear to the same port is captured, so
// the capture itself is proven to see that traffic.
func TestGossipCaptureShowsNothingInClear(t *testing.T) {
	c := clustertest.New(t, 3, nil)
	waitFormed(t, c, 3, 0)
	var ports []int
	for _, nd := range c.Nodes {
		ports = append(ports, portOf(t, nd.GossipAddr()))
	}
	snif := newSniffer(t, ports...)
	c.Add(false, []string{c.Nodes[0].GossipAddr()})
	waitFormed(t, c, 4, 0)
	marker := []byte("shoal-capture-marker node1")
	conn, err := net.Dial("udp", c.Nodes[1].GossipAddr())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Write(marker)
	conn.Close()
	time.Sleep(1500 * time.Millisecond) // let UDP probes and gossip run while we capture
	snif.stop()
	got := snif.payloads()
	var clear [][]byte
	for _, nd := range c.Nodes {
		clear = append(clear, []byte(nd.Name()), []byte(nd.RaftAddr()), []byte(nd.HTTPAddr()))
	}
	clear = append(clear, []byte("x86_64"), []byte(c.Nodes[0].FSM().ClusterID()))
	sawMarker, gossip := false, 0
	for _, p := range got {
		if bytes.Contains(p, marker) {
			sawMarker = true
			continue
		}
		if len(p) > 0 {
			gossip++
		}
		for _, s := range clear {
			if bytes.Contains(p, s) {
				t.Fatalf("captured gossip shows %q in clear: %q", s, p[:min(len(p), 200)])
			}
		}
	}
	if !sawMarker || gossip < 10 {
		t.Fatalf("the capture is blind: marker seen %v, %d gossip payloads", sawMarker, gossip)
	}
	t.Log(fmt.Sprintf("checked %d gossip payloads", gossip))
}
