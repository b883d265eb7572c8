package plextest

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fake is the in-memory plex.tv + auth app + PMS fake. Create it with New or
// NewServer.
type Fake struct {
	now             func() time.Time
	noPlexPass      bool
	pinPollInterval time.Duration

	base *http.ServeMux // plex.tv, auth app and the first server's PMS routes
	pms  *http.ServeMux // PMS routes only, for /pms/<machineIdentifier>/

	done      chan struct{}
	closeOnce sync.Once

	mu           sync.Mutex
	baseURL      string
	ownerID      int64
	accounts     map[int64]*Account
	servers      []*serverState
	foreign      []*ForeignServer
	shares       map[int64]*Share
	pins         map[int64]*pin
	calls        []*Call
	faults       []*activeFault
	retired      []string
	terminations []Termination
	nextAccount  int64
	nextShare    int64
	nextServer   int64
	nextSection  int64
	nextPIN      int64
	nextSession  int64
	nextHistory  int64
	nextMedia    int64
}

type serverState struct {
	Server
	sessions []Session
	history  []HistoryItem
	items    map[string]*libraryItem // by rating key
}

type activeFault struct {
	Fault
	left int // remaining uses; -1 = forever
}

// New builds a fake from opts. It does not listen; serve it with
// NewServer, httptest or net/http.
func New(opts Options) *Fake {
	f := &Fake{
		now:             opts.Now,
		noPlexPass:      opts.NoPlexPass,
		pinPollInterval: opts.PINPollInterval,
		done:            make(chan struct{}),
		accounts:        map[int64]*Account{},
		shares:          map[int64]*Share{},
		pins:            map[int64]*pin{},
		nextAccount:     40000001,
		nextShare:       907759180,
		nextServer:      9999999,
		nextSection:     132920600,
		nextPIN:         564964751,
		nextSession:     1,
		nextHistory:     5000,
		nextMedia:       2800,
		retired: []string{
			"DELETE /api/friends/{id}",
			"GET /api/invites/requested",
			"GET /api/invites/requests",
			"GET /api/v2/friends",
		},
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.pinPollInterval <= 0 {
		f.pinPollInterval = time.Second
	}
	seed := opts.Seed
	if seed.Owner.ID == 0 && len(seed.Servers) == 0 {
		seed = SeedMinimal()
	}
	owner := seed.Owner
	owner.Token = opts.OwnerToken
	if owner.Token == "" {
		owner.Token = "owner-token"
	}
	owner.Home, owner.Managed, owner.Friend = true, false, false
	owner.PlexPass = !opts.NoPlexPass
	f.ownerID = f.addAccountLocked(owner).ID
	for _, a := range seed.Accounts {
		f.addAccountLocked(a)
	}
	for _, s := range seed.Servers {
		f.addServerLocked(s)
	}
	for _, fs := range seed.ForeignServers {
		f.addForeignServerLocked(fs)
	}
	for _, sh := range seed.Shares {
		f.addSeedShareLocked(sh)
	}
	for _, s := range seed.Sessions {
		f.startSessionLocked(s.MachineID, s)
	}
	for _, h := range seed.History {
		f.addHistoryLocked(h.MachineID, h)
	}
	f.base, f.pms = f.routes()
	return f
}

// NewServer starts the fake on an httptest server bound to 127.0.0.1 and
// closes it when the test ends.
func NewServer(t testing.TB, opts Options) *Fake {
	t.Helper()
	f := New(opts)
	srv := httptest.NewServer(f)
	f.SetBaseURL(srv.URL)
	t.Cleanup(func() {
		f.Close()
		srv.Close()
	})
	return f
}

// Close releases requests held by Hang faults. The fake keeps answering
// other requests.
func (f *Fake) Close() {
	f.closeOnce.Do(func() { close(f.done) })
}

// SetBaseURL tells the fake where it is reachable (no trailing slash).
func (f *Fake) SetBaseURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.baseURL = strings.TrimRight(u, "/")
}

