package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestCredentialsWorkOnAFullDisk: when the data disk is full the store refuses writes; API keys and
// sessions keep working (their last-use stamps are skipped) so admins can still read and look into it.
func TestCredentialsWorkOnAFullDisk(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	st, err := storage.Open(storage.DefaultOptions(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := NewAPIKeys(APIKeyOptions{Store: st, Now: c.Now})
	key, rec, err := keys.Create("ops", storage.RoleAdmin, "admin:alice")
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := NewSessions(SessionOptions{Store: st, Now: c.Now})
	tok, _, err := sess.Create("admin1", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen with a free-space threshold no disk meets: every write is refused as on a full disk.
	opts := storage.DefaultOptions(dir, nil)
	opts.MinFreeBytes = 1 << 62
	st, err = storage.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.PutSetting("probe", 1); !errors.Is(err, storage.ErrDiskFull) {
		t.Fatalf("write = %v, want ErrDiskFull (the test's premise)", err)
	}
	keys, _ = NewAPIKeys(APIKeyOptions{Store: st, Now: c.Now})
	sess, _ = NewSessions(SessionOptions{Store: st, Now: c.Now})
	c.Add(2 * time.Hour) // past every touch rate limit
	if got, err := keys.Authenticate(key); err != nil || got.ID != rec.ID {
		t.Errorf("API key on a full disk: %+v, %v", got, err)
	}
	c.Add(-(2*time.Hour - 5*time.Minute)) // within the idle timeout, past TouchEvery
	if info, err := sess.Lookup(tok); err != nil || info.AdminID != "admin1" {
		t.Errorf("session on a full disk: %+v, %v", info, err)
	}
	// A refusal that is not about disk space still fails the lookup.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Authenticate(key); err == nil {
		t.Error("Authenticate on a closed store succeeded")
	}
}
