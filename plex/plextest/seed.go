package plextest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Fixed identities of SeedMinimal (also used by the demo's first server).
const (
	// MinimalOwnerID is the owner's plex.tv id in SeedMinimal and SeedDemo.
	MinimalOwnerID = 13692262
	// MinimalMachineID is the machineIdentifier of "Basement".
	MinimalMachineID = "93c418a691854d3be47ead674134d86a3f5e00f4"
	// MinimalServerToken is the server token of "Basement".
	MinimalServerToken = "basement-server-token"
)

// Plex.tv ids of SeedMinimal's accounts (see SeedMinimal for what each one has).
const (
	// MinimalAliceID is alice, a friend with Movies and TV Shows and downloads.
	MinimalAliceID = 22526914
	// MinimalBobID is bob, a friend with all libraries.
	MinimalBobID = 22522496
	// MinimalCarolID is carol, a friend with Movies under a content filter.
	MinimalCarolID = 31415926
	// MinimalDaveID is dave, an account with no relation to the owner.
	MinimalDaveID = 41234567
	// MinimalErinID is erin, an account with no relation to the owner and an unverified email.
	MinimalErinID = 42345678
)

// Global section ids of "Basement" (plex.tv ids; the keys are 1, 4, 8).
const (
	SectionMusic   int64 = 132920520
	SectionMovies  int64 = 132920523
	SectionTVShows int64 = 132920531
)

// MinimalSectionIDs maps library keys of "Basement" (1, 4, 8) to their global section ids, sorted
// (an unknown key maps to 0; no keys, nil).
func MinimalSectionIDs(keys ...string) []int64 {
	ids := map[string]int64{"1": SectionMusic, "4": SectionMovies, "8": SectionTVShows}
	var out []int64
	for _, k := range keys {
		out = append(out, ids[k])
	}
	slices.Sort(out)
	return out
}

func minimalOwner() Account {
	return Account{ID: MinimalOwnerID, UUID: "dae343c1f45beb4f", Username: "owner", Email: "owner@example.com",
		Title: "owner", Protected: true, JoinedAt: time.Date(2014, 12, 26, 18, 0, 0, 0, time.UTC)}
}

func basement() Server {
	return Server{ID: 9999999, MachineID: MinimalMachineID, Name: "Basement", Version: "1.41.3.9314-a0bfb8370",
		Token: MinimalServerToken, Libraries: []Library{
			{Key: "1", SectionID: SectionMusic, Title: "Music", Type: "artist"},
			{Key: "4", SectionID: SectionMovies, Title: "Movies", Type: "movie"},
			{Key: "8", SectionID: SectionTVShows, Title: "TV Shows", Type: "show"},
		}}
}

// SeedMinimal is one server "Basement" (Music key 1, Movies key 4, TV Shows
// key 8, with realistic global section ids), the owner (id 13692262) and
// three friends with accepted shares:
//
//   - alice (22526914, token "alice-token"): Movies + TV Shows, downloads
//   - bob (22522496, "bob-token"): all libraries
//   - carol (31415926, "carol-token"): Movies with a content filter
//
// plus two accounts with no relation to the owner, for invite tests:
// dave (41234567, "dave-token") and erin (42345678, "erin-token", email
// not verified). No sessions, no history.
func SeedMinimal() Seed {
	return Seed{
		Owner:   minimalOwner(),
		Servers: []Server{basement()},
		Accounts: []Account{
			{ID: MinimalAliceID, UUID: "3346028014e93acd", Username: "alice", Email: "alice@example.com", Token: "alice-token"},
			{ID: MinimalBobID, UUID: "1f2e3d4c5b6a7980", Username: "bob", Email: "bob@example.com", Token: "bob-token"},
			{ID: MinimalCarolID, UUID: "5a6b7c8d9e0f1a2b", Username: "carol", Email: "carol@example.com", Token: "carol-token"},
			{ID: MinimalDaveID, UUID: "6b7c8d9e0f1a2b3c", Username: "dave", Email: "dave@example.com", Token: "dave-token"},
			{ID: MinimalErinID, UUID: "7c8d9e0f1a2b3c4d", Username: "erin", Email: "erin@example.com", Token: "erin-token", EmailUnverified: true},
		},
		Shares: []Share{
			{ID: 907759180, MachineID: MinimalMachineID, UserID: MinimalAliceID, SectionIDs: []int64{SectionMovies, SectionTVShows}, AllowSync: true},
			{ID: 907759181, MachineID: MinimalMachineID, UserID: MinimalBobID, AllLibraries: true},
			{ID: 907759182, MachineID: MinimalMachineID, UserID: MinimalCarolID, SectionIDs: []int64{SectionMovies},
				FilterMovies: "contentRating=G%2CPG|label!=adult"},
		},
	}
}

var demoNames = []string{
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
	"olivia", "peggy", "rupert", "sybil", "trent", "uma", "victor", "wendy", "xavier", "yara", "zoe",
	"amir", "bea", "chen", "dara", "eli", "fatima", "gus", "hana", "ines", "jonas", "kofi", "lena",
	"milo", "nora", "oscar", "priya", "quinn", "rosa", "sami", "tomas", "ugo", "vera", "wim", "yusuf",
}

var demoServerNames = []string{"Basement", "Attic", "Cabin", "Office", "Garage", "Studio", "Loft", "Barn"}

var demoMovies = []string{"The Long Night", "Harbor Lights", "Paper Moon Rising", "Iron Meadow",
	"Northbound", "Glass Orchard", "The Quiet Engine", "Salt and Static", "Blue Hour", "Kingfisher"}

var demoShows = []string{"Mighty Machines", "Talking Dead", "The Night Shift", "Coastline", "Small Towns"}

var demoTracks = []string{"Morning Tide", "Copper Skies", "Low Orbit", "Ember"}

// SeedDemo builds the demo data: o.Servers servers (default 3; the first is
// "Basement" with SeedMinimal's ids), o.Friends friends (default 40) with
// varied shares (all libraries, some libraries, filters, downloads, across
// servers), two Home members with their own login, two managed users,
// pending invites by email and by username, live sessions (a 4K transcode,
// a direct play, a paused episode, music) and o.HistoryDays days of history
// (default 120) where some friends stopped watching long ago and a few never
// did. Up to two friends share a server of their own with the owner (see
// ForeignServer): the first inactive one and the first active one. A
// negative Friends means no friends. The same Seed and Now give the same
// data.
func SeedDemo(o DemoOptions) Seed {
	if o.Servers <= 0 {
		o.Servers = 3
	}
	if o.Friends < 0 {
		o.Friends = 0
	} else if o.Friends == 0 {
		o.Friends = 40
	}
	if o.HistoryDays <= 0 {
		o.HistoryDays = 120
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	now := o.Now.UTC().Truncate(time.Second)
	rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(o.Seed)^0x9e3779b97f4a7c15))

	seed := Seed{Owner: minimalOwner()}
	seed.Servers = append(seed.Servers, basement())
	for i := 1; i < o.Servers; i++ {
		name := demoServerNames[i%len(demoServerNames)]
		if i >= len(demoServerNames) {
			name = fmt.Sprintf("%s %d", name, i/len(demoServerNames)+1)
		}
		sum := sha1.Sum([]byte(fmt.Sprintf("demo-%d-%s", o.Seed, name)))
		base := int64(132920600 + i*40)
		libs := []Library{
			{Key: "1", SectionID: base + 1, Title: "Movies", Type: "movie"},
			{Key: "2", SectionID: base + 2, Title: "TV Shows", Type: "show"},
		}
		if i%2 == 1 {
			libs = append(libs, Library{Key: "3", SectionID: base + 3, Title: "4K Movies", Type: "movie"})
		} else {
			libs = append(libs, Library{Key: "5", SectionID: base + 5, Title: "Photos", Type: "photo"})
		}
		seed.Servers = append(seed.Servers, Server{ID: 9999999 + int64(i), MachineID: hex.EncodeToString(sum[:]),
			Name: name, Version: "1.41.3.9314-a0bfb8370", Token: fmt.Sprintf("demo-server-token-%d", i), Libraries: libs})
	}

	used := map[int64]bool{MinimalOwnerID: true}
	newID := func() int64 {
		for {
			id := 10000000 + rng.Int64N(500000000)
			if !used[id] {
				used[id] = true
				return id
			}
		}
	}
	account := func(username string) Account {
		id := newID()
		return Account{ID: id, Username: username, Email: username + "@example.com", Title: username,
			Token: fmt.Sprintf("demo-token-%d", id), JoinedAt: now.AddDate(0, 0, -400-rng.IntN(2000))}
	}
	nameFor := func(i int) string {
		n := demoNames[i%len(demoNames)]
		if i >= len(demoNames) {
			n = fmt.Sprintf("%s%d", n, i/len(demoNames)+1)
		}
		return n
	}

	var watchers []demoWatcher
	filters := []string{"", "", "", "contentRating=G%2CPG%2CPG-13", "label!=horror", "contentRating!=R|label!=adult"}
	for i := 0; i < o.Friends; i++ {
		acc := account(nameFor(i))
		acc.PlexPass = rng.IntN(4) == 0
		seed.Accounts = append(seed.Accounts, acc)
		w := demoWatcher{id: acc.ID}
		for si, srv := range seed.Servers {
			// Everyone gets the first server; the others go to about half.
			if si > 0 && rng.IntN(2) == 0 {
				continue
			}
			sh := Share{MachineID: srv.MachineID, UserID: acc.ID, AllowSync: rng.IntN(3) == 0,
				InvitedAt: now.AddDate(0, 0, -30-rng.IntN(700))}
			switch rng.IntN(3) {
			case 0:
				sh.AllLibraries = true
			default:
				for _, l := range srv.Libraries {
					if rng.IntN(3) > 0 {
						sh.SectionIDs = append(sh.SectionIDs, l.SectionID)
					}
				}
				if len(sh.SectionIDs) == 0 {
					sh.SectionIDs = []int64{srv.Libraries[0].SectionID}
				}
			}
			sh.FilterMovies = filters[rng.IntN(len(filters))]
			if sh.FilterMovies != "" {
				sh.FilterTelevision = strings.ReplaceAll(sh.FilterMovies, "PG-13", "TV-14")
			}
			sh.AcceptedAt = sh.InvitedAt.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
			seed.Shares = append(seed.Shares, sh)
			w.servers = append(w.servers, srv)
		}
		switch r := rng.IntN(10); {
		case r < 6:
			w.lastDay = rng.IntN(7) // active
		case r < 8:
			w.lastDay = 30 + rng.IntN(o.HistoryDays/2+1) // drifting away
		case r < 9:
			w.lastDay = o.HistoryDays - rng.IntN(10) - 1 // inactive for months
		default:
			w.lastDay = -1 // never watched
		}
		watchers = append(watchers, w)
	}

	// Home members with their own login, and managed users.
	for _, n := range []string{"partner", "teen"} {
		acc := account(n)
		acc.Home = true
		seed.Accounts = append(seed.Accounts, acc)
		seed.Shares = append(seed.Shares, Share{MachineID: MinimalMachineID, UserID: acc.ID, AllLibraries: true, AllowSync: true})
		watchers = append(watchers, demoWatcher{id: acc.ID, servers: seed.Servers[:1], lastDay: rng.IntN(3)})
	}
	for _, n := range []string{"Kids", "Grandma"} {
		id := newID()
		profile := ""
		if n == "Kids" {
			profile = "little_kid"
		}
		seed.Accounts = append(seed.Accounts, Account{ID: id, Title: n, Managed: true, Home: true,
			RestrictionProfile: profile, Token: fmt.Sprintf("demo-token-%d", id), JoinedAt: now.AddDate(-1, 0, 0)})
		sh := Share{MachineID: MinimalMachineID, UserID: id, SectionIDs: []int64{SectionMovies, SectionTVShows}}
		if n == "Kids" {
			sh.FilterMovies, sh.FilterTelevision = "contentRating=G%2CPG", "contentRating=TV-Y%2CTV-G"
		}
		seed.Shares = append(seed.Shares, sh)
		watchers = append(watchers, demoWatcher{id: id, servers: seed.Servers[:1], lastDay: 1 + rng.IntN(20)})
	}

	// Pending invites: an account invited by username, two emails with no
	// account yet.
	pendingUser := account("pending-" + nameFor(o.Friends))
	seed.Accounts = append(seed.Accounts, pendingUser)
	seed.Shares = append(seed.Shares,
		Share{MachineID: MinimalMachineID, UserID: pendingUser.ID, InvitedEmail: pendingUser.Username, Pending: true,
			SectionIDs: []int64{SectionMovies}, InvitedAt: now.AddDate(0, 0, -3)},
		Share{MachineID: MinimalMachineID, InvitedEmail: "newcomer@example.com", Pending: true, AllLibraries: true,
			InvitedAt: now.AddDate(0, 0, -1)},
		Share{MachineID: seed.Servers[len(seed.Servers)-1].MachineID, InvitedEmail: "cousin@example.org", Pending: true,
			AllLibraries: true, InvitedAt: now.AddDate(0, 0, -10)},
	)

	seed.ForeignServers = demoShareBacks(o.Seed, seed.Accounts[:o.Friends], watchers[:o.Friends])
	seed.History = demoHistory(rng, now, o.HistoryDays, seed.Servers, watchers)
	seed.Sessions = demoSessions(rng, seed, watchers)
	return seed
}