// URL is the base URL: plex.tv routes and the first server's PMS routes.
func (f *Fake) URL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.baseURL
}

// TVURL is the plex.tv base URL (equal to URL).
func (f *Fake) TVURL() string { return f.URL() }

// AuthURL is the auth app page (URL()+"/auth").
func (f *Fake) AuthURL() string { return f.URL() + "/auth" }

// ServerURL is where a server's PMS routes are: URL() for the first server,
// URL()+"/pms/<machineID>" for the others, "" for an unknown server.
func (f *Fake) ServerURL(machineID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.serverLocked(machineID)
	if s == nil {
		return ""
	}
	return f.serverURLLocked(s)
}

func (f *Fake) serverURLLocked(s *serverState) string {
	if len(f.servers) > 0 && f.servers[0] == s {
		return f.baseURL
	}
	return f.baseURL + "/pms/" + s.MachineID
}

// OwnerToken is the owner's plex.tv token.
func (f *Fake) OwnerToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accounts[f.ownerID].Token
}

// OwnerID is the owner's plex.tv account id.
func (f *Fake) OwnerID() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ownerID
}

// Servers lists the owner's servers in order (the first is at URL()).
func (f *Fake) Servers() []Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Server, 0, len(f.servers))
	for _, s := range f.servers {
		out = append(out, f.serverSnapshotLocked(s))
	}
	return out
}

func (f *Fake) serverSnapshotLocked(s *serverState) Server {
	c := s.Server
	c.Libraries = slices.Clone(s.Libraries)
	c.URL = f.serverURLLocked(s)
	return c
}

// AddServer adds a server, filling MachineID, ID, Version, Token and
// default libraries (Music 1, Movies 4, TV Shows 8) when empty, and a
// global SectionID for every library without one.
func (f *Fake) AddServer(s Server) Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.serverSnapshotLocked(f.addServerLocked(s))
}

func (f *Fake) addServerLocked(s Server) *serverState {
	n := len(f.servers) + 1
	if s.Name == "" {
		s.Name = fmt.Sprintf("Server %d", n)
	}
	if s.MachineID == "" {
		sum := sha1.Sum([]byte(fmt.Sprintf("machine-%d-%s", n, s.Name)))
		s.MachineID = hex.EncodeToString(sum[:])
	}
	if s.ID == 0 {
		s.ID = f.newServerIDLocked()
	}
	if s.Version == "" {
		s.Version = "1.41.3.9314-a0bfb8370"
	}
	if s.Token == "" {
		s.Token = "server-token-" + s.MachineID[:12]
	}
	if len(s.Libraries) == 0 {
		s.Libraries = []Library{
			{Key: "1", Title: "Music", Type: "artist"},
			{Key: "4", Title: "Movies", Type: "movie"},
			{Key: "8", Title: "TV Shows", Type: "show"},
		}
	}
	s.Libraries = slices.Clone(s.Libraries)
	for i := range s.Libraries {
		if s.Libraries[i].SectionID == 0 {
			s.Libraries[i].SectionID = f.newSectionIDLocked(s.Libraries)
		}
		if s.Libraries[i].Key == "" {
			s.Libraries[i].Key = fmt.Sprint(i + 1)
		}
	}
	s.URL = ""
	st := &serverState{Server: s, items: map[string]*libraryItem{}}
	f.servers = append(f.servers, st)
	return st
}

func (f *Fake) serverLocked(machineID string) *serverState {
	for _, s := range f.servers {
		if s.MachineID == machineID {
			return s
		}
	}
	return nil
}

// AddAccount adds a plex.tv account, filling ID, UUID, Title, Token,
// Thumb and JoinedAt when empty. Managed users get empty Username/Email.
func (f *Fake) AddAccount(a Account) Account {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.addAccountLocked(a)
}

