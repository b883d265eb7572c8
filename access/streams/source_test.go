package streams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/internal/testclock"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/plex/plextest"
)

// metadataStub is a Source whose items are programmed; it counts Metadata calls.
type metadataStub struct {
	mu       sync.Mutex
	items    map[string]plex.Metadata
	errs     map[string]error
	calls    int
	deadline time.Duration // time left on the last call's context
}

func (m *metadataStub) Sessions(context.Context) ([]plex.Session, error) { return nil, nil }
func (m *metadataStub) Terminate(context.Context, string, string) error  { return nil }
func (m *metadataStub) Thumb(context.Context, string) (plex.Image, error) {
	return plex.Image{}, nil
}

func (m *metadataStub) Metadata(ctx context.Context, ratingKey string) (plex.Metadata, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if d, ok := ctx.Deadline(); ok {
		m.deadline = time.Until(d)
	}
	if err := ctx.Err(); err != nil {
		return plex.Metadata{}, err
	}
	if err := m.errs[ratingKey]; err != nil {
		return plex.Metadata{}, err
	}
	it, ok := m.items[ratingKey]
	if !ok {
		return plex.Metadata{}, &plex.Error{Kind: plex.ErrNotFound, Status: 404, Message: "no such item"}
	}
	return it, nil
}

func (m *metadataStub) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// noMetadata is a Source that cannot read metadata.
type noMetadata struct{}

func (noMetadata) Sessions(context.Context) ([]plex.Session, error)  { return nil, nil }
func (noMetadata) Terminate(context.Context, string, string) error   { return nil }
func (noMetadata) Thumb(context.Context, string) (plex.Image, error) { return plex.Image{}, nil }

// transcoded is a movie session whose video is transcoded to 1080p.
func transcoded(ratingKey, mediaID string) plex.Session {
	return plex.Session{ID: "s-" + ratingKey, RatingKey: ratingKey, Type: "movie",
		Media:     plex.SessionMedia{ID: mediaID, Resolution: "1080"},
		Transcode: &plex.Transcode{VideoDecision: "transcode", AudioDecision: "copy"}}
}