// demoShareBacks gives two friends a server of their own shared with the
// owner: the first who stopped watching a month or more ago (or never did),
// so that a purge preview shows them kept for sharing back, and the first
// active one. friends and watchers are parallel. It draws nothing from the
// random source, so the rest of the demo data does not depend on it.
func demoShareBacks(seed int64, friends []Account, watchers []demoWatcher) []ForeignServer {
	var out []ForeignServer
	pick := func(match func(demoWatcher) bool) {
		for i, w := range watchers {
			if !match(w) || slices.ContainsFunc(out, func(fs ForeignServer) bool { return fs.OwnerID == w.id }) {
				continue
			}
			name := friends[i].Username + "'s Plex"
			sum := sha1.Sum([]byte(fmt.Sprintf("demo-foreign-%d-%s", seed, name)))
			out = append(out, ForeignServer{MachineID: hex.EncodeToString(sum[:]), Name: name, OwnerID: w.id,
				AccessToken: fmt.Sprintf("demo-foreign-token-%d", len(out)+1), Address: fmt.Sprintf("198.51.100.%d", 40+len(out))})
			return
		}
	}
	pick(func(w demoWatcher) bool { return w.lastDay < 0 || w.lastDay >= 30 })
	pick(func(w demoWatcher) bool { return w.lastDay >= 0 && w.lastDay < 7 })
	return out
}

