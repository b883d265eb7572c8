package plex

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// User is someone with access to the owner's servers: a friend, a Home
// member, a managed user, or the invitee of a pending share. Users returns
// them with their shares per server.
type User struct {
	// ID is the plex.tv user id (also the server account id, quirk 2). It
	// is 0 for an invitation sent to an email address that has no Plex
	// account yet; Email identifies those.
	ID int64
	// UUID is the account's uuid, when a list gave it.
	UUID string
	// Username and Email are empty for managed users.
	Username string
	Email    string
	// Title is the display name.
	Title string
	// Thumb is the avatar URL.
	Thumb string
	// Home marks a Plex Home member; Managed a managed (restricted) user,
	// who has no username or email; Guest the Home guest account.
	Home    bool
	Managed bool
	Guest   bool
	// Protected means the account has a Home PIN.
	Protected bool
	// Shares holds the user's share of each server, by machine id.
	Shares map[string]UserShare
}

// UserShare is one user's access to one server.
type UserShare struct {
	// ShareID is the shared-server id used to update or remove the share.
	ShareID int64
	// LibraryKeys are the server's keys of the shared libraries and
	// SectionIDs their plex.tv ids. When AllLibraries is set and plex.tv
	// flags no section, they list every section plex.tv reported.
	LibraryKeys []string
	SectionIDs  []int64
	// AllLibraries means every library, including future ones.
	AllLibraries bool
	// Pending means the invitation is not accepted yet.
	Pending bool
	// AllowSync, AllowCameraUpload and AllowChannels are the share's
	// permissions.
	AllowSync         bool
	AllowCameraUpload bool
	AllowChannels     bool
	// Filters are the share's restriction filters.
	Filters Filters
	// NumLibraries is plex.tv's count of shared libraries.
	NumLibraries int
	// InvitedAt, AcceptedAt and LastSeenAt are zero when unknown.
	InvitedAt  time.Time
	AcceptedAt time.Time
	LastSeenAt time.Time
}

// SharedServer is one share as GET /api/servers/{machineId}/shared_servers
// lists it (v1).
type SharedServer struct {
	// ShareID is the share's id.
	ShareID int64
	// MachineID is the shared server.
	MachineID string
	// UserID is the plex.tv id of the user the server is shared with (0
	// for an invitation to an address without an account).
	UserID int64
	// Username and Email are empty for managed users.
	Username string
	Email    string
	// AcceptedAt is zero while the invitation is pending.
	AcceptedAt time.Time
	// InvitedAt is when the invitation was sent.
	InvitedAt time.Time
	// Pending is true until the invitee accepts.
	Pending bool
	// AllLibraries means every library, including future ones.
	AllLibraries bool
	// AllowSync, AllowCameraUpload and AllowChannels are the permissions.
	AllowSync         bool
	AllowCameraUpload bool
	AllowChannels     bool
	// Filters are the restriction filters, when plex.tv lists them here.
	Filters Filters
	// Sections lists the server's sections with a flag for the shared ones.
	Sections []SharedSection
}

// SharedSection is a section with its shared flag.
type SharedSection struct {
	Section
	// Shared is true when the share includes the section.
	Shared bool
}

// shared returns the shared sections' ids and keys (all of them when the
// share covers all libraries and plex.tv flags none).
func (s SharedServer) shared() (ids []int64, keys []string) {
	for _, sec := range s.Sections {
		if sec.Shared {
			ids = append(ids, sec.ID)
			keys = append(keys, sec.Key)
		}
	}
	if len(ids) == 0 && s.AllLibraries {
		for _, sec := range s.Sections {
			ids = append(ids, sec.ID)
			keys = append(keys, sec.Key)
		}
	}
	return ids, keys
}

// PendingInvite is a share that has not been accepted (v2 pending list).
type PendingInvite struct {
	// ShareID is the pending share's id (cancel it with CancelInvite).
	ShareID int64
	// MachineID and ServerName identify the server.
	MachineID  string
	ServerName string
	// InviteeID is the invitee's plex.tv id, 0 when the invitation went to
	// an email address without a Plex account.
	InviteeID int64
	// Email is the address the invitation went to.
	Email string
	// Username, Title, Thumb and UUID describe the invitee's account.
	Username string
	Title    string
	Thumb    string
	UUID     string
	// Managed marks a managed user.
	Managed bool
	// SectionIDs and LibraryKeys are the libraries offered.
	SectionIDs  []int64
	LibraryKeys []string
	// AllLibraries means every library, including future ones.
	AllLibraries bool
	// Settings are the offered permissions and filters.
	Settings ShareSettings
	// InvitedAt is when the invitation was sent.
	InvitedAt time.Time
	// Accepted is normally false in a pending list; it is kept as Plex sent it.
	Accepted bool
}

