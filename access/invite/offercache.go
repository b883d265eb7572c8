package invite

import (
	"strings"
	"sync"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// maxCachedOffers bounds the codes whose reads are kept (a few hundred bytes each). Unknown codes
// are never kept, so probing cannot fill the cache; when it is full, everything is dropped.
const maxCachedOffers = 1024

// offer is what LookupOffer reads for one code: the invite and the servers it names (none when the
// invite was unusable).
type offer struct {
	inv     storage.Invite
	servers []storage.Server
}

// offerCache keeps offers by code for one value of the store's change counter. It is safe for
// concurrent use; kept offers are never modified.
type offerCache struct {
	mu      sync.RWMutex
	gen     uint64
	entries map[string]offer // by lower-case code, as the store matches codes
	max     int
}

// newOfferCache returns an empty cache of at most max offers.
func newOfferCache(max int) *offerCache {
	return &offerCache{entries: make(map[string]offer), max: max}
}

// get returns the offer kept for code if it was read at generation gen.
func (c *offerCache) get(code string, gen uint64) (offer, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != gen {
		return offer{}, false
	}
	o, ok := c.entries[strings.ToLower(code)]
	return o, ok
}

// put keeps o, read for code at generation gen. Offers of another generation are dropped first (a
// late put of an older generation only costs the newer entries a re-read: get compares with the
// store's current value).
func (c *offerCache) put(code string, gen uint64, o offer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		clear(c.entries)
		c.gen = gen
	}
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[strings.ToLower(code)] = o
}
