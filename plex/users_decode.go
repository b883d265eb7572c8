package plex

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
)

// This file holds the decoders for plex.tv's user and share lists. Each
// returns plain values; users.go combines them.

// usersXML is GET /api/users (v1, XML).
type usersXML struct {
	Users []userXML `xml:"User"`
}

type userXML struct {
	ID                flexInt         `xml:"id,attr"`
	Title             string          `xml:"title,attr"`
	Username          string          `xml:"username,attr"`
	Email             string          `xml:"email,attr"`
	Thumb             string          `xml:"thumb,attr"`
	UUID              string          `xml:"uuid,attr"`
	Protected         flexBool        `xml:"protected,attr"`
	Home              flexBool        `xml:"home,attr"`
	Guest             flexBool        `xml:"guest,attr"`
	Restricted        flexBool        `xml:"restricted,attr"`
	AllowSync         flexBool        `xml:"allowSync,attr"`
	AllowCameraUpload flexBool        `xml:"allowCameraUpload,attr"`
	AllowChannels     flexBool        `xml:"allowChannels,attr"`
	FilterMovies      string          `xml:"filterMovies,attr"`
	FilterTelevision  string          `xml:"filterTelevision,attr"`
	FilterMusic       string          `xml:"filterMusic,attr"`
	Servers           []userServerXML `xml:"Server"`
}

type userServerXML struct {
	ID                flexInt  `xml:"id,attr"`
	ServerID          flexInt  `xml:"serverId,attr"`
	MachineIdentifier string   `xml:"machineIdentifier,attr"`
	Name              string   `xml:"name,attr"`
	LastSeenAt        flexTime `xml:"lastSeenAt,attr"`
	NumLibraries      flexInt  `xml:"numLibraries,attr"`
	AllLibraries      flexBool `xml:"allLibraries,attr"`
	Owned             flexBool `xml:"owned,attr"`
	Pending           flexBool `xml:"pending,attr"`
}

