package access

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Plex calls a step can make.
const (
	// callShare creates a share; "already shared" is looked up and updated.
	callShare = "share"
	// callUpdateShare replaces a share's libraries and settings; "not found" creates it.
	callUpdateShare = "update_share"
	// callRemoveShare deletes a share; "not found" is done.
	callRemoveShare = "remove_share"
	// callRemoveFriend drops the friendship and every share; "not found" is done.
	callRemoveFriend = "remove_friend"
	// callRemoveHomeUser removes a Home member; "not found" is done.
	callRemoveHomeUser = "remove_home_user"
	// callCancelInvite withdraws a pending invitation; "not found" is done.
	callCancelInvite = "cancel_invite"
	// callCreateManaged creates a managed Home user (a managed user of that name not yet in the store
	// is taken instead, so a retry after a crash does not create a second one).
	callCreateManaged = "create_managed"
)

// Final statuses of an operation.
const (
	// finalKeep leaves the user's status alone.
	finalKeep = ""
	// finalDerive sets active or pending from the shares (used when access starts).
	finalDerive = "derive"
)

// step is one Plex call of an operation with what it writes to the store when it succeeds.
type step struct {
	Call     string `json:"call"`
	ServerID string `json:"server_id,omitempty"`
	ShareID  int64  `json:"share_id,omitempty"`
	// InviteeID or Invitee (email or username) name who a share is for.
	InviteeID int64  `json:"invitee_id,omitempty"`
	Invitee   string `json:"invitee,omitempty"`
	// Email identifies an invitation to an address without a Plex account; Login is the email or
	// username a pending invitee is known by (to find their share).
	Email string `json:"email,omitempty"`
	Login string `json:"login,omitempty"`
	// Name and Profile describe a managed user to create.
	Name    string `json:"name,omitempty"`
	Profile string `json:"profile,omitempty"`
	// Libraries are server keys and SectionIDs the matching plex.tv ids (share and update).
	Libraries  []string `json:"libraries,omitempty"`
	SectionIDs []int64  `json:"section_ids,omitempty"`
	// AllLibraries shares every library, libraries added later included (SectionIDs is then empty and
	// Libraries lists today's libraries for the record).
	AllLibraries bool                      `json:"all_libraries,omitempty"`
	AllowSync    bool                      `json:"allow_sync,omitempty"`
	Filters      storage.Filters           `json:"filters,omitzero"`
	Windows      map[string]storage.Window `json:"windows,omitempty"`
	// Keep, on a removal, remembers the share's libraries (share id 0) so access can be given back
	// later (expiry); otherwise the share is dropped from the record.
	Keep bool `json:"keep,omitempty"`
	// Done is set once the call succeeded and the store recorded it.
	Done bool `json:"done,omitempty"`
}

// removes reports whether the step takes access away.
func (st step) removes() bool {
	switch st.Call {
	case callRemoveShare, callRemoveFriend, callRemoveHomeUser, callCancelInvite:
		return true
	}
	return false
}

// settings returns the plex settings of a share step.
func (st step) settings() plex.ShareSettings {
	return plex.ShareSettings{AllowSync: st.AllowSync, Filters: plex.Filters{
		Movies: st.Filters.Movies, Television: st.Filters.Television, Music: st.Filters.Music,
	}}
}

// final is what an operation writes once every step succeeded.
type final struct {
	// Status is finalKeep, finalDerive, storage.StatusExpired or storage.StatusRemoved.
	Status string `json:"status,omitempty"`
	// ClearShares drops every share from the record.
	ClearShares bool `json:"clear_shares,omitempty"`
	// Event and Message are the audit event recorded with the last step.
	Event   string `json:"event"`
	Message string `json:"message"`
	// Data is added to the event.
	Data map[string]any `json:"data,omitempty"`
}

// op is one change to one user: Plex calls in order, then a final store change. It is the payload of
// the intent that tracks it.
type op struct {
	// Kind is the Action* constant the change implements.
	Kind   string `json:"kind"`
	UserID int64  `json:"user_id"`
	// Username is for reports.
	Username string `json:"username,omitempty"`
	Actor    string `json:"actor"`
	Reason   string `json:"reason"`
	Steps    []step `json:"steps"`
	Final    final  `json:"final"`
}

