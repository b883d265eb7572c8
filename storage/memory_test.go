package storage

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// heapBudget is the Go heap the store may use at rest with 20,000 small records: Badger with the
// small-memory profile plus the user read model.
const heapBudget = 32 << 20

// settle is how long the test lets Badger idle before measuring "at rest": its allocator pool frees
// one pooled table-builder allocator per idle two-second tick.
const settle = 7 * time.Second

// heapInUse returns HeapInuse after two full collections.
func heapInUse() (inuse, sys uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.Sys
}

// realisticUser returns a user shaped like a synced plex.tv friend.
func realisticUser(i int) User {
	return User{
		ID:        int64(10_000_000 + i),
		UUID:      fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15),
		Username:  fmt.Sprintf("viewer%05d", i),
		Email:     fmt.Sprintf("viewer%05d@example.com", i),
		Title:     fmt.Sprintf("Viewer %05d", i),
		Thumb:     fmt.Sprintf("https://plex.tv/users/%016x/avatar?c=1700000000", uint64(i)*31),
		Kind:      KindFriend,
		Status:    StatusActive,
		Shares:    map[string]Share{"0123456789abcdef0123456789abcdef01234567": {ShareID: int64(i), Libraries: []string{"1", "2", "5"}}},
		ExpiresAt: tp(base.Add(time.Duration(i) * time.Minute)),
		CreatedAt: base,
		UpdatedAt: base,
	}
}

// TestHeapWith20000Records writes 10,000 users (all of them also in the in-memory read model) and
// 10,000 events, then prints the Go heap in use right after the writes and once Badger is at rest,
// and requires the resting heap to stay under 32 MiB. "At rest" matters: Badger keeps the buffers of
// its last table builds in an allocator pool that it frees one per two-second idle tick, and a server
// spends nearly all its time at rest (the write rate is tiny).
func TestHeapWith20000Records(t *testing.T) {
	before, _ := heapInUse()
	s := newDiskStore(t, filepath.Join(t.TempDir(), "db"))
	defer s.Close()
	const users, events, chunk = 10_000, 10_000, 500
	for start := 0; start < users; start += chunk {
		mustNil(t, s.Update(func(tx *Tx) error {
			for i := start; i < start+chunk; i++ {
				if err := tx.Users().Put(realisticUser(i)); err != nil {
					return err
				}
			}
			return nil
		}), "writing users")
	}
	for start := 0; start < events; start += chunk {
		mustNil(t, s.Update(func(tx *Tx) error {
			for i := start; i < start+chunk; i++ {
				ev := Event{At: base.Add(time.Duration(i) * time.Second), Type: "user.seen", Actor: "system",
					UserID: int64(10_000_000 + i%users), Message: "seen streaming"}
				if _, err := tx.Events().Append(ev); err != nil {
					return err
				}
			}
			return nil
		}), "writing events")
	}
	st, err := s.Stats()
	mustNil(t, err, "Stats")
	if st.Records["user"] != users || st.Records["event"] != events {
		t.Fatalf("wrote %v", st.Records)
	}

	afterWrites, _ := heapInUse()
	time.Sleep(settle)
	rest, sys := heapInUse()
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	msg := fmt.Sprintf("Go heap in use with %d users + %d events: %.1f MiB right after the writes, %.1f MiB at rest "+
		"(%.1f MiB before opening; sys %.1f MiB)", users, events, mib(afterWrites), mib(rest), mib(before), mib(sys))
	t.Log(msg)
	fmt.Println("storage:", msg)
	if rest > heapBudget {
		t.Fatalf("heap in use %.1f MiB at rest, budget %.0f MiB", mib(rest), mib(heapBudget))
	}
	runtime.KeepAlive(s)
}
