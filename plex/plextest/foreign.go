package plextest

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// AddForeignServer makes the account ownerAccountID the owner of a new
// server named name (default "<username>'s Plex") and shares it with the
// owner: GET /api/v2/resources then lists it for the owner's token with
// owned=false and ownerId = ownerAccountID. Accepting the share makes the
// two accounts friends (unless the account is a Home member), so the account
// appears in GET /api/users even without a share of the owner's servers. It
// reports false, changing nothing, for an unknown account, the owner, a
// managed user or the Home guest (none of them can own a server).
func (f *Fake) AddForeignServer(ownerAccountID int64, name string) (ForeignServer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addForeignServerLocked(ForeignServer{OwnerID: ownerAccountID, Name: name})
}

// ForeignServers lists the servers other accounts share with the owner, in
// the order they were added.
func (f *Fake) ForeignServers() []ForeignServer {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ForeignServer, 0, len(f.foreign))
	for _, fs := range f.foreign {
		out = append(out, *fs)
	}
	return out
}

// RemoveForeignServer stops sharing a foreign server with the owner (its
// owner left or unshared it). The friendship stays. It reports whether the
// server was shared.
func (f *Fake) RemoveForeignServer(machineID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, fs := range f.foreign {
		if fs.MachineID == machineID {
			f.foreign = slices.Delete(f.foreign, i, i+1)
			return true
		}
	}
	return false
}

// addForeignServerLocked fills the defaults of fs and records it; see
// AddForeignServer. A machine id already in use is refused too.
func (f *Fake) addForeignServerLocked(fs ForeignServer) (ForeignServer, bool) {
	acc := f.accounts[fs.OwnerID]
	if acc == nil || acc.ID == f.ownerID || acc.Managed || acc.Guest {
		return ForeignServer{}, false
	}
	n := len(f.foreign) + 1
	if strings.TrimSpace(fs.Name) == "" {
		fs.Name = cmp.Or(acc.Username, acc.Title) + "'s Plex"
	}
	if fs.MachineID == "" {
		sum := sha1.Sum([]byte(fmt.Sprintf("foreign-%d-%d-%s", n, fs.OwnerID, fs.Name)))
		fs.MachineID = hex.EncodeToString(sum[:])
	}
	if f.serverLocked(fs.MachineID) != nil || f.foreignServerLocked(fs.MachineID) != nil {
		return ForeignServer{}, false
	}
	if fs.Version == "" {
		fs.Version = "1.40.2.8395-c67dce28e"
	}
	if fs.AccessToken == "" {
		fs.AccessToken = "foreign-token-" + fs.MachineID[:min(12, len(fs.MachineID))]
	}
	if fs.Address == "" {
		fs.Address = fmt.Sprintf("198.51.100.%d", 100+n%150)
	}
	if !acc.Home {
		acc.Friend = true
	}
	c := fs
	f.foreign = append(f.foreign, &c)
	return c, true
}

func (f *Fake) foreignServerLocked(machineID string) *ForeignServer {
	for _, fs := range f.foreign {
		if fs.MachineID == machineID {
			return fs
		}
	}
	return nil
}

// foreignResourcesLocked lists, for account acc, the foreign servers as
// /api/v2/resources shows them: shared (owned=false, ownerId, sourceTitle)
// for the fake's owner, owned for the server's own owner, nothing for
// anybody else.
func (f *Fake) foreignResourcesLocked(acc Account) []resourceJSON {
	var out []resourceJSON
	now := iso(f.now())
	for _, fs := range f.foreign {
		owner := f.accounts[fs.OwnerID]
		if owner == nil || (acc.ID != f.ownerID && acc.ID != fs.OwnerID) {
			continue
		}
		host := strings.ReplaceAll(fs.Address, ".", "-")
		res := resourceJSON{
			Name: fs.Name, Product: "Plex Media Server", ProductVersion: fs.Version,
			Platform: "Windows", PlatformVersion: "10.0 (Build 19045)", Device: "PC",
			ClientIdentifier: fs.MachineID, CreatedAt: iso(serverCreatedAt), LastSeenAt: now,
			Provides: "server", PublicAddress: fs.Address, AccessToken: fs.AccessToken,
			Relay: true, Presence: true, HTTPSRequired: true,
			PublicAddressMatches: acc.ID == fs.OwnerID,
			Connections: []connectionJSON{{Protocol: "https", Address: fs.Address, Port: 32400,
				URI: fmt.Sprintf("https://%s.%s.plex.direct:32400", host, fs.MachineID[:min(32, len(fs.MachineID))])}},
		}
		if acc.ID == fs.OwnerID {
			res.Owned = true
		} else {
			oid, title := owner.ID, cmp.Or(owner.Username, owner.Title)
			res.OwnerID, res.SourceTitle = &oid, &title
		}
		out = append(out, res)
	}
	return out
}