func (f *Fake) addAccountLocked(a Account) *Account {
	if a.ID == 0 {
		for f.accounts[f.nextAccount] != nil {
			f.nextAccount++
		}
		a.ID = f.nextAccount
		f.nextAccount++
	}
	if a.UUID == "" {
		sum := sha1.Sum([]byte(fmt.Sprintf("uuid-%d", a.ID)))
		a.UUID = hex.EncodeToString(sum[:8])
	}
	if a.Managed {
		a.Home = true
		a.Username, a.Email = "", ""
	}
	if a.Title == "" {
		a.Title = a.Username
	}
	if a.Token == "" {
		a.Token = fmt.Sprintf("account-token-%d", a.ID)
	}
	if a.Thumb == "" {
		a.Thumb = fmt.Sprintf("https://plex.tv/users/%s/avatar?c=1700000000", a.UUID)
	}
	if a.JoinedAt.IsZero() {
		a.JoinedAt = time.Unix(1500000000+a.ID%100000000, 0).UTC()
	}
	c := a
	f.accounts[a.ID] = &c
	return &c
}

// Account returns an account by plex.tv id.
func (f *Fake) Account(id int64) (Account, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.accounts[id]
	if !ok {
		return Account{}, false
	}
	return *a, true
}

// Accounts lists every account (the owner included), sorted by id.
func (f *Fake) Accounts() []Account {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Account, 0, len(f.accounts))
	for _, a := range f.sortedAccountsLocked() {
		out = append(out, *a)
	}
	return out
}

func (f *Fake) sortedAccountsLocked() []*Account {
	out := make([]*Account, 0, len(f.accounts))
	for _, a := range f.accounts {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Account) int { return cmpInt(a.ID, b.ID) })
	return out
}

func (f *Fake) accountByTokenLocked(token string) *Account {
	if token == "" {
		return nil
	}
	for _, a := range f.accounts {
		if a.Token == token {
			return a
		}
	}
	return nil
}

// accountByLoginLocked finds an account by email or username,
// case-insensitively.
func (f *Fake) accountByLoginLocked(login string) *Account {
	login = strings.TrimSpace(login)
	if login == "" {
		return nil
	}
	for _, a := range f.sortedAccountsLocked() {
		if (a.Email != "" && strings.EqualFold(a.Email, login)) ||
			(a.Username != "" && strings.EqualFold(a.Username, login)) {
			return a
		}
	}
	return nil
}

// serverAccountID maps a plex.tv id to the PMS account id (owner = 1).
func (f *Fake) serverAccountIDLocked(plexID int64) int64 {
	if plexID == f.ownerID {
		return 1
	}
	return plexID
}

// accountForServerIDLocked maps a PMS account id back to the account.
func (f *Fake) accountForServerIDLocked(id int64) *Account {
	if id == 1 {
		return f.accounts[f.ownerID]
	}
	return f.accounts[id]
}

// Shares is a snapshot of every share and pending invite, sorted by
// (MachineID, UserID, InvitedEmail, ID).
func (f *Fake) Shares() []Share {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sharesLocked("")
}

// SharesFor is Shares restricted to one server.
func (f *Fake) SharesFor(machineID string) []Share {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sharesLocked(machineID)
}

// ShareOf returns the first of SharesFor(machineID) that is user userID's (a share or a pending
// invite to that account), and whether there is one.
func (f *Fake) ShareOf(machineID string, userID int64) (Share, bool) {
	for _, sh := range f.SharesFor(machineID) {
		if sh.UserID == userID {
			return sh, true
		}
	}
	return Share{}, false
}

func (f *Fake) sharesLocked(machineID string) []Share {
	out := []Share{}
	for _, sh := range f.sortedSharesLocked() {
		if machineID != "" && sh.MachineID != machineID {
			continue
		}
		out = append(out, f.shareSnapshotLocked(sh))
	}
	return out
}

func (f *Fake) sortedSharesLocked() []*Share {
	out := make([]*Share, 0, len(f.shares))
	for _, sh := range f.shares {
		out = append(out, sh)
	}
	slices.SortFunc(out, func(a, b *Share) int {
		if c := strings.Compare(a.MachineID, b.MachineID); c != 0 {
			return c
		}
		if c := cmpInt(a.UserID, b.UserID); c != 0 {
			return c
		}
		if c := strings.Compare(a.InvitedEmail, b.InvitedEmail); c != 0 {
			return c
		}
		return cmpInt(a.ID, b.ID)
	})
	return out
}