func TestSourceResolverPicksThePlayedVersion(t *testing.T) {
	uhd := plex.MediaVersion{ID: "1", Resolution: "4k", Width: 3840, Height: 2160}
	hd := plex.MediaVersion{ID: "2", Resolution: "1080", Width: 1920, Height: 1080}
	hd2 := plex.MediaVersion{ID: "3", Resolution: "1080p", Width: 1920, Height: 800}
	stub := &metadataStub{
		items: map[string]plex.Metadata{
			"10": {RatingKey: "10", Media: []plex.MediaVersion{uhd, hd}},
			"11": {RatingKey: "11", Media: []plex.MediaVersion{hd, hd2}},
			"12": {RatingKey: "12", Media: []plex.MediaVersion{uhd}},
			"13": {RatingKey: "13", Media: []plex.MediaVersion{{ID: "5", Width: 3840, Height: 1600}}},
			"14": {RatingKey: "14", Media: []plex.MediaVersion{{ID: "6", Width: 1920, Height: 1080}}},
			"15": {RatingKey: "15"},
			"16": {RatingKey: "16", Media: []plex.MediaVersion{{ID: "7", Resolution: "2160"}}},
		},
		errs: map[string]error{"20": &plex.Error{Kind: plex.ErrOffline, Message: "no answer"}},
	}
	live := transcoded("10", "1")
	live.Live = true
	direct := plex.Session{RatingKey: "10", Media: plex.SessionMedia{ID: "1", Resolution: "4K"}}
	audioOnly := plex.Session{RatingKey: "10", Media: plex.SessionMedia{ID: "1", Resolution: "2160p"},
		Transcode: &plex.Transcode{VideoDecision: "copy", AudioDecision: "transcode"}}
	track := plex.Session{RatingKey: "30", Type: "track", Transcode: &plex.Transcode{AudioDecision: "transcode"}}

	tests := []struct {
		name    string
		source  Source
		session plex.Session
		want    string
		wantErr string
		calls   int
	}{
		{"direct play is its own source", stub, direct, "4k", "", 0},
		{"audio-only transcode keeps the video", stub, audioOnly, "4k", "", 0},
		{"music has no resolution", stub, track, "", "", 0},
		{"4K version played", stub, transcoded("10", "1"), "4k", "", 1},
		{"1080p version of a 4K+1080p item", stub, transcoded("10", "2"), "1080", "", 1},
		{"unknown id, versions differ: no guess", stub, transcoded("10", "9"), "", "none is the stream's", 1},
		{"no id, versions differ: no guess", stub, transcoded("10", ""), "", "none is the stream's", 1},
		{"unknown id, versions agree", stub, transcoded("11", "9"), "1080", "", 1},
		{"single version, unknown id", stub, transcoded("12", "9"), "4k", "", 1},
		{"no resolution, 4K frame", stub, transcoded("13", "5"), "4k", "", 1},
		{"no resolution, HD frame", stub, transcoded("14", "6"), "", "no resolution", 1},
		{"no media", stub, transcoded("15", "1"), "", "no media", 1},
		{"2160 is 4k", stub, transcoded("16", "7"), "4k", "", 1},
		{"item gone", stub, transcoded("19", "1"), "", "no such item", 1},
		{"server down", stub, transcoded("20", "1"), "", "no answer", 1},
		{"live TV", stub, live, "", "no library item", 0},
		{"channel item", stub, transcoded("tv.plex.provider.epg:55", "1"), "", "no library item", 0},
		{"no rating key", stub, transcoded("", "1"), "", "no library item", 0},
		{"source cannot read metadata", noMetadata{}, transcoded("10", "1"), "", "cannot read item metadata", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewSourceResolver(SourceResolverOptions{})
			before := stub.count()
			got, err := r.Resolve(context.Background(), Target{ID: "m1", Source: tt.source}, tt.session)
			if got != tt.want {
				t.Errorf("resolution = %q, want %q", got, tt.want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if n := stub.count() - before; n != tt.calls {
				t.Errorf("%d metadata calls, want %d", n, tt.calls)
			}
		})
	}
	r := NewSourceResolver(SourceResolverOptions{})
	_, err := r.Resolve(context.Background(), Target{ID: "m1", Source: stub}, transcoded("19", "1"))
	if !errors.Is(err, plex.ErrNotFound) {
		t.Errorf("the plex error kind is lost: %v", err)
	}
}

func TestSourceResolverCache(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC))
	stub := &metadataStub{items: map[string]plex.Metadata{
		"10": {RatingKey: "10", Media: []plex.MediaVersion{{ID: "1", Resolution: "4k"}, {ID: "2", Resolution: "1080"}}},
	}}
	r := NewSourceResolver(SourceResolverOptions{TTL: 5 * time.Minute, RetryAfter: time.Minute, Timeout: 3 * time.Second, Now: clk.Now})
	ctx := context.Background()
	m1, m2 := Target{ID: "m1", Source: stub}, Target{ID: "m2", Source: stub}
	resolve := func(tg Target, s plex.Session) string {
		t.Helper()
		res, err := r.Resolve(ctx, tg, s)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		return res
	}

	steps := []struct {
		name    string
		advance time.Duration
		target  Target
		session plex.Session
		want    string
		calls   int // total so far
	}{
		{"first lookup", 0, m1, transcoded("10", "1"), "4k", 1},
		{"same item, other version: cached", 0, m1, transcoded("10", "2"), "1080", 1},
		{"same rating key on another server", 0, m2, transcoded("10", "1"), "4k", 2},
		{"still cached before the TTL", 4 * time.Minute, m1, transcoded("10", "1"), "4k", 2},
		{"read again after the TTL", 2 * time.Minute, m1, transcoded("10", "1"), "4k", 3},
	}
	for _, st := range steps {
		clk.Add(st.advance)
		if got := resolve(st.target, st.session); got != st.want || stub.count() != st.calls {
			t.Fatalf("%s: %q after %d calls, want %q after %d", st.name, got, stub.count(), st.want, st.calls)
		}
	}
	if stub.deadline <= 0 || stub.deadline > 3*time.Second {
		t.Errorf("lookup deadline %s, want within the 3s timeout", stub.deadline)
	}

	// A version added after the lookup is read again, at most once per RetryAfter.
	stub.mu.Lock()
	stub.items["10"] = plex.Metadata{RatingKey: "10", Media: []plex.MediaVersion{{ID: "1", Resolution: "4k"}, {ID: "2", Resolution: "1080"}, {ID: "3", Resolution: "720"}}}
	stub.mu.Unlock()
	if _, err := r.Resolve(ctx, m1, transcoded("10", "3")); err == nil || stub.count() != 3 {
		t.Fatalf("unknown version right after a lookup: %v, %d calls (want no new call)", err, stub.count())
	}
	clk.Add(time.Minute)
	if got := resolve(m1, transcoded("10", "3")); got != "720" || stub.count() != 4 {
		t.Fatalf("new version: %q after %d calls", got, stub.count())
	}

	// Failures are remembered for RetryAfter.
	stub.mu.Lock()
	stub.errs = map[string]error{"11": &plex.Error{Kind: plex.ErrOffline, Message: "no answer"}}
	stub.items["11"] = plex.Metadata{RatingKey: "11", Media: []plex.MediaVersion{{ID: "4", Resolution: "4k"}}}
	stub.mu.Unlock()
	for range 3 {
		if _, err := r.Resolve(ctx, m1, transcoded("11", "4")); !errors.Is(err, plex.ErrOffline) {
			t.Fatalf("failing lookup: %v", err)
		}
	}
	if stub.count() != 5 {
		t.Fatalf("%d calls: a failure was asked again within RetryAfter", stub.count())
	}
	stub.mu.Lock()
	stub.errs = nil
	stub.mu.Unlock()
	clk.Add(time.Minute)
	if got := resolve(m1, transcoded("11", "4")); got != "4k" || stub.count() != 6 {
		t.Fatalf("after RetryAfter: %q, %d calls", got, stub.count())
	}

	// A cancelled caller's failure is not remembered.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Resolve(cancelled, m2, transcoded("12", "1")); err == nil {
		t.Fatal("a cancelled lookup succeeded")
	}
	stub.mu.Lock()
	stub.items["12"] = plex.Metadata{RatingKey: "12", Media: []plex.MediaVersion{{ID: "1", Resolution: "720"}}}
	stub.mu.Unlock()
	if got := resolve(m2, transcoded("12", "1")); got != "720" || stub.count() != 8 {
		t.Fatalf("after a cancelled lookup: %q, %d calls", got, stub.count())
	}
}