// parseUsers decodes /api/users into users whose Shares hold what that list
// knows (share id, all-libraries, pending, and the user-level settings).
func parseUsers(body []byte) ([]User, error) {
	var doc usersXML
	if err := decodeXML(body, &doc); err != nil {
		return nil, err
	}
	out := make([]User, 0, len(doc.Users))
	for _, ux := range doc.Users {
		if ux.ID <= 0 {
			return nil, errors.New("user without id")
		}
		u := User{
			ID: int64(ux.ID), UUID: ux.UUID, Username: ux.Username, Email: ux.Email, Title: ux.Title, Thumb: ux.Thumb,
			Home: bool(ux.Home), Managed: bool(ux.Restricted), Guest: bool(ux.Guest), Protected: bool(ux.Protected),
			Shares: make(map[string]UserShare, len(ux.Servers)),
		}
		for _, sx := range ux.Servers {
			if sx.MachineIdentifier == "" {
				continue
			}
			u.Shares[sx.MachineIdentifier] = UserShare{
				ShareID:           int64(sx.ID),
				AllLibraries:      bool(sx.AllLibraries),
				Pending:           bool(sx.Pending),
				NumLibraries:      int(sx.NumLibraries),
				AllowSync:         bool(ux.AllowSync),
				AllowCameraUpload: bool(ux.AllowCameraUpload),
				AllowChannels:     bool(ux.AllowChannels),
				Filters:           Filters{Movies: ux.FilterMovies, Television: ux.FilterTelevision, Music: ux.FilterMusic},
				LastSeenAt:        sx.LastSeenAt.Time(),
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// sharedServersXML is GET /api/servers/{machineId}/shared_servers (v1, XML).
type sharedServersXML struct {
	SharedServers []sharedServerXML `xml:"SharedServer"`
}

type sharedServerXML struct {
	ID                flexInt      `xml:"id,attr"`
	Username          string       `xml:"username,attr"`
	Email             string       `xml:"email,attr"`
	UserID            flexInt      `xml:"userID,attr"`
	Name              string       `xml:"name,attr"`
	MachineIdentifier string       `xml:"machineIdentifier,attr"`
	AcceptedAt        flexTime     `xml:"acceptedAt,attr"`
	InvitedAt         flexTime     `xml:"invitedAt,attr"`
	AllowSync         flexBool     `xml:"allowSync,attr"`
	AllowCameraUpload flexBool     `xml:"allowCameraUpload,attr"`
	AllowChannels     flexBool     `xml:"allowChannels,attr"`
	AllLibraries      flexBool     `xml:"allLibraries,attr"`
	Pending           *flexBool    `xml:"pending,attr"`
	FilterMovies      string       `xml:"filterMovies,attr"`
	FilterTelevision  string       `xml:"filterTelevision,attr"`
	FilterMusic       string       `xml:"filterMusic,attr"`
	Sections          []sectionXML `xml:"Section"`
}

// parseSharedServers decodes the v1 shares of one server. The accessToken
// attribute (a server token for that user) is deliberately not read.
func parseSharedServers(body []byte, machineID string) ([]SharedServer, error) {
	var doc sharedServersXML
	if err := decodeXML(body, &doc); err != nil {
		return nil, err
	}
	out := make([]SharedServer, 0, len(doc.SharedServers))
	for _, sx := range doc.SharedServers {
		if sx.ID <= 0 {
			return nil, errors.New("shared server without id")
		}
		s := SharedServer{
			ShareID: int64(sx.ID), MachineID: machineID, UserID: int64(sx.UserID),
			Username: sx.Username, Email: sx.Email,
			AcceptedAt: sx.AcceptedAt.Time(), InvitedAt: sx.InvitedAt.Time(),
			AllLibraries: bool(sx.AllLibraries), AllowSync: bool(sx.AllowSync),
			AllowCameraUpload: bool(sx.AllowCameraUpload), AllowChannels: bool(sx.AllowChannels),
			Filters: Filters{Movies: sx.FilterMovies, Television: sx.FilterTelevision, Music: sx.FilterMusic},
		}
		if sx.Pending != nil {
			s.Pending = bool(*sx.Pending)
		} else {
			s.Pending = s.AcceptedAt.IsZero() && !s.InvitedAt.IsZero()
		}
		for _, sec := range sx.Sections {
			s.Sections = append(s.Sections, SharedSection{
				Section: Section{ID: int64(sec.ID), Key: sec.Key, Title: sec.Title, Type: sec.Type},
				Shared:  bool(sec.Shared),
			})
		}
		out = append(out, s)
	}
	return out, nil
}

// shareJSON is a v2 share object (create answer, accepted and pending lists).
type shareJSON struct {
	ID                flexInt      `json:"id"`
	Name              flexString   `json:"name"`
	OwnerID           flexInt      `json:"ownerId"`
	InvitedID         flexInt      `json:"invitedId"`
	InvitedEmail      flexString   `json:"invitedEmail"`
	ServerID          flexInt      `json:"serverId"`
	Accepted          flexBool     `json:"accepted"`
	AcceptedAt        flexTime     `json:"acceptedAt"`
	InvitedAt         flexTime     `json:"invitedAt"`
	CreatedAt         flexTime     `json:"createdAt"`
	MachineIdentifier flexString   `json:"machineIdentifier"`
	NumLibraries      flexInt      `json:"numLibraries"`
	AllLibraries      flexBool     `json:"allLibraries"`
	Invited           *invitedJSON `json:"invited"`
	SharingSettings   *struct {
		AllowSync         flexBool   `json:"allowSync"`
		AllowCameraUpload flexBool   `json:"allowCameraUpload"`
		AllowChannels     flexBool   `json:"allowChannels"`
		FilterMovies      flexString `json:"filterMovies"`
		FilterTelevision  flexString `json:"filterTelevision"`
		FilterMusic       flexString `json:"filterMusic"`
	} `json:"sharingSettings"`
	Libraries []shareLibraryJSON `json:"libraries"`
}

// shareLibraryJSON is a library of a v2 share object.
type shareLibraryJSON struct {
	ID    flexInt    `json:"id"`
	Key   flexString `json:"key"`
	Title flexString `json:"title"`
	Type  flexString `json:"type"`
}

type invitedJSON struct {
	ID         flexInt    `json:"id"`
	UUID       flexString `json:"uuid"`
	Title      flexString `json:"title"`
	Username   flexString `json:"username"`
	Email      flexString `json:"email"`
	Restricted flexBool   `json:"restricted"`
	Home       flexBool   `json:"home"`
	Thumb      flexString `json:"thumb"`
}

// inviteJSON is an element of the v2 pending lists: an invitation holding
// share objects. Plex has been seen to return the share objects directly
// too, so an element with a machineIdentifier is read as a share.
type inviteJSON struct {
	shareJSON
	SharedServers []shareJSON `json:"sharedServers"`
}

// toInvite converts a v2 share object into a PendingInvite.
func (j shareJSON) toInvite(parent *invitedJSON, parentEmail string) PendingInvite {
	inv := PendingInvite{
		ShareID: int64(j.ID), MachineID: string(j.MachineIdentifier), ServerName: string(j.Name),
		InviteeID: int64(j.InvitedID), Email: string(j.InvitedEmail), AllLibraries: bool(j.AllLibraries),
		InvitedAt: j.InvitedAt.Time(), Accepted: bool(j.Accepted),
	}
	if inv.InvitedAt.IsZero() {
		inv.InvitedAt = j.CreatedAt.Time()
	}
	who := j.Invited
	if who == nil {
		who = parent
	}
	if who != nil {
		if inv.InviteeID == 0 {
			inv.InviteeID = int64(who.ID)
		}
		inv.UUID = string(who.UUID)
		inv.Username = string(who.Username)
		inv.Title = string(who.Title)
		inv.Thumb = string(who.Thumb)
		inv.Managed = bool(who.Restricted)
		if inv.Email == "" {
			inv.Email = string(who.Email)
		}
	}
	if inv.Email == "" {
		inv.Email = parentEmail
	}
	if s := j.SharingSettings; s != nil {
		inv.Settings = ShareSettings{
			AllowSync: bool(s.AllowSync), AllowCameraUpload: bool(s.AllowCameraUpload), AllowChannels: bool(s.AllowChannels),
			Filters: Filters{Movies: string(s.FilterMovies), Television: string(s.FilterTelevision), Music: string(s.FilterMusic)},
		}
	}
	for _, l := range j.Libraries {
		if l.ID > 0 {
			inv.SectionIDs = append(inv.SectionIDs, int64(l.ID))
		}
		if l.Key != "" {
			inv.LibraryKeys = append(inv.LibraryKeys, string(l.Key))
		}
	}
	return inv
}

// parsePendingInvites decodes a v2 pending list (owned or received).
func parsePendingInvites(body []byte) ([]PendingInvite, error) {
	var list []json.RawMessage
	if err := decodeJSON(body, &list); err != nil {
		return nil, err
	}
	var out []PendingInvite
	for _, raw := range list {
		var el inviteJSON
		if err := json.Unmarshal(raw, &el); err != nil {
			return nil, err
		}
		if len(el.SharedServers) == 0 {
			if el.MachineIdentifier == "" {
				continue // an invitation without a server share (friend-only)
			}
			inv := el.shareJSON.toInvite(nil, "")
			if inv.ShareID <= 0 {
				return nil, errors.New("pending share without id")
			}
			out = append(out, inv)
			continue
		}
		for _, s := range el.SharedServers {
			inv := s.toInvite(el.shareJSON.Invited, string(el.InvitedEmail))
			if inv.ShareID <= 0 || inv.MachineID == "" {
				return nil, errors.New("pending share without id or machine identifier")
			}
			if inv.InvitedAt.IsZero() {
				inv.InvitedAt = el.CreatedAt.Time()
			}
			out = append(out, inv)
		}
	}
	return out, nil
}

// parseShareObject decodes the v2 answer to a share create or update; it may
// be a share object or an empty object. The share has already been made when
// this answer arrives, so doubtful parts are dropped rather than failing the
// call: a share or invitee id that is not positive becomes 0 (unknown), and
// only the libraries with both a section id and a library key are kept, so
// that the ids and keys a caller reads from them pair up one to one.
func parseShareObject(body []byte) (shareJSON, error) {
	var j shareJSON
	if sniff(body) != formatJSON {
		return j, nil
	}
	if err := decodeJSON(body, &j); err != nil {
		return shareJSON{}, err
	}
	j.ID, j.InvitedID = max(j.ID, 0), max(j.InvitedID, 0)
	j.Libraries = slices.DeleteFunc(j.Libraries, func(l shareLibraryJSON) bool {
		return l.ID <= 0 || strings.TrimSpace(string(l.Key)) == ""
	})
	return j, nil
}

// homeUsersXML is GET /api/home/users (v1, XML) and, with lower-case names,
// the v2 home document.
type homeUsersXML struct {
	Users      []homeUserXML `xml:"User"`
	LowerUsers []homeUserXML `xml:"users>user"`
	Direct     []homeUserXML `xml:"user"`
}

type homeUserXML struct {
	XMLName            xml.Name
	ID                 flexInt  `xml:"id,attr"`
	UUID               string   `xml:"uuid,attr"`
	Title              string   `xml:"title,attr"`
	Username           string   `xml:"username,attr"`
	Email              string   `xml:"email,attr"`
	FriendlyName       string   `xml:"friendlyName,attr"`
	Thumb              string   `xml:"thumb,attr"`
	Admin              flexBool `xml:"admin,attr"`
	Guest              flexBool `xml:"guest,attr"`
	Restricted         flexBool `xml:"restricted,attr"`
	RestrictionProfile string   `xml:"restrictionProfile,attr"`
	HasPassword        flexBool `xml:"hasPassword,attr"`
	Protected          flexBool `xml:"protected,attr"`
}

func (h homeUserXML) toHomeUser() HomeUser {
	return HomeUser{
		ID: int64(h.ID), UUID: h.UUID, Title: h.Title, Username: h.Username, Email: h.Email, Thumb: h.Thumb,
		Admin: bool(h.Admin), Guest: bool(h.Guest), Managed: bool(h.Restricted),
		RestrictionProfile: h.RestrictionProfile, HasPassword: bool(h.HasPassword), Protected: bool(h.Protected),
	}
}

// parseHomeUsers decodes the Home member list.
func parseHomeUsers(body []byte) ([]HomeUser, error) {
	var doc homeUsersXML
	if err := decodeXML(body, &doc); err != nil {
		return nil, err
	}
	all := append(append(doc.Users, doc.LowerUsers...), doc.Direct...)
	out := make([]HomeUser, 0, len(all))
	for _, h := range all {
		if h.ID <= 0 {
			return nil, errors.New("home user without id")
		}
		out = append(out, h.toHomeUser())
	}
	return out, nil
}

// homeUserJSON is the JSON variant of a Home user (v2 create answer when
// JSON is served).
type homeUserJSON struct {
	ID                 flexInt    `json:"id"`
	UUID               flexString `json:"uuid"`
	Title              flexString `json:"title"`
	Username           flexString `json:"username"`
	Email              flexString `json:"email"`
	FriendlyName       flexString `json:"friendlyName"`
	Thumb              flexString `json:"thumb"`
	Admin              flexBool   `json:"admin"`
	Guest              flexBool   `json:"guest"`
	Restricted         flexBool   `json:"restricted"`
	RestrictionProfile flexString `json:"restrictionProfile"`
	HasPassword        flexBool   `json:"hasPassword"`
	Protected          flexBool   `json:"protected"`
}

// parseHomeUser decodes one Home user, XML (root "user" or a container) or
// JSON.
func parseHomeUser(body []byte) (HomeUser, error) {
	switch sniff(body) {
	case formatJSON:
		var j homeUserJSON
		if err := decodeJSON(body, &j); err != nil {
			return HomeUser{}, err
		}
		if j.ID <= 0 {
			return HomeUser{}, errors.New("home user without id")
		}
		return homeUserXML{
			ID: j.ID, UUID: string(j.UUID), Title: string(j.Title), Username: string(j.Username), Email: string(j.Email),
			FriendlyName: string(j.FriendlyName), Thumb: string(j.Thumb), Admin: j.Admin, Guest: j.Guest,
			Restricted: j.Restricted, RestrictionProfile: string(j.RestrictionProfile), HasPassword: j.HasPassword, Protected: j.Protected,
		}.toHomeUser(), nil
	case formatXML:
		// The answer is a user element (v2 "user", v1 "User") or a container
		// holding one; a container's own id (the v2 "home" root has one) is
		// not a user's.
		var one homeUserXML
		if err := decodeXML(body, &one); err == nil && strings.EqualFold(one.XMLName.Local, "user") && one.ID > 0 {
			return one.toHomeUser(), nil
		}
		list, err := parseHomeUsers(body)
		if err != nil {
			return HomeUser{}, err
		}
		if len(list) == 0 {
			return HomeUser{}, errors.New("no user in the answer")
		}
		return list[0], nil
	}
	return HomeUser{}, errors.New("body is neither JSON nor XML")
}