func (f *Fake) shareSnapshotLocked(sh *Share) Share {
	c := *sh
	libs := f.sharedLibrariesLocked(sh)
	c.SectionIDs = make([]int64, 0, len(libs))
	c.LibraryKeys = make([]string, 0, len(libs))
	for _, l := range libs {
		c.SectionIDs = append(c.SectionIDs, l.SectionID)
		c.LibraryKeys = append(c.LibraryKeys, l.Key)
	}
	return c
}

// sharedLibrariesLocked lists the libraries a share gives, in server order.
func (f *Fake) sharedLibrariesLocked(sh *Share) []Library {
	s := f.serverLocked(sh.MachineID)
	if s == nil {
		return nil
	}
	var out []Library
	for _, l := range s.Libraries {
		if sh.AllLibraries || slices.Contains(sh.SectionIDs, l.SectionID) {
			out = append(out, l)
		}
	}
	return out
}

// findShareLocked finds the share of a server for an account id or an email.
func (f *Fake) findShareLocked(machineID string, userID int64, email string) *Share {
	for _, sh := range f.shares {
		if sh.MachineID != machineID {
			continue
		}
		if userID != 0 && sh.UserID == userID {
			return sh
		}
		if email != "" && sh.UserID == 0 && strings.EqualFold(sh.InvitedEmail, email) {
			return sh
		}
	}
	return nil
}

func (f *Fake) addSeedShareLocked(sh Share) {
	s := f.serverLocked(sh.MachineID)
	if s == nil && len(f.servers) > 0 && sh.MachineID == "" {
		s = f.servers[0]
		sh.MachineID = s.MachineID
	}
	if s == nil {
		return
	}
	if len(sh.SectionIDs) == 0 && len(sh.LibraryKeys) > 0 {
		for _, k := range sh.LibraryKeys {
			for _, l := range s.Libraries {
				if l.Key == k {
					sh.SectionIDs = append(sh.SectionIDs, l.SectionID)
				}
			}
		}
	}
	if len(sh.SectionIDs) == 0 {
		sh.AllLibraries = true
	}
	if sh.AllLibraries {
		sh.SectionIDs = nil
	}
	sh.LibraryKeys = nil
	if sh.ID == 0 {
		sh.ID = f.newShareIDLocked()
	}
	if sh.AccessToken == "" {
		sh.AccessToken = fmt.Sprintf("share-token-%d", sh.ID)
	}
	if sh.InvitedAt.IsZero() {
		sh.InvitedAt = f.now().Add(-90 * 24 * time.Hour).Truncate(time.Second)
	}
	if !sh.Pending && sh.AcceptedAt.IsZero() {
		sh.AcceptedAt = sh.InvitedAt.Add(time.Hour)
	}
	if a := f.accounts[sh.UserID]; a != nil {
		if sh.InvitedEmail == "" {
			sh.InvitedEmail = a.Email
		}
		if !sh.Pending && !sh.SkipFriendship && !a.Managed && !a.Home {
			a.Friend = true
		}
	}
	c := sh
	f.shares[c.ID] = &c
}

// StartSession starts a stream on a server and returns it with defaults
// filled: ID, Key, Type "movie", State "playing", Duration, Player. The
// item it plays (RatingKey; default a new one) joins the server's library,
// with a version of VideoResolution (and of OtherVersion), and stays there
// for GET /library/metadata/{ratingKey} after the stream ends. A known
// rating key lends the session its type, titles, library and, when
// VideoResolution is empty, the resolution of its first version.
func (f *Fake) StartSession(machineID string, s Session) Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.startSessionLocked(machineID, s)
}