func TestSourceResolverCacheIsBounded(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC))
	stub := &metadataStub{items: map[string]plex.Metadata{}}
	for i := range maxSourceEntries + 10 {
		k := fmt.Sprint(i + 1)
		stub.items[k] = plex.Metadata{RatingKey: k, Media: []plex.MediaVersion{{ID: "1", Resolution: "1080"}}}
	}
	r := NewSourceResolver(SourceResolverOptions{TTL: time.Hour, Now: clk.Now})
	for i := range maxSourceEntries + 10 {
		if i == maxSourceEntries/2 {
			clk.Add(2 * time.Hour) // the first half has expired
		}
		if _, err := r.Resolve(context.Background(), Target{ID: "m", Source: stub}, transcoded(fmt.Sprint(i+1), "1")); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	n := len(r.cache)
	expired := 0
	for _, e := range r.cache {
		if !clk.Now().Before(e.expires) {
			expired++
		}
	}
	r.mu.Unlock()
	if n > maxSourceEntries || n < maxSourceEntries/2 || expired != 0 {
		t.Errorf("cache holds %d entries (%d expired), want at most %d with the expired ones swept", n, expired, maxSourceEntries)
	}
}

// sourceEnv is an env whose poller resolves sources through the server's metadata, with the
// rules saved.
func sourceEnv(t *testing.T, rules Rules) (*env, *SourceResolver) {
	t.Helper()
	var r *SourceResolver
	e := newEnv(t, plextest.Options{}, func(o *Options) {
		r = NewSourceResolver(SourceResolverOptions{Now: o.Now})
		o.SourceResolution = r.Resolve
	})
	if err := SaveRules(e.store, rules); err != nil {
		t.Fatal(err)
	}
	return e, r
}