// demoWatcher is a demo account that watches on some servers.
type demoWatcher struct {
	id      int64
	servers []Server
	lastDay int // days ago of the last view; -1 = never
}

// demoHistory spreads views: the owner watches throughout, each watcher up
// to their last active day, more in the evening.
func demoHistory(rng *rand.Rand, now time.Time, days int, servers []Server, watchers []demoWatcher) []HistoryItem {
	var out []HistoryItem
	add := func(srv Server, accountID int64, day int) {
		lib := srv.Libraries[rng.IntN(len(srv.Libraries))]
		at := now.AddDate(0, 0, -day).Add(-time.Duration(rng.IntN(6*3600)) * time.Second)
		if at.After(now) {
			at = now.Add(-time.Minute)
		}
		h := HistoryItem{MachineID: srv.MachineID, AccountID: accountID, ViewedAt: at, LibraryKey: lib.Key,
			DeviceID: int64(2 + rng.IntN(20))}
		switch lib.Type {
		case "show":
			h.Type, h.GrandparentTitle = "episode", demoShows[rng.IntN(len(demoShows))]
			h.Title = fmt.Sprintf("Episode %d", 1+rng.IntN(12))
		case "artist":
			h.Type, h.Title = "track", demoTracks[rng.IntN(len(demoTracks))]
		case "photo":
			return
		default:
			h.Type, h.Title = "movie", demoMovies[rng.IntN(len(demoMovies))]
		}
		h.RatingKey = fmt.Sprint(1000 + rng.IntN(90000))
		out = append(out, h)
	}
	for day := days - 1; day >= 0; day-- {
		for _, srv := range servers {
			if rng.IntN(2) == 0 {
				add(srv, 1, day)
			}
		}
		for _, w := range watchers {
			if w.lastDay < 0 || day < w.lastDay || len(w.servers) == 0 {
				continue
			}
			if day == w.lastDay || rng.IntN(4) == 0 {
				add(w.servers[rng.IntN(len(w.servers))], w.id, day)
			}
		}
	}
	return out
}

