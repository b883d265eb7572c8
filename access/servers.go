package access

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Servers refreshes every server — the configured URLs and the servers already stored — from Plex and
// returns the stored list: identity, name, version and Plex Pass from the server itself, its libraries
// with their plex.tv section ids (plex.tv's map of the server), online state and latency. A server that
// cannot be reached is kept with Online false and its last known libraries; an unreachable plex.tv
// keeps the last known section ids. When ctx ends mid-refresh (Caddy stopping or reloading) the server
// being read and those after it keep what is stored.
func (s *Service) Servers(ctx context.Context) ([]storage.Server, error) {
	stored, err := s.store.ListServers()
	if err != nil {
		return nil, fmt.Errorf("reading servers: %w", err)
	}
	urls := slices.Clone(s.urls)
	for _, srv := range stored {
		if srv.URL != "" && !slices.Contains(urls, srv.URL) {
			urls = append(urls, srv.URL)
		}
	}
	var errs []error
	for _, u := range urls {
		if _, err := s.refreshServer(ctx, ActorSystem, u); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break // stopped: the servers not read yet keep what is stored
		}
	}
	list, err := s.store.ListServers()
	if err != nil {
		return nil, fmt.Errorf("reading servers: %w", err)
	}
	return list, errors.Join(errs...)
}

// ListServers returns the stored servers without asking Plex.
func (s *Service) ListServers() ([]storage.Server, error) {
	list, err := s.store.ListServers()
	if err != nil {
		return nil, fmt.Errorf("reading servers: %w", err)
	}
	return list, nil
}

// AddServer adds (or refreshes) the Plex Media Server at baseURL: it must answer and be one of the
// owner's servers on plex.tv.
func (s *Service) AddServer(ctx context.Context, actor, baseURL string) (storage.Server, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return storage.Server{}, fieldError("url", "give the server's base URL, like http://192.168.1.20:32400")
	}
	return s.refreshServer(ctx, actor, strings.TrimRight(u.String(), "/"))
}

// refreshServer reads one server and stores what it learnt. A read cut short because ctx ended (Caddy
// stopping or reloading) says nothing about the server: it is not marked offline.
func (s *Service) refreshServer(ctx context.Context, actor, baseURL string) (storage.Server, error) {
	now := s.clock()
	start := time.Now()
	id, err := s.gw.ServerIdentity(ctx, baseURL)
	latency := time.Since(start)
	if err != nil {
		return s.markOffline(ctx, baseURL, now, err)
	}
	prev, perr := s.store.GetServer(id.MachineID)
	if perr != nil && !errors.Is(perr, storage.ErrNotFound) {
		return storage.Server{}, fmt.Errorf("reading server %s: %w", id.MachineID, perr)
	}
	info, err := s.gw.ServerRoot(ctx, baseURL)
	if err = s.observe(err); err != nil {
		return s.markOffline(ctx, baseURL, now, err)
	}
	libs, err := s.gw.ServerLibraries(ctx, baseURL)
	if err = s.observe(err); err != nil {
		return s.markOffline(ctx, baseURL, now, err)
	}
	sections, serr := s.gw.Sections(ctx, id.MachineID)
	if err := stopped(ctx); serr != nil && err != nil {
		return storage.Server{}, fmt.Errorf("server at %s: %w", baseURL, err)
	}
	serr = s.observe(serr)
	next := prev
	next.ID, next.URL, next.Online, next.CheckedAt, next.UpdatedAt = id.MachineID, baseURL, true, now, now
	next.Name, next.Version, next.PlexPass = cmpOr(info.Name, prev.Name), cmpOr(info.Version, id.Version), info.PlexPass
	next.LatencyMS = latency.Milliseconds()
	if next.CreatedAt.IsZero() {
		next.CreatedAt = now
	}
	next.Libraries = make([]storage.Library, 0, len(libs))
	for _, l := range libs {
		lib := storage.Library{Key: l.Key, Title: l.Title, Type: l.Type}
		if serr == nil {
			if ids, err := sections.IDs(l.Key); err == nil && len(ids) == 1 {
				lib.SectionID = ids[0]
			}
		} else if i := slices.IndexFunc(prev.Libraries, func(p storage.Library) bool { return p.Key == l.Key }); i >= 0 {
			lib.SectionID = prev.Libraries[i].SectionID
		}
		next.Libraries = append(next.Libraries, lib)
	}
	changed := prev.ID == "" || prev.Name != next.Name || !slices.Equal(prev.Libraries, next.Libraries) || !prev.Online
	err = s.store.Update(func(tx *storage.Tx) error {
		if err := tx.Servers().Put(next); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		_, err := tx.Events().Append(newEvent(now, EventServerUpdated, actor, 0, next.ID,
			fmt.Sprintf("Server %s: %d libraries, online", next.Name, len(next.Libraries)),
			map[string]any{"libraries": len(next.Libraries), "version": next.Version}))
		return err
	})
	if err != nil {
		return storage.Server{}, fmt.Errorf("storing server %s: %w", next.ID, err)
	}
	if serr != nil {
		return next, fmt.Errorf("server %s: reading plex.tv's library map: %w", next.Name, serr)
	}
	return next, nil
}

// markOffline records that the stored server at baseURL did not answer; it returns the server with
// an error wrapping the cause. When ctx has ended the call was cut short, not unanswered: nothing is
// recorded and the error wraps an *errStopped.
func (s *Service) markOffline(ctx context.Context, baseURL string, now time.Time, cause error) (storage.Server, error) {
	if err := stopped(ctx); err != nil {
		return storage.Server{}, fmt.Errorf("server at %s: %w", baseURL, err)
	}
	list, err := s.store.ListServers()
	if err != nil {
		return storage.Server{}, fmt.Errorf("reading servers: %w", err)
	}
	i := slices.IndexFunc(list, func(srv storage.Server) bool { return srv.URL == baseURL })
	if i < 0 {
		return storage.Server{}, fmt.Errorf("server at %s: %w", baseURL, cause)
	}
	srv := list[i]
	was := srv.Online
	srv.Online, srv.CheckedAt = false, now
	err = s.store.Update(func(tx *storage.Tx) error {
		if err := tx.Servers().Put(srv); err != nil {
			return err
		}
		if !was {
			return nil
		}
		_, err := tx.Events().Append(newEvent(now, EventServerOffline, ActorSystem, 0, srv.ID,
			fmt.Sprintf("Server %s does not answer: %s", srv.Name, Explain(cause)), nil))
		return err
	})
	if err != nil {
		return storage.Server{}, fmt.Errorf("storing server %s: %w", srv.ID, err)
	}
	return srv, fmt.Errorf("server %s is offline: %w", srv.Name, cause)
}