// HomeUser is a member of the owner's Plex Home.
type HomeUser struct {
	// ID is the plex.tv user id.
	ID int64
	// UUID is the account's uuid.
	UUID string
	// Title is the display name.
	Title string
	// Username and Email are empty for managed users.
	Username string
	Email    string
	// Thumb is the avatar URL.
	Thumb string
	// Admin marks the Home's administrator (the owner).
	Admin bool
	// Guest marks the Home guest account.
	Guest bool
	// Managed marks a managed (restricted) user.
	Managed bool
	// RestrictionProfile is the managed user's profile ("little_kid").
	RestrictionProfile string
	// HasPassword is true for accounts with their own login.
	HasPassword bool
	// Protected means the member has a Home PIN.
	Protected bool
}

// maxParallel bounds concurrent per-server requests.
const maxParallel = 4

// Users lists everyone with access to the owner's servers and their shares,
// combining GET /api/users (friends, Home and managed users, share ids,
// pending flags), GET /api/v2/shared_servers/invites/owned/pending (pending
// invitations, including to addresses without a Plex account) and, per
// server, GET /api/servers/{machineId}/shared_servers (shared sections,
// settings, acceptance). Listing N users on S servers costs 2 + S requests,
// whatever N.
//
// machineIDs restricts the shares to those servers; without it every server
// that appears in the lists is read. An error from any request fails the
// whole call: a partial list is never returned.
func (c *Client) Users(ctx context.Context, token string, machineIDs ...string) ([]User, error) {
	if token == "" {
		return nil, invalidArg("GET /api/users", "no token given")
	}
	var (
		wg                sync.WaitGroup
		users             []User
		invites           []PendingInvite
		usersErr, invsErr error
	)
	wg.Add(2)
	go func() { defer wg.Done(); users, usersErr = c.listUsers(ctx, token) }()
	go func() { defer wg.Done(); invites, invsErr = c.ListPendingInvites(ctx, token) }()
	wg.Wait()
	if usersErr != nil {
		return nil, usersErr
	}
	if invsErr != nil {
		return nil, invsErr
	}

	wanted := map[string]bool{}
	for _, m := range machineIDs {
		wanted[m] = true
	}
	machines := machineIDs
	if len(machines) == 0 {
		set := map[string]bool{}
		for _, u := range users {
			for m := range u.Shares {
				set[m] = true
			}
		}
		for _, inv := range invites {
			set[inv.MachineID] = true
		}
		for m := range set {
			machines = append(machines, m)
		}
		slices.Sort(machines)
	}

	shares, err := c.listSharesOf(ctx, token, machines)
	if err != nil {
		return nil, err
	}
	return mergeUsers(users, shares, invites, wanted), nil
}

