package auth

import (
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
)

// newClock returns a settable clock that starts at the present time.
func newClock() *testclock.Clock { return testclock.New(time.Now()) }

// cheapParams keep test hashing fast (the format and code paths are the same).
var cheapParams = Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}
