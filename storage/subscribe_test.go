package storage

import (
	"errors"
	"sync"
	"testing"
)

func TestSubscribersSeeCommittedEventsOnly(t *testing.T) {
	s := newMemStore(t)
	var mu sync.Mutex
	var seen []string
	unsub := s.Subscribe(func(ev Event) {
		mu.Lock()
		seen = append(seen, ev.Type)
		mu.Unlock()
	})

	// A committed transaction with two events announces both, in order.
	if err := s.Update(func(tx *Tx) error {
		if _, err := tx.Events().Append(Event{Type: "a.one", Actor: "system", Message: "1"}); err != nil {
			return err
		}
		_, err := tx.Events().Append(Event{Type: "a.two", Actor: "system", Message: "2"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// An aborted transaction announces nothing.
	boom := errors.New("boom")
	if err := s.Update(func(tx *Tx) error {
		if _, err := tx.Events().Append(Event{Type: "b.aborted", Actor: "system", Message: "x"}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	// Store-level append announces too.
	if _, err := s.AppendEvent(Event{Type: "c.direct", Actor: "system", Message: "3"}); err != nil {
		t.Fatal(err)
	}
	unsub()
	unsub() // idempotent
	if _, err := s.AppendEvent(Event{Type: "d.after", Actor: "system", Message: "4"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"a.one", "a.two", "c.direct"}
	if len(seen) != len(want) {
		t.Fatalf("seen %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("seen %v, want %v", seen, want)
		}
	}
}