func (f *Fake) startSessionLocked(machineID string, s Session) Session {
	srv := f.serverLocked(machineID)
	if srv == nil && machineID == "" && len(f.servers) > 0 {
		srv = f.servers[0]
	}
	if srv == nil {
		return Session{}
	}
	n := f.nextSession
	f.nextSession++
	s.MachineID = srv.MachineID
	if s.ID == "" {
		sum := sha1.Sum([]byte(fmt.Sprintf("session-%s-%d", srv.MachineID, n)))
		s.ID = hex.EncodeToString(sum[:])[:24]
	}
	if s.Key == "" {
		s.Key = fmt.Sprint(n + 10)
	}
	if s.RatingKey == "" {
		s.RatingKey = fmt.Sprint(1000 + n)
	}
	f.fillSessionLocked(srv, &s)
	srv.sessions = append(srv.sessions, s)
	return s
}

// fillSessionLocked fills a session's defaults (ID, Key and RatingKey are
// set) and registers the item it plays.
func (f *Fake) fillSessionLocked(srv *serverState, s *Session) {
	if it := srv.itemLocked(s.RatingKey); it != nil {
		s.Type = cmp.Or(s.Type, it.itemType)
		s.Title = cmp.Or(s.Title, it.title)
		s.GrandparentTitle = cmp.Or(s.GrandparentTitle, it.grandparentTitle)
		s.LibraryKey = cmp.Or(s.LibraryKey, it.libraryKey)
		if isVideo(s.Type) {
			s.VideoResolution = cmp.Or(s.VideoResolution, it.firstResolution())
		}
	}
	if s.Type == "" {
		s.Type = "movie"
	}
	if s.Title == "" {
		s.Title = "Big Buck Bunny"
	}
	if s.LibraryKey == "" {
		s.LibraryKey = libraryKeyForType(srv.Libraries, s.Type)
	}
	if isVideo(s.Type) {
		s.VideoResolution = cmp.Or(s.VideoResolution, "1080")
	} else {
		s.VideoResolution, s.OtherVersion, s.OutputResolution = "", "", ""
	}
	if s.Transcode && isVideo(s.Type) && s.OutputResolution == "" {
		s.OutputResolution = "720"
		if s.VideoResolution == "4k" {
			s.OutputResolution = "1080"
		}
	}
	if s.State == "" {
		s.State = "playing"
	}
	if s.Duration == 0 {
		s.Duration = 5400000
	}
	if s.Player == "" {
		s.Player = "Chrome"
	}
	if s.Platform == "" {
		s.Platform = "Chrome"
	}
	if s.Address == "" {
		if s.Local {
			s.Address = "192.168.1.50"
		} else {
			s.Address = "198.51.100.23"
		}
	}
	if s.AccountID == 0 {
		s.AccountID = 1
	}
	if s.Bandwidth == 0 {
		s.Bandwidth = 4200
	}
	f.registerItemLocked(srv, libraryItem{ratingKey: s.RatingKey, itemType: s.Type, title: s.Title,
		grandparentTitle: s.GrandparentTitle, libraryKey: s.LibraryKey, duration: s.Duration},
		s.OtherVersion, s.VideoResolution)
}

// EndSession removes a stream the way a player stopping does: unlike the
// terminate route it records no Termination. It reports whether the
// session was playing.
func (f *Fake) EndSession(machineID, sessionID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	srv := f.serverLocked(machineID)
	if srv == nil {
		return false
	}
	for i, x := range srv.sessions {
		if x.ID == sessionID {
			srv.sessions = slices.Delete(srv.sessions, i, i+1)
			return true
		}
	}
	return false
}

// UpdateSession changes a live session in place (progress, pause, another
// item): update gets the session and may change any field but MachineID
// and ID, which are kept. Emptied fields get StartSession's defaults again,
// and a new item or version joins the library. It returns the session as
// updated and whether it was playing.
func (f *Fake) UpdateSession(machineID, sessionID string, update func(*Session)) (Session, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	srv := f.serverLocked(machineID)
	if srv == nil || update == nil {
		return Session{}, false
	}
	for i, x := range srv.sessions {
		if x.ID != sessionID {
			continue
		}
		s := x
		update(&s)
		s.MachineID, s.ID = x.MachineID, x.ID
		s.Key = cmp.Or(s.Key, x.Key)
		s.RatingKey = cmp.Or(s.RatingKey, x.RatingKey)
		f.fillSessionLocked(srv, &s)
		srv.sessions[i] = s
		return s, true
	}
	return Session{}, false
}