func TestNo4KTranscodeRuleWithMetadataSource(t *testing.T) {
	e, _ := sourceEnv(t, Rules{No4KTranscode: true})
	const route = "GET /library/metadata/{ratingKey}"
	uhdToHD := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, Title: "Harbor Lights", VideoResolution: "4k", Transcode: true})
	uhdDirect := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID, Title: "Iron Meadow", VideoResolution: "4k"})
	hdTo720 := e.fake.StartSession(machineID, plextest.Session{AccountID: carolID, Title: "Northbound", VideoResolution: "1080", Transcode: true})
	// A movie kept in 4K and 1080p; bob's player gets the 1080p file, transcoded: not a 4K transcode.
	hdVersion := e.fake.StartSession(machineID, plextest.Session{AccountID: bobID, Title: "Kingfisher", VideoResolution: "1080",
		OtherVersion: "4k", Transcode: true})
	e.poll(t)

	terms := terminated(e)
	if len(terms) != 1 || terms[uhdToHD.ID] != DefaultNo4KMessage {
		t.Fatalf("terminations = %v, want only the 4K→1080 transcode %s", terms, uhdToHD.ID)
	}
	for _, tt := range []struct {
		s               plextest.Session
		delivered, from string
	}{
		{uhdDirect, "4k", "4k"},
		{hdTo720, "720", "1080"},
		{hdVersion, "720", "1080"},
	} {
		st, ok := e.poller.Stream(machineID, tt.s.ID)
		if !ok || st.Quality.Resolution != tt.delivered || st.Quality.SourceResolution != tt.from {
			t.Errorf("%s: listed %t, quality %+v; want %s from %s", tt.s.Title, ok, st.Quality, tt.delivered, tt.from)
		}
	}
	if evs := e.events(t, EventStreamKilled); len(evs) != 1 || evs[0].UserID != aliceID || evs[0].Data["rule"] != RuleNo4KTranscode {
		t.Errorf("killed events = %+v", evs)
	}
	// One lookup per transcoded item (three), none for the direct play.
	if n := e.fake.CallCount(route); n != 3 {
		t.Errorf("%d metadata calls, want 3", n)
	}
	for _, c := range e.fake.Calls() {
		if c.Route == route && c.Path == "/library/metadata/"+uhdDirect.RatingKey {
			t.Error("the direct play's metadata was read")
		}
	}

	// Later polls ask nothing more: the streams keep their source, and a second viewer of a
	// known item is served from the cache.
	e.clock.Add(30 * time.Second)
	second := e.fake.StartSession(machineID, plextest.Session{AccountID: carolID, RatingKey: hdTo720.RatingKey, Transcode: true})
	e.poll(t)
	e.clock.Add(30 * time.Second)
	e.poll(t)
	if n := e.fake.CallCount(route); n != 3 {
		t.Errorf("%d metadata calls after three polls, want still 3", n)
	}
	if st, ok := e.poller.Stream(machineID, second.ID); !ok || st.Quality.SourceResolution != "1080" {
		t.Errorf("second viewer = %+v, %t", st.Quality, ok)
	}
	if len(e.fake.Terminations()) != 1 {
		t.Errorf("terminations = %+v", e.fake.Terminations())
	}
}

func TestNo4KTranscodeRuleWhenMetadataFails(t *testing.T) {
	e, _ := sourceEnv(t, Rules{No4KTranscode: true})
	const route = "GET /library/metadata/{ratingKey}"
	e.fake.Inject(plextest.Fault{Route: route, Status: 500})
	s := e.fake.StartSession(machineID, plextest.Session{AccountID: aliceID, VideoResolution: "4k", Transcode: true, OutputResolution: "4k"})
	e.poll(t)
	if len(e.fake.Terminations()) != 0 {
		t.Fatalf("stopped a stream whose source could not be read: %+v", e.fake.Terminations())
	}
	if st, _ := e.poller.Stream(machineID, s.ID); st.Quality.SourceResolution != "" {
		t.Errorf("source = %q, want unknown", st.Quality.SourceResolution)
	}
	failed := e.fake.CallCount(route)
	if failed == 0 {
		t.Fatal("no metadata call")
	}
	// Within RetryAfter the failure is not asked again.
	e.clock.Add(30 * time.Second)
	e.poll(t)
	if n := e.fake.CallCount(route); n != failed {
		t.Errorf("%d metadata calls, want still %d", n, failed)
	}
	// Once the server answers again and RetryAfter has passed, the 4K→4K transcode is stopped.
	e.fake.ClearFaults()
	e.clock.Add(DefaultSourceRetryAfter)
	e.poll(t)
	if terms := terminated(e); len(terms) != 1 || terms[s.ID] == "" {
		t.Errorf("terminations = %v, want %s", terms, s.ID)
	}
}
