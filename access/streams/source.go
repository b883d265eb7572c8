package streams

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/plex-manager/caddy-plex-manager/plex"
)

// MetadataReader reads a library item with its versions; *plex.Server implements it. A Target's
// Source must implement it for SourceResolver to look anything up.
type MetadataReader interface {
	Metadata(ctx context.Context, ratingKey string) (plex.Metadata, error)
}

// Defaults of SourceResolverOptions.
const (
	DefaultSourceTTL        = 10 * time.Minute
	DefaultSourceRetryAfter = time.Minute
	DefaultSourceTimeout    = 10 * time.Second
	// maxSourceEntries bounds the cache; expired entries are swept when it is reached.
	maxSourceEntries = 4096
)

// SourceResolverOptions configure a SourceResolver.
type SourceResolverOptions struct {
	// TTL is how long an item's versions are kept (default 10m).
	TTL time.Duration
	// RetryAfter is how long a failed lookup is remembered, so that a broken server or a
	// vanished item is not asked again at every poll (default 1m).
	RetryAfter time.Duration
	// Timeout bounds one lookup (default 10s), so a slow server cannot hold the poll.
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// SourceResolver finds the source resolution of transcoded streams: during a transcode the
// session describes the transcoder's output, so it reads the item's versions from the server
// (GET /library/metadata/{ratingKey}) and picks the one being played by its Media@id. Versions
// are cached per (server, rating key). Its Resolve method is an Options.SourceResolution:
//
//	streams.Options{SourceResolution: streams.NewSourceResolver(streams.SourceResolverOptions{}).Resolve}
//
// It is safe for concurrent use.
type SourceResolver struct {
	opts SourceResolverOptions

	mu    sync.Mutex
	cache map[sourceKey]sourceEntry
}

// sourceKey identifies an item: server machineIdentifier and rating key.
type sourceKey struct {
	server, ratingKey string
}

// sourceEntry is a cached lookup: the item's versions, or why they could not be read.
type sourceEntry struct {
	versions []plex.MediaVersion
	err      error
	fetched  time.Time
	expires  time.Time
}

// NewSourceResolver returns a SourceResolver with an empty cache.
func NewSourceResolver(opts SourceResolverOptions) *SourceResolver {
	if opts.TTL <= 0 {
		opts.TTL = DefaultSourceTTL
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultSourceRetryAfter
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultSourceTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &SourceResolver{opts: opts, cache: map[sourceKey]sourceEntry{}}
}

// errNoItem is returned for streams that have no library item to look up.
var errNoItem = errors.New("the stream has no library item (live TV or a channel)")

// Resolve returns the resolution of the file a stream plays ("4k", "1080"…, normalised as
// NormalizeResolution does). A stream whose video is not transcoded delivers its source, so
// its own resolution is returned without a call ("" for music and photos). For a transcoded
// video it reads the item's versions from t.Source (cached) and picks the one whose id is the
// session's Media@id; an item with a single version, or whose versions all have one
// resolution, needs no match. An error means the source is unknown: the rules then leave the
// stream alone.
func (r *SourceResolver) Resolve(ctx context.Context, t Target, s plex.Session) (string, error) {
	if s.Transcode == nil || s.Transcode.VideoDecision != "transcode" {
		return NormalizeResolution(s.Media.Resolution), nil
	}
	if s.Live || !isRatingKey(s.RatingKey) {
		return "", errNoItem
	}
	reader, ok := t.Source.(MetadataReader)
	if !ok {
		return "", fmt.Errorf("the connection to server %s cannot read item metadata", t.ID)
	}
	key := sourceKey{server: t.ID, ratingKey: s.RatingKey}
	e, ok := r.cached(key)
	if ok && e.err == nil && s.Media.ID != "" && !hasVersion(e.versions, s.Media.ID) &&
		r.opts.Now().Sub(e.fetched) >= r.opts.RetryAfter {
		ok = false // a version added since the lookup: read the item again
	}
	if !ok {
		e = r.fetch(ctx, reader, key)
	}
	if e.err != nil {
		return "", e.err
	}
	return pickSource(e.versions, s.Media.ID)
}

// cached returns the live cache entry of an item.
func (r *SourceResolver) cached(key sourceKey) (sourceEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.cache[key]
	if !ok || !r.opts.Now().Before(e.expires) {
		return sourceEntry{}, false
	}
	return e, true
}

// fetch reads an item's versions under the timeout and caches the outcome: versions for TTL, a
// failure for RetryAfter. A cancelled caller is not cached.
func (r *SourceResolver) fetch(ctx context.Context, reader MetadataReader, key sourceKey) sourceEntry {
	cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	m, err := reader.Metadata(cctx, key.ratingKey)
	now := r.opts.Now()
	e := sourceEntry{versions: m.Media, fetched: now, expires: now.Add(r.opts.TTL)}
	if err != nil {
		e = sourceEntry{err: fmt.Errorf("reading item %s on server %s: %w", key.ratingKey, key.server, err),
			fetched: now, expires: now.Add(r.opts.RetryAfter)}
		if ctx.Err() != nil {
			return e
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cache) >= maxSourceEntries {
		r.sweepLocked(now)
	}
	r.cache[key] = e
	return e
}

// sweepLocked drops expired entries, then arbitrary ones while the cache is still full.
func (r *SourceResolver) sweepLocked(now time.Time) {
	for k, e := range r.cache {
		if !now.Before(e.expires) {
			delete(r.cache, k)
		}
	}
	for k := range r.cache {
		if len(r.cache) < maxSourceEntries {
			return
		}
		delete(r.cache, k)
	}
}

// pickSource returns the resolution of the version being played.
func pickSource(versions []plex.MediaVersion, mediaID string) (string, error) {
	if v, ok := (plex.Metadata{Media: versions}).Version(mediaID); ok {
		return versionResolution(v)
	}
	if len(versions) == 0 {
		return "", errors.New("the item has no media")
	}
	first, err := versionResolution(versions[0])
	if err != nil {
		return "", err
	}
	for _, v := range versions[1:] {
		if res, err := versionResolution(v); err != nil || res != first {
			return "", fmt.Errorf("the item has %d versions and none is the stream's (Media@id %q)", len(versions), mediaID)
		}
	}
	return first, nil
}

// versionResolution is a version's normalised resolution; a version without one is 4K when its
// frame is (a 3840×1600 film is 4K), else unknown.
func versionResolution(v plex.MediaVersion) (string, error) {
	if res := NormalizeResolution(v.Resolution); res != "" {
		return res, nil
	}
	if v.Width >= 3840 || v.Height >= 2160 {
		return "4k", nil
	}
	return "", errors.New("the server gave no resolution for the item")
}

// hasVersion reports whether a version has the id.
func hasVersion(versions []plex.MediaVersion, id string) bool {
	for _, v := range versions {
		if v.ID == id {
			return true
		}
	}
	return false
}

// isRatingKey reports whether k is a library rating key (digits); live TV and channel items
// have other keys and no metadata to read.
func isRatingKey(k string) bool {
	if k == "" || len(k) > 20 {
		return false
	}
	for _, c := range k {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
