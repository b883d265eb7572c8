package storage

import (
	"bytes"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	s := newMemStore(t)
	exp := time.Now().Add(time.Hour)
	mustNil(t, s.CommitSession("tok1", Session{Data: []byte("anon"), Expiry: exp}), "anonymous session")
	got, err := s.FindSession("tok1")
	mustNil(t, err, "FindSession")
	if !bytes.Equal(got.Data, []byte("anon")) || got.AdminID != "" {
		t.Fatalf("FindSession = %+v", got)
	}
	// Sign-in: the same token now belongs to an admin; later it moves to another admin.
	mustNil(t, s.CommitSession("tok1", Session{AdminID: "a1", Data: []byte("in"), Expiry: exp}), "sign in")
	if keys := keysUnder(t, s, "v1/idx/session/admin/a1/"); len(keys) != 1 {
		t.Fatalf("admin index = %v", keys)
	}
	mustNil(t, s.CommitSession("tok1", Session{AdminID: "a2", Data: []byte("in"), Expiry: exp}), "switch admin")
	if keys := keysUnder(t, s, "v1/idx/session/admin/"); len(keys) != 1 || keys[0] != "v1/idx/session/admin/a2/tok1" {
		t.Fatalf("admin index after switch = %v", keys)
	}
	n, err := s.DeleteSessionsByAdmin("a1")
	mustNil(t, err, "DeleteSessionsByAdmin a1")
	if n != 0 {
		t.Fatalf("a1 had %d sessions after the switch", n)
	}
	mustNil(t, s.CommitSession("tok2", Session{AdminID: "a2", Expiry: exp}), "second device")
	n, err = s.DeleteSessionsByAdmin("a2")
	mustNil(t, err, "DeleteSessionsByAdmin a2")
	if n != 2 {
		t.Fatalf("DeleteSessionsByAdmin = %d, want 2", n)
	}
	for _, tok := range []string{"tok1", "tok2"} {
		_, err := s.FindSession(tok)
		wantErr(t, err, ErrNotFound, "session after sign-out everywhere")
	}
	if keys := keysUnder(t, s, "v1/idx/session/"); len(keys) != 0 {
		t.Fatalf("index left: %v", keys)
	}

	// Delete, and Commit with a past expiry, remove the session.
	mustNil(t, s.CommitSession("tok3", Session{AdminID: "a3", Expiry: exp}), "tok3")
	mustNil(t, s.DeleteSession("tok3"), "DeleteSession")
	mustNil(t, s.DeleteSession("tok3"), "DeleteSession twice")
	mustNil(t, s.CommitSession("tok4", Session{AdminID: "a4", Expiry: exp}), "tok4")
	mustNil(t, s.CommitSession("tok4", Session{AdminID: "a4", Expiry: time.Now().Add(-time.Second)}), "expire tok4")
	_, err = s.FindSession("tok4")
	wantErr(t, err, ErrNotFound, "session committed with a past expiry")
	if keys := keysUnder(t, s, "v1/"); len(keys) != 0 {
		t.Fatalf("keys left: %v", keys)
	}

	wantErr(t, s.CommitSession("", Session{Expiry: exp}), ErrInvalid, "empty token hash")
	wantErr(t, s.CommitSession("a/b", Session{Expiry: exp}), ErrInvalid, "slash in token hash")
	wantErr(t, s.CommitSession("t", Session{AdminID: "x/y", Expiry: exp}), ErrInvalid, "slash in admin id")
}

func TestSessionExpiry(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.CommitSession("short", Session{AdminID: "a1", Expiry: time.Now().Add(150 * time.Millisecond)}), "commit")
	_, err := s.FindSession("short")
	mustNil(t, err, "FindSession before expiry")
	time.Sleep(200 * time.Millisecond)
	// Expired to Find at once (exact time), even though Badger's TTL has one-second resolution.
	_, err = s.FindSession("short")
	wantErr(t, err, ErrNotFound, "FindSession after expiry")
	// And Badger itself drops the record and the index entry within its TTL resolution.
	deadline := time.Now().Add(3 * time.Second)
	for len(keysUnder(t, s, "v1/")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("keys still visible after TTL: %v", keysUnder(t, s, "v1/"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTTLExpiresAtRoundsUp(t *testing.T) {
	sec := time.Unix(1_700_000_000, 0)
	if got := ttlExpiresAt(sec); got != 1_700_000_000 {
		t.Errorf("whole second: %d", got)
	}
	if got := ttlExpiresAt(sec.Add(time.Nanosecond)); got != 1_700_000_001 {
		t.Errorf("just after a second: %d", got)
	}
}