// demoSessions starts a 4K transcode, a direct play, a paused episode and a
// track, by active watchers.
func demoSessions(rng *rand.Rand, seed Seed, watchers []demoWatcher) []Session {
	var active []int64
	for _, w := range watchers {
		if w.lastDay >= 0 && w.lastDay < 7 {
			active = append(active, w.id)
		}
	}
	pick := func() int64 {
		if len(active) == 0 {
			return 1
		}
		return active[rng.IntN(len(active))]
	}
	last := seed.Servers[len(seed.Servers)-1].MachineID
	return []Session{
		{MachineID: MinimalMachineID, AccountID: pick(), Title: "Harbor Lights", Type: "movie", LibraryKey: "4",
			VideoResolution: "4k", Transcode: true, Player: "Living Room TV", Platform: "Roku", Address: "198.51.100.23",
			ViewOffset: 1800000, Duration: 7260000, Bandwidth: 12000},
		{MachineID: MinimalMachineID, AccountID: 1, Title: "Glass Orchard", Type: "movie", LibraryKey: "4",
			VideoResolution: "1080", Local: true, Player: "Office PC", Platform: "Chrome", Address: "192.168.1.50",
			ViewOffset: 600000, Duration: 6300000, Bandwidth: 9000},
		{MachineID: last, AccountID: pick(), Title: "At the Garbage Dump", GrandparentTitle: "Mighty Machines",
			Type: "episode", VideoResolution: "720", State: "paused", Player: "iPhone", Platform: "iOS",
			Address: "203.0.113.77", ViewOffset: 300000, Duration: 1500000, Bandwidth: 2500},
		{MachineID: MinimalMachineID, AccountID: pick(), Title: "Low Orbit", Type: "track", LibraryKey: "1",
			Player: "Kitchen Speaker", Platform: "Sonos", Address: "192.168.1.61", Local: true,
			ViewOffset: 60000, Duration: 240000, Bandwidth: 320},
	}
}
