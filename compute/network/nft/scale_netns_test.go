//go:build netns

package nft

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
)

// manyPorts is the sample with n ports, all in both groups.
func manyPorts(n int) Ruleset {
	rs := sample()
	rs.Ports = nil
	for i := range n {
		rs.Ports = append(rs.Ports, Port{Tap: fmt.Sprintf("tap%011d", i),
			MAC: net.HardwareAddr{0xfa, 0x16, 0x3e, 0, byte(i >> 8), byte(i)},
			IP:  netip.AddrFrom4([4]byte{10, 88, byte(i/200 + 1), byte(i%200 + 1)}), Groups: []string{"ga", "gb"}})
	}
	return rs
}

// TestManyPortsNetns: a thousand ports are programmed whole (an element
// list over 64 KiB in one message used to be cut short by the kernel without
// an error) and read back whole, so re-applying changes nothing.
func TestManyPortsNetns(t *testing.T) {
	inThrowawayNetns(t)
	rs := manyPorts(1000)
	requireApplied(t, rs)
	for _, d := range applyWant(t, rs) {
		if !d.empty() {
			t.Errorf("re-apply changed %v: rebuild %v, %d refilled, %d sets with new elements",
				d.family, d.rebuild, len(d.refill), len(d.addElems))
		}
	}
	bridge, err := readTable(testTable, bridgeTable(rs).family)
	if err != nil || bridge == nil || len(bridge.sets) != 1 || len(bridge.sets[0].elems) != 1000 {
		t.Fatalf("ports map read back: %v, %v", bridge, err)
	}
}

// BenchmarkApplyNetns times an Apply that changes nothing (the reconciler's
// periodic resync) with 100 ports.
func BenchmarkApplyNetns(b *testing.B) {
	inThrowawayNetns(b)
	rs := manyPorts(100)
	if err := Apply(testTable, rs); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := Apply(testTable, rs); err != nil {
			b.Fatal(err)
		}
	}
}
