package main

import (
	"fmt"
	"net/netip"
	"sync/atomic"
)

// clientPool hands out simulated client addresses in turn: each request of the load generator
// names the next one in X-Forwarded-For, so that a server trusting loopback as a proxy sees the
// load as many visitors, each sending a small share of it.
type clientPool struct {
	addrs []string
	next  atomic.Uint64
}

// newClientPool returns n addresses counted up from 10.0.0.1 (at most the 2^24 - 2 of 10.0.0.0/8
// after it). The strings are built once, so the load generator's cost per request does not depend
// on the pool.
func newClientPool(n int) (*clientPool, error) {
	if n < 1 || n > 1<<24-2 {
		return nil, fmt.Errorf("client pool of %d addresses: want 1 to %d", n, 1<<24-2)
	}
	p := &clientPool{addrs: make([]string, n)}
	a := netip.AddrFrom4([4]byte{10, 0, 0, 0})
	for i := range p.addrs {
		a = a.Next()
		p.addrs[i] = a.String()
	}
	return p, nil
}

// addr returns the next address, round robin over the pool; safe for concurrent use.
func (p *clientPool) addr() string {
	return p.addrs[(p.next.Add(1)-1)%uint64(len(p.addrs))]
}

// size is the number of addresses.
func (p *clientPool) size() int { return len(p.addrs) }