// listSharesOf reads the v1 shares of several servers, a few at a time.
func (c *Client) listSharesOf(ctx context.Context, token string, machines []string) (map[string][]SharedServer, error) {
	out := make(map[string][]SharedServer, len(machines))
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sem      = make(chan struct{}, maxParallel)
	)
	for _, m := range machines {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			list, err := c.ListShares(ctx, token, m)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out[m] = list
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// mergeUsers joins the three lists. When wanted is not empty, shares of
// other servers are dropped.
func mergeUsers(users []User, shares map[string][]SharedServer, invites []PendingInvite, wanted map[string]bool) []User {
	byID := make(map[int64]*User, len(users))
	var order []*User
	add := func(u User) *User {
		if u.Shares == nil {
			u.Shares = map[string]UserShare{}
		}
		p := &u
		if u.ID > 0 {
			byID[u.ID] = p
		}
		order = append(order, p)
		return p
	}
	for _, u := range users {
		if _, dup := byID[u.ID]; dup {
			continue
		}
		add(u)
	}
	keep := func(m string) bool { return len(wanted) == 0 || wanted[m] }

	machines := make([]string, 0, len(shares))
	for m := range shares {
		machines = append(machines, m)
	}
	slices.Sort(machines)
	for _, m := range machines {
		if !keep(m) {
			continue
		}
		for _, s := range shares[m] {
			if s.UserID <= 0 {
				continue // an invitation to an address; the pending list covers it
			}
			u := byID[s.UserID]
			if u == nil {
				u = add(User{ID: s.UserID, Username: s.Username, Email: s.Email, Title: cmp.Or(s.Username, s.Email)})
			}
			us := u.Shares[m]
			if us.ShareID == 0 {
				us.ShareID = s.ShareID
			}
			us.SectionIDs, us.LibraryKeys = s.shared()
			us.AllLibraries = us.AllLibraries || s.AllLibraries
			us.Pending = us.Pending || s.Pending
			us.AllowSync, us.AllowCameraUpload, us.AllowChannels = s.AllowSync, s.AllowCameraUpload, s.AllowChannels
			if !s.Filters.IsZero() {
				us.Filters = s.Filters
			}
			us.AcceptedAt, us.InvitedAt = s.AcceptedAt, s.InvitedAt
			if us.NumLibraries == 0 {
				us.NumLibraries = len(us.SectionIDs)
			}
			u.Shares[m] = us
		}
	}

	for _, inv := range invites {
		if !keep(inv.MachineID) {
			continue
		}
		u := findInvitee(byID, order, inv)
		if u == nil {
			u = add(User{ID: inv.InviteeID, UUID: inv.UUID, Username: inv.Username, Email: inv.Email,
				Title: cmp.Or(inv.Title, inv.Username, inv.Email), Thumb: inv.Thumb, Managed: inv.Managed})
		}
		us, had := u.Shares[inv.MachineID]
		if !had || us.ShareID == 0 {
			us.ShareID = inv.ShareID
		}
		if len(us.SectionIDs) == 0 {
			us.SectionIDs = inv.SectionIDs
		}
		if len(us.LibraryKeys) == 0 {
			us.LibraryKeys = inv.LibraryKeys
		}
		us.AllLibraries = us.AllLibraries || inv.AllLibraries
		us.Pending = true
		if !had {
			us.AllowSync, us.AllowCameraUpload, us.AllowChannels = inv.Settings.AllowSync, inv.Settings.AllowCameraUpload, inv.Settings.AllowChannels
			us.Filters = inv.Settings.Filters
			us.NumLibraries = len(inv.SectionIDs)
		}
		if us.InvitedAt.IsZero() {
			us.InvitedAt = inv.InvitedAt
		}
		u.Shares[inv.MachineID] = us
	}

	out := make([]User, 0, len(order))
	for _, p := range order {
		if len(wanted) > 0 {
			for m := range p.Shares {
				if !wanted[m] {
					delete(p.Shares, m)
				}
			}
		}
		out = append(out, *p)
	}
	slices.SortStableFunc(out, func(a, b User) int {
		if c := cmp.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return cmp.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email))
	})
	return out
}

// findInvitee finds the user a pending invite is for: by id first, then by
// email, then by username.
func findInvitee(byID map[int64]*User, order []*User, inv PendingInvite) *User {
	if inv.InviteeID > 0 {
		return byID[inv.InviteeID]
	}
	for _, u := range order {
		if inv.Email != "" && strings.EqualFold(u.Email, inv.Email) {
			return u
		}
	}
	for _, u := range order {
		if inv.Username != "" && strings.EqualFold(u.Username, inv.Username) {
			return u
		}
	}
	return nil
}

// listUsers reads GET /api/users.
func (c *Client) listUsers(ctx context.Context, token string) ([]User, error) {
	r := c.tvCall(http.MethodGet, "/api/users", "/api/users")
	r.token = token
	r.accept = acceptXML
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	users, perr := parseUsers(resp.body)
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return users, nil
}

// ListShares lists the shares of one server with their sections
// (GET /api/servers/{machineId}/shared_servers, XML).
func (c *Client) ListShares(ctx context.Context, token, machineID string) ([]SharedServer, error) {
	r := c.tvCall(http.MethodGet, "/api/servers/{machineId}/shared_servers", "/api/servers/"+pathEscape(machineID)+"/shared_servers")
	if err := checkArgs(r, token, machineID); err != nil {
		return nil, err
	}
	r.accept = acceptXML
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	list, perr := parseSharedServers(resp.body, machineID)
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return list, nil
}

// ListPendingInvites lists the owner's invitations not yet accepted
// (GET /api/v2/shared_servers/invites/owned/pending).
func (c *Client) ListPendingInvites(ctx context.Context, token string) ([]PendingInvite, error) {
	return c.pendingList(ctx, token, "/api/v2/shared_servers/invites/owned/pending")
}

// pendingList reads an owned or received pending list.
func (c *Client) pendingList(ctx context.Context, token, route string) ([]PendingInvite, error) {
	r := c.tvCall(http.MethodGet, route, route)
	if token == "" {
		return nil, invalidArg(r.endpoint(), "no token given")
	}
	r.token = token
	r.accept = acceptJSON
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	list, perr := parsePendingInvites(resp.body)
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return list, nil
}

// HomeUsers lists the members of the owner's Plex Home
// (GET /api/home/users, XML).
func (c *Client) HomeUsers(ctx context.Context, token string) ([]HomeUser, error) {
	r := c.tvCall(http.MethodGet, "/api/home/users", "/api/home/users")
	if token == "" {
		return nil, invalidArg(r.endpoint(), "no token given")
	}
	r.token = token
	r.accept = acceptXML
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	list, perr := parseHomeUsers(resp.body)
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return list, nil
}
