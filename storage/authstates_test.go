package storage

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestStatesTakeIsSingleUse(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutState("oauth", "st4te/with?odd=chars", []byte("verifier"), time.Minute), "PutState")
	mustNil(t, s.PutState("pin", "st4te/with?odd=chars", []byte("other kind"), time.Minute), "PutState other kind")
	v, err := s.TakeState("oauth", "st4te/with?odd=chars")
	mustNil(t, err, "TakeState")
	if !bytes.Equal(v, []byte("verifier")) {
		t.Fatalf("TakeState = %q", v)
	}
	_, err = s.TakeState("oauth", "st4te/with?odd=chars")
	wantErr(t, err, ErrNotFound, "second TakeState")
	v, err = s.TakeState("pin", "st4te/with?odd=chars")
	mustNil(t, err, "TakeState of the other kind")
	if string(v) != "other kind" {
		t.Fatalf("kinds mixed up: %q", v)
	}
	_, err = s.TakeState("oauth", "never-put")
	wantErr(t, err, ErrNotFound, "TakeState of unknown state")
}

func TestStatesValidation(t *testing.T) {
	s := newMemStore(t)
	tests := []struct {
		name      string
		kind, key string
		ttl       time.Duration
	}{
		{"empty kind", "", "k", time.Minute},
		{"slash in kind", "a/b", "k", time.Minute},
		{"empty key", "oauth", "", time.Minute},
		{"zero ttl", "oauth", "k", 0},
		{"negative ttl", "oauth", "k", -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, s.PutState(tt.kind, tt.key, []byte("x"), tt.ttl), ErrInvalid, "PutState")
		})
	}
	_, err := s.TakeState("", "k")
	wantErr(t, err, ErrInvalid, "TakeState empty kind")
}

func TestStatesExpireWithShortTTL(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutState("oauth", "soon", []byte("x"), 100*time.Millisecond), "PutState soon")
	mustNil(t, s.PutState("oauth", "later", []byte("y"), time.Minute), "PutState later")
	time.Sleep(150 * time.Millisecond)
	_, err := s.TakeState("oauth", "soon")
	wantErr(t, err, ErrNotFound, "TakeState after expiry")
	v, err := s.TakeState("oauth", "later")
	mustNil(t, err, "TakeState of the unexpired state")
	if string(v) != "y" {
		t.Fatalf("got %q", v)
	}
	// Badger's TTL removes the expired key by itself.
	deadline := time.Now().Add(3 * time.Second)
	for len(keysUnder(t, s, "v1/state/")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("expired state still stored: %v", keysUnder(t, s, "v1/state/"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestConcurrentTakeStateOnlyOneWins(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutState("pin", "p1", []byte("token"), time.Minute), "PutState")
	const n = 16
	var wg sync.WaitGroup
	results := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.TakeState("pin", "p1")
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrNotFound):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d takers got the state, want exactly 1", wins)
	}
}
