package storage

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// eventFixture appends a known set of events one minute apart and returns them in append order.
func eventFixture(t *testing.T, s *Store) []Event {
	specs := []struct {
		typ, actor string
		user       int64
		invite     string
		server     string
	}{
		{"invite.created", "admin:root", 0, "i1", ""},
		{"invite.redeemed", "user:1", 1, "i1", "s1"},
		{"user.expired", "system", 1, "", "s1"},
		{"invite.redeemed", "user:2", 2, "i1", "s2"},
		{"user.removed", "admin:root", 2, "", "s2"},
		{"invitex.weird", "system", 0, "", ""},
		{"sync.drift", "system", 0, "", "s1"},
		{"invite.deleted", "admin:mod", 0, "i2", ""},
	}
	var out []Event
	for i, sp := range specs {
		ev, err := s.AppendEvent(Event{
			At: base.Add(time.Duration(i) * time.Minute), Type: sp.typ, Actor: sp.actor,
			UserID: sp.user, InviteID: sp.invite, ServerID: sp.server, Message: fmt.Sprint("event ", i),
		})
		mustNil(t, err, "AppendEvent")
		out = append(out, ev)
	}
	return out
}

// positions maps events back to their fixture positions.
func positions(all, got []Event) []int {
	out := []int{}
	for _, g := range got {
		out = append(out, slices.IndexFunc(all, func(e Event) bool { return e.ID == g.ID }))
	}
	return out
}

func TestEventsListFilters(t *testing.T) {
	s := newMemStore(t)
	all := eventFixture(t, s)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name string
		q    EventQuery
		want []int
	}{
		{"everything, newest first", EventQuery{}, []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{"exact type", EventQuery{Type: "invite.redeemed"}, []int{3, 1}},
		{"type prefix stops at the dot", EventQuery{Type: "invite."}, []int{7, 3, 1, 0}},
		{"unknown type", EventQuery{Type: "nothing.here"}, []int{}},
		{"actor", EventQuery{Actor: "admin:root"}, []int{4, 0}},
		{"user", EventQuery{UserID: 1}, []int{2, 1}},
		{"user and type prefix", EventQuery{UserID: 2, Type: "user."}, []int{4}},
		{"invite", EventQuery{InviteID: "i1"}, []int{3, 1, 0}},
		{"server", EventQuery{ServerID: "s1"}, []int{6, 2, 1}},
		{"since (inclusive)", EventQuery{Since: at(5)}, []int{7, 6, 5}},
		{"until (inclusive)", EventQuery{Until: at(2)}, []int{2, 1, 0}},
		{"window", EventQuery{Since: at(2), Until: at(4)}, []int{4, 3, 2}},
		{"window on an index", EventQuery{Type: "invite.", Since: at(1), Until: at(6)}, []int{3, 1}},
		{"limit", EventQuery{Limit: 3}, []int{7, 6, 5}},
		{"cursor", EventQuery{Before: all[5].ID, Limit: 2}, []int{4, 3}},
		{"cursor on an index", EventQuery{Type: "invite.", Before: all[3].ID}, []int{1, 0}},
		{"cursor and until: the lower wins", EventQuery{Before: all[6].ID, Until: at(3)}, []int{3, 2, 1, 0}},
		{"cursor below until", EventQuery{Before: all[2].ID, Until: at(6)}, []int{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListEvents(tt.q)
			mustNil(t, err, "ListEvents")
			if p := positions(all, got); !slices.Equal(p, tt.want) {
				t.Fatalf("ListEvents(%+v) = %v, want %v", tt.q, p, tt.want)
			}
		})
	}
}

func TestEventsCursorPagingVisitsEverythingOnce(t *testing.T) {
	s := newMemStore(t)
	const n = 57
	for i := range n {
		typ := "user.expired"
		if i%3 == 0 {
			typ = "invite.redeemed"
		}
		_, err := s.AppendEvent(Event{At: base.Add(time.Duration(i) * time.Second), Type: typ})
		mustNil(t, err, "AppendEvent")
	}
	for _, q := range []EventQuery{{Limit: 10}, {Limit: 4, Type: "invite."}} {
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatal("paging does not end")
			}
			q.Before = cursor
			page, err := s.ListEvents(q)
			mustNil(t, err, "ListEvents")
			if len(page) == 0 {
				break
			}
			for _, ev := range page {
				seen = append(seen, ev.ID)
			}
			cursor = page[len(page)-1].ID
		}
		want := n
		if q.Type != "" {
			want = (n + 2) / 3
		}
		if len(seen) != want || !slices.IsSortedFunc(seen, func(a, b string) int { return -cmpString(a, b) }) {
			t.Fatalf("%+v: paged %d events (sorted desc: %v), want %d", q, len(seen), slices.IsSorted(seen), want)
		}
		if len(slices.Compact(slices.Clone(seen))) != len(seen) {
			t.Fatalf("%+v: an event was returned twice", q)
		}
	}
}

