package storage

import "sync"

// subscribers holds the functions told about committed events.
type subscribers struct {
	mu   sync.RWMutex
	next int
	fns  map[int]func(Event)
}

// Subscribe registers fn to be called with every event appended by a committed transaction, in commit
// order per transaction, after the commit (never for an aborted or retried attempt). fn runs on the
// committing goroutine, so it must return quickly and must not write to the store synchronously. The
// returned function unsubscribes; the store is shared by overlapping Caddy configs, so each config
// subscribes its own hooks and removes them when it stops.
func (s *Store) Subscribe(fn func(Event)) (unsubscribe func()) {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	if s.subs.fns == nil {
		s.subs.fns = make(map[int]func(Event))
	}
	id := s.subs.next
	s.subs.next++
	s.subs.fns[id] = fn
	var once sync.Once
	return func() {
		once.Do(func() {
			s.subs.mu.Lock()
			delete(s.subs.fns, id)
			s.subs.mu.Unlock()
		})
	}
}

// announce tells the subscribers about committed events.
func (s *Store) announce(evs []Event) {
	if len(evs) == 0 {
		return
	}
	s.subs.mu.RLock()
	fns := make([]func(Event), 0, len(s.subs.fns))
	for _, fn := range s.subs.fns {
		fns = append(fns, fn)
	}
	s.subs.mu.RUnlock()
	for _, ev := range evs {
		for _, fn := range fns {
			fn(ev.cloneForSubscriber())
		}
	}
}

// cloneForSubscriber copies the event's Data map so subscribers cannot change each other's view.
func (ev Event) cloneForSubscriber() Event {
	if ev.Data != nil {
		d := make(map[string]any, len(ev.Data))
		for k, v := range ev.Data {
			d[k] = v
		}
		ev.Data = d
	}
	return ev
}
