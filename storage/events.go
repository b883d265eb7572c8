package storage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Paging limits of event listings.
const (
	DefaultEventLimit = 100
	MaxEventLimit     = 1000
)

// deleteChunk bounds the events removed per transaction by DeleteEventsBefore (each event has up to
// five keys), well under Badger's transaction size limit.
const deleteChunk = 256

// Events is the audit-log repository of a transaction. Event ids start with the event's time, so the
// primary keys and every index (…/<event id>) are in time order.
type Events struct{ tx *Tx }

// Events returns the event repository of tx.
func (tx *Tx) Events() Events { return Events{tx} }

// eventKey is the record key of event id.
func eventKey(id string) []byte { return keyOf("event", id) }

// eventCategory is the part of a dotted type before the first dot ("invite" for "invite.redeemed").
func eventCategory(typ string) string {
	if i := strings.IndexByte(typ, '.'); i >= 0 {
		return typ[:i]
	}
	return typ
}

// eventIndexKeys lists the index entries of ev: by type, by category, by user and by invite.
func eventIndexKeys(ev Event) [][]byte {
	keys := [][]byte{
		keyOf("idx", "event", "type", ev.Type, ev.ID),
		keyOf("idx", "event", "cat", eventCategory(ev.Type), ev.ID),
	}
	if ev.UserID != 0 {
		keys = append(keys, keyOf("idx", "event", "user", intKey(ev.UserID), ev.ID))
	}
	if ev.InviteID != "" {
		keys = append(keys, keyOf("idx", "event", "invite", ev.InviteID, ev.ID))
	}
	return keys
}

// EventQuery filters List. Zero fields do not filter.
type EventQuery struct {
	// Type is an exact type ("invite.redeemed") or, ending in a dot, a prefix ("invite.").
	Type string
	// Actor matches exactly.
	Actor string
	// UserID, InviteID and ServerID match the event's fields.
	UserID   int64
	InviteID string
	ServerID string
	// Since and Until bound the event time, both inclusive.
	Since time.Time
	Until time.Time
	// Before is a cursor: only events with an id lower than Before (the last id of the previous
	// page) are returned.
	Before string
	// Limit caps the result (default DefaultEventLimit, at most MaxEventLimit).
	Limit int
}

// Append stores a new event. A zero At becomes now (UTC); an empty ID becomes NewEventID(At); a given
// ID must have NewEventID's shape and must not exist (ErrExists). It returns the stored event.
func (r Events) Append(ev Event) (Event, error) {
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	if ev.ID == "" {
		ev.ID = NewEventID(ev.At)
	} else if !validEventID(ev.ID) {
		return Event{}, fmt.Errorf("event id %q is not a NewEventID: %w", ev.ID, ErrInvalid)
	}
	if err := checkSegment("event type", ev.Type); err != nil {
		return Event{}, err
	}
	if ev.InviteID != "" {
		if err := checkSegment("event invite id", ev.InviteID); err != nil {
			return Event{}, err
		}
	}
	if ok, err := r.tx.exists(eventKey(ev.ID)); err != nil {
		return Event{}, err
	} else if ok {
		return Event{}, fmt.Errorf("event %s: %w", ev.ID, ErrExists)
	}
	if err := r.tx.putJSON(eventKey(ev.ID), ev); err != nil {
		return Event{}, err
	}
	for _, k := range eventIndexKeys(ev) {
		if err := r.tx.set(badger.NewEntry(k, nil)); err != nil {
			return Event{}, err
		}
	}
	r.tx.appended = append(r.tx.appended, ev)
	return ev, nil
}

// Get returns event id.
func (r Events) Get(id string) (Event, error) {
	var ev Event
	if err := r.tx.getJSON(eventKey(id), &ev); err != nil {
		return Event{}, fmt.Errorf("event %s: %w", id, err)
	}
	return ev, nil
}