func libraryKeyForType(libs []Library, itemType string) string {
	want := map[string]string{"movie": "movie", "episode": "show", "track": "artist", "photo": "photo"}[itemType]
	for _, l := range libs {
		if l.Type == want {
			return l.Key
		}
	}
	if len(libs) > 0 {
		return libs[0].Key
	}
	return ""
}

// Sessions lists the live streams of a server.
func (f *Fake) Sessions(machineID string) []Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.serverLocked(machineID)
	if s == nil {
		return nil
	}
	return slices.Clone(s.sessions)
}

// Terminations lists the streams stopped through the PMS, in order.
func (f *Fake) Terminations() []Termination {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.terminations)
}

// AddHistory adds a watch-history entry to a server.
func (f *Fake) AddHistory(machineID string, h HistoryItem) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addHistoryLocked(machineID, h)
}

func (f *Fake) addHistoryLocked(machineID string, h HistoryItem) {
	srv := f.serverLocked(machineID)
	if srv == nil && machineID == "" && len(f.servers) > 0 {
		srv = f.servers[0]
	}
	if srv == nil {
		return
	}
	h.MachineID = srv.MachineID
	if h.ID == 0 {
		f.nextHistory++
		h.ID = f.nextHistory
	}
	if h.Type == "" {
		h.Type = "movie"
	}
	if h.RatingKey == "" {
		h.RatingKey = fmt.Sprint(200000 + h.ID)
	}
	if h.LibraryKey == "" {
		h.LibraryKey = libraryKeyForType(srv.Libraries, h.Type)
	}
	if h.DeviceID == 0 {
		h.DeviceID = 5
	}
	if it := srv.itemLocked(h.RatingKey); it != nil && isVideo(h.Type) {
		h.VideoResolution = cmp.Or(h.VideoResolution, it.firstResolution())
	}
	if isVideo(h.Type) {
		h.VideoResolution = cmp.Or(h.VideoResolution, "1080")
	} else {
		h.VideoResolution = ""
	}
	f.registerItemLocked(srv, libraryItem{ratingKey: h.RatingKey, itemType: h.Type, title: h.Title,
		grandparentTitle: h.GrandparentTitle, libraryKey: h.LibraryKey, duration: defaultDuration(h.Type)},
		h.VideoResolution)
	srv.history = append(srv.history, h)
}

// History lists a server's watch history in insertion order.
func (f *Fake) History(machineID string) []HistoryItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.serverLocked(machineID)
	if s == nil {
		return nil
	}
	return slices.Clone(s.history)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// newShareIDLocked returns an unused share id.
func (f *Fake) newShareIDLocked() int64 {
	for {
		f.nextShare++
		if f.shares[f.nextShare] == nil {
			return f.nextShare
		}
	}
}

// newSectionIDLocked returns a global section id that neither a server nor
// pending (the libraries of the server being added) uses.
func (f *Fake) newSectionIDLocked(pending []Library) int64 {
	inUse := func(id int64, libs []Library) bool {
		return slices.ContainsFunc(libs, func(l Library) bool { return l.SectionID == id })
	}
	for {
		f.nextSection += 3
		used := inUse(f.nextSection, pending)
		for _, s := range f.servers {
			used = used || inUse(f.nextSection, s.Libraries)
		}
		if !used {
			return f.nextSection
		}
	}
}

// newServerIDLocked returns an unused plex.tv server id.
func (f *Fake) newServerIDLocked() int64 {
	for {
		f.nextServer++
		if !slices.ContainsFunc(f.servers, func(x *serverState) bool { return x.ID == f.nextServer }) {
			return f.nextServer
		}
	}
}
