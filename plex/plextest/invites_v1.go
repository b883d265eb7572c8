package plextest

import (
	"net/http"
	"strconv"
	"strings"
)

// handleV1CancelInvite serves DELETE /api/invites/requested/{id}?friend=
// &server=&home= (docs/plex-api.md §4.7): the v1 way to withdraw a pending
// invitation. {id} is the invitee's account id or, for an address without
// an account, the invited email, as the v1 invite list names them.
//
// The flags must be 0 or 1 when present (400 otherwise). The fake keeps
// pending invitations as pending shares only, so server=1 withdraws every
// pending share of that invitee (on every server of the owner); friend-only
// or Home invitations are not modelled, and a request that cancels nothing
// answers 404. Success is <Response code="0" status="Success"/>.
//
// plex.tv is reported to answer 410 on this family for some accounts while
// current clients still call it (§10, UNCONFIRMED); the fake serves it by
// default and Retire("DELETE /api/invites/requested/{id}") turns it into 410.
func (f *Fake) handleV1CancelInvite(w http.ResponseWriter, r *http.Request) {
	acc, ok := f.authV1(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	flags := map[string]bool{}
	for _, name := range []string{"friend", "server", "home"} {
		switch v := q.Get(name); v {
		case "", "0":
		case "1":
			flags[name] = true
		default:
			writeResponse(w, http.StatusBadRequest, http.StatusBadRequest, "Invalid value for "+name)
			return
		}
	}
	key := strings.TrimSpace(r.PathValue("id"))
	userID, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		userID = 0
		if !looksLikeEmail(key) {
			writeV1NotFound(w)
			return
		}
	}
	removed := 0
	f.mu.Lock()
	if acc.ID == f.ownerID && flags["server"] {
		for _, sh := range f.sortedSharesLocked() {
			if !sh.Pending {
				continue
			}
			if (userID > 0 && sh.UserID == userID) ||
				(userID == 0 && sh.UserID == 0 && strings.EqualFold(sh.InvitedEmail, key)) {
				f.deleteShareLocked(sh.ID)
				removed++
			}
		}
	}
	f.mu.Unlock()
	if removed == 0 {
		writeV1NotFound(w)
		return
	}
	writeResponse(w, http.StatusOK, 0, "Success")
}