// List returns the events matching q, newest first. It walks the narrowest index available (user,
// invite, exact type, type category) or else the event log itself, from the upper time bound
// downwards, and stops at the limit or the lower bound.
func (r Events) List(q EventQuery) ([]Event, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultEventLimit
	}
	limit = min(limit, MaxEventLimit)
	if q.Before != "" && !validEventID(q.Before) {
		return nil, fmt.Errorf("event cursor %q is not an event id: %w", q.Before, ErrInvalid)
	}
	prefixType := strings.HasSuffix(q.Type, ".")
	var prefix []byte
	indexed := true
	switch {
	case q.UserID != 0:
		prefix = prefixOf("idx", "event", "user", intKey(q.UserID))
	case q.InviteID != "":
		if err := checkSegment("invite id", q.InviteID); err != nil {
			return nil, err
		}
		prefix = prefixOf("idx", "event", "invite", q.InviteID)
	case q.Type != "":
		if err := checkSegment("event type", q.Type); err != nil {
			return nil, err
		}
		if prefixType {
			prefix = prefixOf("idx", "event", "cat", eventCategory(q.Type))
		} else {
			prefix = prefixOf("idx", "event", "type", q.Type)
		}
	default:
		prefix = prefixOf("event")
		indexed = false
	}

	// Upper bound: the largest id allowed by Until, then the cursor (exclusive).
	upper := ""
	if !q.Until.IsZero() {
		upper = timeKey(q.Until) + "ffffffffffffffff"
	}
	if q.Before != "" && (upper == "" || q.Before <= upper) {
		upper = q.Before
	}
	lower := ""
	if !q.Since.IsZero() {
		lower = timeKey(q.Since)
	}
	var start []byte
	if upper != "" {
		start = append(append([]byte{}, prefix...), upper...)
	}

	var out []Event
	err := r.tx.scan(prefix, start, true, !indexed, func(item *badger.Item) (bool, error) {
		id := lastSegment(item.Key())
		if q.Before != "" && id >= q.Before {
			return true, nil
		}
		if lower != "" && id < lower {
			return false, nil
		}
		var ev Event
		if indexed {
			var err error
			if ev, err = r.Get(id); err != nil {
				return false, fmt.Errorf("event index points at a missing record: %w", err)
			}
		} else if err := decodeItem(item, &ev); err != nil {
			return false, err
		}
		if !q.matches(ev, prefixType) {
			return true, nil
		}
		out = append(out, ev)
		return len(out) < limit, nil
	})
	return out, err
}

// matches applies the filters that the chosen index did not.
func (q EventQuery) matches(ev Event, prefixType bool) bool {
	switch {
	case q.Type != "" && prefixType && !strings.HasPrefix(ev.Type, q.Type):
		return false
	case q.Type != "" && !prefixType && ev.Type != q.Type:
		return false
	case q.Actor != "" && ev.Actor != q.Actor:
		return false
	case q.UserID != 0 && ev.UserID != q.UserID:
		return false
	case q.InviteID != "" && ev.InviteID != q.InviteID:
		return false
	case q.ServerID != "" && ev.ServerID != q.ServerID:
		return false
	case !q.Since.IsZero() && ev.At.Before(q.Since):
		return false
	case !q.Until.IsZero() && ev.At.After(q.Until):
		return false
	}
	return true
}

// Count returns the number of events (reading keys only).
func (r Events) Count() (int, error) {
	return r.tx.countKeys(prefixOf("event"))
}

// deleteBefore deletes up to max events older than t (by id time) with their index entries and
// returns how many it deleted.
func (r Events) deleteBefore(t time.Time, max int) (int, error) {
	bound := timeKey(t)
	var ids []string
	err := r.tx.scan(prefixOf("event"), nil, false, false, func(item *badger.Item) (bool, error) {
		id := lastSegment(item.Key())
		if id >= bound {
			return false, nil
		}
		ids = append(ids, id)
		return len(ids) < max, nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		ev, err := r.Get(id)
		if err != nil {
			return 0, err
		}
		for _, k := range eventIndexKeys(ev) {
			if err := r.tx.del(k); err != nil {
				return 0, err
			}
		}
		if err := r.tx.del(eventKey(id)); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// RecordEvent is AppendEvent for callers that only need to know whether it was stored (the shape of
// the Record hooks of the streams poller and the notifier).
func (s *Store) RecordEvent(ev Event) error {
	_, err := s.AppendEvent(ev)
	return err
}

// AppendEvent stores a new event (see Events.Append). The id is chosen before the transaction, so a
// retried commit cannot store the event twice.
func (s *Store) AppendEvent(ev Event) (Event, error) {
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	if ev.ID == "" {
		ev.ID = NewEventID(ev.At)
	}
	var out Event
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.Events().Append(ev)
		return err
	})
	return out, err
}

// GetEvent returns event id.
func (s *Store) GetEvent(id string) (Event, error) {
	var out Event
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Events().Get(id)
		return err
	})
	return out, err
}

// ListEvents returns the events matching q, newest first.
func (s *Store) ListEvents(q EventQuery) ([]Event, error) {
	var out []Event
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Events().List(q)
		return err
	})
	return out, err
}

// CountEvents returns the number of events.
func (s *Store) CountEvents() (int, error) {
	var n int
	err := s.View(func(tx *Tx) error {
		var err error
		n, err = tx.Events().Count()
		return err
	})
	return n, err
}

// DeleteEventsBefore deletes every event older than t (retention), a chunk per transaction so a large
// log never exceeds Badger's transaction size, and returns how many it deleted.
func (s *Store) DeleteEventsBefore(t time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := s.Update(func(tx *Tx) error {
			var err error
			n, err = tx.Events().deleteBefore(t, deleteChunk)
			return err
		})
		if err != nil {
			if errors.Is(err, ErrClosed) {
				return total, err
			}
			return total, fmt.Errorf("deleting events before %s: %w", t.Format(time.RFC3339), err)
		}
		total += n
		if n < deleteChunk {
			return total, nil
		}
	}
}
