package lab

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"
)

// Pinger sends an ICMP echo request from the outside namespace (shlab-out)
// to one address at a fixed interval, from a raw socket made there, and
// records when each reply came back: a live migration's downtime, as a
// client beyond the cloud sees it, is the longest gap between replies
// around the switch-over (LongestGap).
type Pinger struct {
	ip    net.IP
	every time.Duration
	conn  *net.IPConn
	id    uint16
	stop  context.CancelFunc
	wg    sync.WaitGroup

	mu         sync.Mutex
	sent       int
	replies    []time.Time
	seen       map[uint16]bool // sequence numbers answered, this wrap
	duplicates int
	err        error
}

// PingEvery starts pinging ip from the outside every every (10 ms for a
// downtime) until ctx ends or Stop.
func (l *Lab) PingEvery(ctx context.Context, ip string, every time.Duration) (*Pinger, error) {
	addr := net.ParseIP(ip).To4()
	if addr == nil {
		return nil, fmt.Errorf("lab: ping %q: not an IPv4 address", ip)
	}
	var conn *net.IPConn
	err := inNetns(OutsideNetns, func() error {
		c, err := net.ListenIP("ip4:icmp", &net.IPAddr{IP: net.IPv4zero})
		conn = c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lab: ping socket in %s: %w", OutsideNetns, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Pinger{ip: addr, every: every, conn: conn, id: uint16(rand.N(1 << 16)), stop: cancel, seen: map[uint16]bool{}}
	p.wg.Add(2)
	go p.send(ctx)
	go p.receive()
	go func() { <-ctx.Done(); conn.Close() }()
	return p, nil
}

// Stop ends the pinging and returns the reply times, in order.
func (p *Pinger) Stop() []time.Time {
	p.stop()
	p.wg.Wait()
	return p.Replies()
}

// Replies is every reply's arrival time so far, in order.
func (p *Pinger) Replies() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.replies)
}

// Stats is how many requests went out, how many replies came back
// (duplicates apart: a sequence number answered twice) and the first error
// sending or receiving, if any.
func (p *Pinger) Stats() (sent, replies, duplicates int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, len(p.replies), p.duplicates, p.err
}

func (p *Pinger) send(ctx context.Context) {
	defer p.wg.Done()
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for seq := uint16(0); ; seq++ {
		p.mu.Lock()
		delete(p.seen, seq) // a wrap: this number is asked again
		p.mu.Unlock()
		_, err := p.conn.WriteTo(echoRequest(p.id, seq), &net.IPAddr{IP: p.ip})
		p.mu.Lock()
		if err == nil {
			p.sent++
		} else if p.err == nil && ctx.Err() == nil {
			// ENETUNREACH and the like come and go while routes move: keep on.
			p.err = err
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *Pinger) receive() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := p.conn.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		at := time.Now()
		seq, ok := echoReply(buf[:n], p.id)
		if a, isIP := from.(*net.IPAddr); !ok || !isIP || !a.IP.Equal(p.ip) {
			continue
		}
		p.mu.Lock()
		if p.seen[seq] {
			p.duplicates++
		} else {
			p.seen[seq] = true
			p.replies = append(p.replies, at)
		}
		p.mu.Unlock()
	}
}

// echoRequest is an ICMP echo request (type 8) with id and seq and an
// 8-byte payload.
func echoRequest(id, seq uint16) []byte {
	b := make([]byte, 16)
	b[0] = 8
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	binary.BigEndian.PutUint64(b[8:], uint64(time.Now().UnixNano()))
	binary.BigEndian.PutUint16(b[2:], icmpChecksum(b))
	return b
}

// echoReply returns the sequence number of an ICMP echo reply (type 0,
// the IP header stripped) with identifier id.
func echoReply(b []byte, id uint16) (uint16, bool) {
	if len(b) < 8 || b[0] != 0 || b[1] != 0 || binary.BigEndian.Uint16(b[4:]) != id {
		return 0, false
	}
	return binary.BigEndian.Uint16(b[6:]), true
}

// icmpChecksum is the Internet checksum (RFC 1071) of b, its checksum
// field zero.
func icmpChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// LongestGap is the longest stretch of [from, to] without a reply: between
// two replies in a row, or from from to the first reply, or from the last
// reply to to (the edges count, so a window with no reply at all is one
// gap of its whole length). It returns the gap and when it began. Replies
// outside the window are ignored; they need not be sorted.
func LongestGap(replies []time.Time, from, to time.Time) (time.Duration, time.Time) {
	if !to.After(from) {
		return 0, from
	}
	in := make([]time.Time, 0, len(replies)+2)
	in = append(in, from)
	for _, r := range replies {
		if !r.Before(from) && !r.After(to) {
			in = append(in, r)
		}
	}
	in = append(in, to)
	slices.SortFunc(in, func(a, b time.Time) int { return a.Compare(b) })
	var gap time.Duration
	began := from
	for i := 1; i < len(in); i++ {
		if d := in[i].Sub(in[i-1]); d > gap {
			gap, began = d, in[i-1]
		}
	}
	return gap, began
}

// FirstAfter is the first of replies (in order) at or after t, and whether
// there is one.
func FirstAfter(replies []time.Time, t time.Time) (time.Time, bool) {
	for _, r := range replies {
		if !r.Before(t) {
			return r, true
		}
	}
	return time.Time{}, false
}
