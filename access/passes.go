package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// lastPassKey is the setting holding when each kind of pass last finished (also passes that found
// nothing to do and were not stored as reports).
const lastPassKey = "access.last_passes"

// savePass stores a pass report as a pass.* event when store is set, and always notes the pass time.
func (s *Service) savePass(eventType, actor string, report any, store bool, message string) error {
	now := s.clock()
	var data map[string]any
	if store {
		b, err := json.Marshal(report)
		if err != nil {
			return fmt.Errorf("encoding the pass report: %w", err)
		}
		if err := json.Unmarshal(b, &data); err != nil {
			return fmt.Errorf("encoding the pass report: %w", err)
		}
	}
	err := s.store.Update(func(tx *storage.Tx) error {
		last := map[string]time.Time{}
		if err := tx.Settings().Get(lastPassKey, &last); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		last[eventType] = now
		if err := tx.Settings().Put(lastPassKey, last); err != nil {
			return err
		}
		if !store {
			return nil
		}
		_, err := tx.Events().Append(newEvent(now, eventType, actor, 0, "", message, map[string]any{"report": data}))
		return err
	})
	if err != nil {
		return fmt.Errorf("storing the pass report: %w", err)
	}
	return nil
}

// lastPasses returns when each kind of pass last finished.
func (s *Service) lastPasses() (map[string]time.Time, error) {
	last := map[string]time.Time{}
	if err := s.store.GetSetting(lastPassKey, &last); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("reading pass times: %w", err)
	}
	return last, nil
}

// RecentPasses lists the last stored pass reports (sync, enforce, purge, history), newest first; a
// limit ≤ 0 means 20.
func (s *Service) RecentPasses(limit int) ([]PassSummary, error) {
	if limit <= 0 {
		limit = 20
	}
	evs, err := s.store.ListEvents(storage.EventQuery{Type: "pass.", Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("reading pass reports: %w", err)
	}
	out := make([]PassSummary, 0, len(evs))
	for _, ev := range evs {
		p := PassSummary{ID: ev.ID, Kind: strings.TrimPrefix(ev.Type, "pass."), Actor: ev.Actor, At: ev.At, Message: ev.Message}
		if rep, ok := ev.Data["report"].(map[string]any); ok {
			p.Report = rep
			if e, ok := rep["error"].(string); ok {
				p.Error = e
			}
			if cs, ok := rep["changes"].([]any); ok {
				p.Changes = len(cs)
				for _, c := range cs {
					if m, ok := c.(map[string]any); ok && m["result"] == ResultFailed {
						p.Failures++
					}
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}