// removes reports whether the operation takes access away (counted against the removal cap).
func (o op) removes() bool {
	switch o.Kind {
	case ActionExpire, ActionLibraryExpire, ActionPurge, ActionRemoveUser, ActionRevoke:
		return true
	}
	return slices.ContainsFunc(o.Steps, step.removes)
}

// serverID is the first server the operation touches ("" when none).
func (o op) serverID() string {
	for _, st := range o.Steps {
		if st.ServerID != "" {
			return st.ServerID
		}
	}
	return ""
}

// change describes the operation for a report.
func (o op) change(result, errText string) Change {
	c := Change{Action: o.Kind, UserID: o.UserID, Username: o.Username, ServerID: o.serverID(),
		Reason: o.Reason, Result: result, Error: errText}
	for _, st := range o.Steps {
		if st.Call == callShare || st.Call == callUpdateShare {
			c.Libraries = slices.Clone(st.Libraries)
			break
		}
	}
	return c
}

// encodeOp is the intent payload of o.
func encodeOp(o op) ([]byte, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding operation: %w", err)
	}
	return b, nil
}

// decodeOp reads an intent payload.
func decodeOp(in storage.Intent) (op, error) {
	var o op
	if err := json.Unmarshal(in.Payload, &o); err != nil {
		return op{}, fmt.Errorf("intent %s: decoding its operation: %w", in.ID, err)
	}
	if o.UserID == 0 {
		o.UserID = in.UserID
	}
	return o, nil
}

// sectionIDs maps server library keys to plex.tv section ids with the server's stored library map.
// An unknown key is an *Error naming it.
func sectionIDs(srv storage.Server, keys []string, field string) ([]int64, error) {
	out := make([]int64, 0, len(keys))
	for _, k := range keys {
		i := slices.IndexFunc(srv.Libraries, func(l storage.Library) bool { return l.Key == k })
		if i < 0 {
			return nil, fieldError(field, "server %q has no library with key %q", srv.ID, k)
		}
		if srv.Libraries[i].SectionID <= 0 {
			return nil, fieldError(field, "library %q of server %q has no plex.tv section id yet (refresh the servers)", k, srv.ID)
		}
		out = append(out, srv.Libraries[i].SectionID)
	}
	return out, nil
}

// inviteeOf fills a step's invitee from the user: the plex.tv id, else the email.
func inviteeOf(st *step, u storage.User) {
	if u.ID > 0 {
		st.InviteeID = u.ID
		return
	}
	st.Invitee = cmpOr(u.Email, u.Username)
	st.Email = u.Email
	st.Login = cmpOr(u.Email, u.Username)
}

// shareStep builds the step that puts a share with libraries on Plex: an update when the user has a
// share id there, else a creation.
func shareStep(u storage.User, srv storage.Server, libraries []string, allowSync bool, filters storage.Filters,
	windows map[string]storage.Window) (step, error) {
	ids, err := sectionIDs(srv, libraries, "libraries")
	if err != nil {
		return step{}, err
	}
	st := step{Call: callShare, ServerID: srv.ID, Libraries: slices.Clone(libraries), SectionIDs: ids,
		AllowSync: allowSync, Filters: filters, Windows: windows}
	if cur, ok := u.Shares[srv.ID]; ok && cur.ShareID > 0 {
		st.Call = callUpdateShare
		st.ShareID = cur.ShareID
	}
	inviteeOf(&st, u)
	return st, nil
}

// shareAllStep builds the step that puts a share of every library of a server on Plex, libraries
// added later included: an update when the user has a share id there, else a creation. libraries are
// today's, recorded with the share.
func shareAllStep(u storage.User, serverID string, libraries []string, allowSync bool, filters storage.Filters) step {
	st := step{Call: callShare, ServerID: serverID, Libraries: slices.Clone(libraries), AllLibraries: true,
		AllowSync: allowSync, Filters: filters}
	if cur, ok := u.Shares[serverID]; ok && cur.ShareID > 0 {
		st.Call = callUpdateShare
		st.ShareID = cur.ShareID
	}
	inviteeOf(&st, u)
	return st
}

// removeStep builds the step that takes a share off Plex (a pending invitation is cancelled).
func removeStep(u storage.User, serverID string, keep bool) step {
	sh := u.Shares[serverID]
	st := step{Call: callRemoveShare, ServerID: serverID, ShareID: sh.ShareID, Keep: keep}
	if sh.Pending {
		st.Call = callCancelInvite
	}
	inviteeOf(&st, u)
	st.Invitee = ""
	return st
}
