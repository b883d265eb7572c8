package plextest

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

type connectionJSON struct {
	Protocol string `json:"protocol"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
	URI      string `json:"uri"`
	Local    bool   `json:"local"`
	Relay    bool   `json:"relay"`
	IPv6     bool   `json:"IPv6"`
}

type resourceJSON struct {
	Name                   string           `json:"name"`
	Product                string           `json:"product"`
	ProductVersion         string           `json:"productVersion"`
	Platform               string           `json:"platform"`
	PlatformVersion        string           `json:"platformVersion"`
	Device                 string           `json:"device"`
	ClientIdentifier       string           `json:"clientIdentifier"`
	CreatedAt              string           `json:"createdAt"`
	LastSeenAt             string           `json:"lastSeenAt"`
	Provides               string           `json:"provides"`
	OwnerID                *int64           `json:"ownerId"`
	SourceTitle            *string          `json:"sourceTitle"`
	PublicAddress          string           `json:"publicAddress"`
	AccessToken            string           `json:"accessToken"`
	Owned                  bool             `json:"owned"`
	Home                   bool             `json:"home"`
	Synced                 bool             `json:"synced"`
	Relay                  bool             `json:"relay"`
	Presence               bool             `json:"presence"`
	HTTPSRequired          bool             `json:"httpsRequired"`
	PublicAddressMatches   bool             `json:"publicAddressMatches"`
	DNSRebindingProtection bool             `json:"dnsRebindingProtection"`
	NatLoopbackSupported   bool             `json:"natLoopbackSupported"`
	Connections            []connectionJSON `json:"connections"`
}

var serverCreatedAt = time.Date(2022, 6, 2, 0, 54, 26, 0, time.UTC)

// connectionFor describes a fake server URL as a local connection.
func connectionFor(raw string) connectionJSON {
	c := connectionJSON{URI: raw, Local: true, Protocol: "http", Address: "127.0.0.1", Port: 32400}
	u, err := url.Parse(raw)
	if err != nil {
		return c
	}
	c.Protocol = u.Scheme
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host = u.Host
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	c.Address = host
	c.Port, _ = strconv.Atoi(port)
	return c
}

func (f *Fake) handleResources(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	now := f.now()
	f.mu.Lock()
	out := []resourceJSON{}
	owner := f.accounts[f.ownerID]
	for _, s := range f.servers {
		res := resourceJSON{
			Name: s.Name, Product: "Plex Media Server", ProductVersion: s.Version,
			Platform: "Linux", PlatformVersion: "6.8.0", Device: "PC",
			ClientIdentifier: s.MachineID, CreatedAt: iso(serverCreatedAt), LastSeenAt: iso(now),
			Provides: "server", PublicAddress: "203.0.113.7",
			Relay: true, Presence: true, PublicAddressMatches: true, NatLoopbackSupported: true,
			Connections: []connectionJSON{connectionFor(f.serverURLLocked(s))},
		}
		if acc.ID == f.ownerID {
			res.AccessToken, res.Owned = s.Token, true
		} else {
			sh := f.findShareLocked(s.MachineID, acc.ID, "")
			if sh == nil || sh.Pending {
				continue
			}
			oid, title := owner.ID, owner.Username
			res.AccessToken, res.OwnerID, res.SourceTitle = sh.AccessToken, &oid, &title
		}
		out = append(out, res)
	}
	out = append(out, f.foreignResourcesLocked(acc)...)
	if acc.ID == f.ownerID {
		out = append(out, resourceJSON{
			Name: "Chrome", Product: "Plex Web", ProductVersion: "4.133.0", Platform: "Chrome",
			PlatformVersion: "127.0", Device: "Windows", ClientIdentifier: "b9pon671jsf9i2rwh40kkdiz",
			CreatedAt: iso(serverCreatedAt), LastSeenAt: iso(now), Provides: "client,player,pubsub-player",
			PublicAddress: "203.0.113.7", Owned: true, Presence: true, PublicAddressMatches: true,
			Connections: []connectionJSON{},
		})
	}
	f.mu.Unlock()
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, out)
		return
	}
	root := el("resources", a("size", len(out)))
	for _, res := range out {
		n := el("resource", a("name", res.Name), a("product", res.Product), a("productVersion", res.ProductVersion),
			a("platform", res.Platform), a("platformVersion", res.PlatformVersion), a("device", res.Device),
			a("clientIdentifier", res.ClientIdentifier), a("createdAt", res.CreatedAt), a("lastSeenAt", res.LastSeenAt),
			a("provides", res.Provides), a("ownerId", derefInt(res.OwnerID)), a("sourceTitle", derefString(res.SourceTitle)),
			a("publicAddress", res.PublicAddress),
			a("accessToken", res.AccessToken), a("owned", res.Owned), a("home", res.Home), a("synced", res.Synced),
			a("relay", res.Relay), a("presence", res.Presence), a("httpsRequired", res.HTTPSRequired))
		conns := el("connections")
		for _, c := range res.Connections {
			conns.add(el("connection", a("protocol", c.Protocol), a("address", c.Address), a("port", c.Port),
				a("uri", c.URI), a("local", c.Local), a("relay", c.Relay), a("IPv6", c.IPv6)))
		}
		root.add(n.add(conns))
	}
	writeXML(w, http.StatusOK, root)
}

func derefInt(p *int64) any {
	if p == nil {
		return ""
	}
	return *p
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// plexTVContainerID is the MediaContainer@machineIdentifier of plex.tv
// documents: deliberately NOT any server's id (docs/plex-api.md §3.2).
const plexTVContainerID = "c080de7e0168d1da7027f8b218adb769bd1d6c6c"

func myPlexContainer(size int) *node {
	return el("MediaContainer", a("friendlyName", "myPlex"), a("identifier", "com.plexapp.plugins.myplex"),
		a("machineIdentifier", plexTVContainerID), a("size", size))
}

// ownedServer returns the server when the caller is the owner; otherwise it
// answers 404 like plex.tv for a machine the account does not know.
func (f *Fake) ownedServer(w http.ResponseWriter, r *http.Request, acc Account, v2 bool) (*serverState, bool) {
	f.mu.Lock()
	s := f.serverLocked(r.PathValue("machineId"))
	owner := acc.ID == f.ownerID
	f.mu.Unlock()
	if s == nil || !owner {
		if v2 {
			writeV2NotFound(w, r)
		} else {
			writeV1NotFound(w)
		}
		return nil, false
	}
	return s, true
}

func (f *Fake) handleV1Server(w http.ResponseWriter, r *http.Request) {
	s, ok := f.v1OwnedServer(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	c := connectionFor(f.serverURLLocked(s))
	srv := el("Server", a("accessToken", s.Token), a("name", s.Name), a("address", c.Address), a("port", c.Port),
		a("version", s.Version), a("scheme", c.Protocol), a("host", c.Address), a("localAddresses", c.Address),
		a("machineIdentifier", s.MachineID), a("createdAt", serverCreatedAt.Unix()), a("updatedAt", f.now().Unix()),
		a("owned", true), a("synced", false))
	for _, l := range s.Libraries {
		srv.add(el("Section", a("id", l.SectionID), a("key", l.Key), a("type", l.Type), a("title", l.Title)))
	}
	f.mu.Unlock()
	writeXML(w, http.StatusOK, myPlexContainer(1).add(srv))
}

type librarySectionJSON struct {
	ID    int64  `json:"id"`
	Key   string `json:"key"`
	Title string `json:"title"`
	Type  string `json:"type"`
}

type v2ServerJSON struct {
	ID                int64                `json:"id"`
	Name              string               `json:"name"`
	MachineIdentifier string               `json:"machineIdentifier"`
	Version           string               `json:"version"`
	Owned             bool                 `json:"owned"`
	LibrarySections   []librarySectionJSON `json:"librarySections"`
}

// handleV2Server serves GET /api/v2/servers/{machineId}; only id and title
// of librarySections are documented, key and type are added.
func (f *Fake) handleV2Server(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV2(w, r)
	if !ok {
		return
	}
	s, ok := f.ownedServer(w, r, acc, true)
	if !ok || !requireJSON(w, r) {
		return
	}
	f.mu.Lock()
	out := v2ServerJSON{ID: s.ID, Name: s.Name, MachineIdentifier: s.MachineID, Version: s.Version, Owned: true,
		LibrarySections: []librarySectionJSON{}}
	for _, l := range s.Libraries {
		out.LibrarySections = append(out.LibrarySections, librarySectionJSON{ID: l.SectionID, Key: l.Key, Title: l.Title, Type: l.Type})
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