// cmpString compares strings.
func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestEventsAppendValidationAndGet(t *testing.T) {
	s := newMemStore(t)
	_, err := s.AppendEvent(Event{Type: ""})
	wantErr(t, err, ErrInvalid, "empty type")
	_, err = s.AppendEvent(Event{Type: "a/b"})
	wantErr(t, err, ErrInvalid, "slash in type")
	_, err = s.AppendEvent(Event{Type: "x", ID: "not-an-event-id"})
	wantErr(t, err, ErrInvalid, "bad id")
	_, err = s.AppendEvent(Event{Type: "x", InviteID: "a/b"})
	wantErr(t, err, ErrInvalid, "slash in invite id")
	_, err = s.ListEvents(EventQuery{Before: "bogus"})
	wantErr(t, err, ErrInvalid, "bad cursor")

	before := time.Now()
	ev, err := s.AppendEvent(Event{Type: "setup.done", Data: map[string]any{"step": "admin"}})
	mustNil(t, err, "AppendEvent")
	if ev.At.Before(before) || ev.ID[:16] != timeKey(ev.At) {
		t.Fatalf("At %v / id %s not filled from now", ev.At, ev.ID)
	}
	got, err := s.GetEvent(ev.ID)
	mustNil(t, err, "GetEvent")
	if got.Type != "setup.done" || got.Data["step"] != "admin" {
		t.Fatalf("GetEvent = %+v", got)
	}
	_, err = s.AppendEvent(ev)
	wantErr(t, err, ErrExists, "appending the same id twice")
	_, err = s.GetEvent(NewEventID(base))
	wantErr(t, err, ErrNotFound, "GetEvent missing")
}

func TestDeleteEventsBeforeInChunks(t *testing.T) {
	s := newMemStore(t)
	const old, recent = deleteChunk*2 + 17, 5
	for i := range old + recent {
		_, err := s.AppendEvent(Event{At: base.Add(time.Duration(i) * time.Second), Type: "user.seen", UserID: int64(i%4 + 1), InviteID: "i1"})
		mustNil(t, err, "AppendEvent")
	}
	cut := base.Add(old * time.Second)
	n, err := s.DeleteEventsBefore(cut)
	mustNil(t, err, "DeleteEventsBefore")
	if n != old {
		t.Fatalf("deleted %d, want %d", n, old)
	}
	count, err := s.CountEvents()
	mustNil(t, err, "CountEvents")
	if count != recent {
		t.Fatalf("CountEvents = %d, want %d", count, recent)
	}
	// Every index shrank with the records: 4 index entries per remaining event.
	if keys := keysUnder(t, s, "v1/idx/event/"); len(keys) != recent*4 {
		t.Fatalf("%d index keys left, want %d", len(keys), recent*4)
	}
	left, err := s.ListEvents(EventQuery{UserID: 1})
	mustNil(t, err, "ListEvents")
	for _, ev := range left {
		if ev.At.Before(cut) {
			t.Fatalf("event at %v survived", ev.At)
		}
	}
	n, err = s.DeleteEventsBefore(cut)
	mustNil(t, err, "DeleteEventsBefore again")
	if n != 0 {
		t.Fatalf("second retention pass deleted %d", n)
	}
}

func TestRecordEvent(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.RecordEvent(Event{Type: "test.recorded", Message: "hello"}), "record")
	wantErr(t, s.RecordEvent(Event{}), ErrInvalid, "an event without a type")
	evs, err := s.ListEvents(EventQuery{Type: "test.recorded"})
	mustNil(t, err, "list")
	if len(evs) != 1 || evs[0].Message != "hello" || evs[0].ID == "" || evs[0].At.IsZero() {
		t.Errorf("events = %+v", evs)
	}
}
