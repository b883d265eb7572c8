package plextest

import (
	"net/http"
	"strconv"
	"strings"
)

// pmsCaller is who a PMS request acts as.
type pmsCaller struct {
	admin     bool
	accountID int64 // server account id (1 = owner)
}

// pmsServer is the server a PMS request is for: the /pms/<id>/ prefix, or
// the first server at the base URL.
func (f *Fake) pmsServerLocked(r *http.Request) *serverState {
	if id, ok := r.Context().Value(serverCtxKey).(string); ok {
		return f.serverLocked(id)
	}
	if len(f.servers) == 0 {
		return nil
	}
	return f.servers[0]
}

const pmsUnauthorized = "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"

func writePMSUnauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(pmsUnauthorized))
}

// pmsAuthLocked resolves the token: the owner token and the server's own
// token are admin; a share's access token or the plex.tv token of an account
// with an accepted share acts as that user.
func (f *Fake) pmsAuthLocked(r *http.Request, s *serverState) (pmsCaller, bool) {
	tok := tokenOf(r)
	if tok == "" {
		return pmsCaller{}, false
	}
	if tok == s.Token || tok == f.accounts[f.ownerID].Token {
		return pmsCaller{admin: true, accountID: 1}, true
	}
	for _, sh := range f.shares {
		if sh.MachineID != s.MachineID || sh.Pending || sh.UserID == 0 {
			continue
		}
		if sh.AccessToken == tok {
			return pmsCaller{accountID: sh.UserID}, true
		}
		if acc := f.accounts[sh.UserID]; acc != nil && acc.Token == tok {
			return pmsCaller{accountID: sh.UserID}, true
		}
	}
	return pmsCaller{}, false
}

// pmsBegin locks, finds the server and authenticates. On success the caller
// must call f.mu.Unlock.
func (f *Fake) pmsBegin(w http.ResponseWriter, r *http.Request, adminOnly bool) (*serverState, pmsCaller, bool) {
	f.mu.Lock()
	s := f.pmsServerLocked(r)
	if s == nil {
		f.mu.Unlock()
		http.NotFound(w, r)
		return nil, pmsCaller{}, false
	}
	c, ok := f.pmsAuthLocked(r, s)
	if !ok || (adminOnly && !c.admin) {
		f.mu.Unlock()
		writePMSUnauthorized(w)
		return nil, pmsCaller{}, false
	}
	return s, c, true
}

func (f *Fake) handleIdentity(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	s := f.pmsServerLocked(r)
	if s == nil {
		f.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	n := el("MediaContainer", a("size", 0), a("claimed", true), a("machineIdentifier", s.MachineID), a("version", s.Version))
	f.mu.Unlock()
	writePMS(w, r, http.StatusOK, n)
}

func (f *Fake) handlePMSRoot(w http.ResponseWriter, r *http.Request) {
	s, _, ok := f.pmsBegin(w, r, false)
	if !ok {
		return
	}
	owner := f.accounts[f.ownerID]
	transcoding := 0
	for _, x := range s.sessions {
		if x.Transcode && x.Type != "track" {
			transcoding++
		}
	}
	features := ""
	if !f.noPlexPass {
		features = strings.Join(plexPassFeatures, ",")
	}
	n := el("MediaContainer", a("size", 2), a("allowCameraUpload", true), a("allowChannelAccess", true),
		a("allowSharing", true), a("allowSync", true), a("friendlyName", s.Name), a("machineIdentifier", s.MachineID),
		a("multiuser", true), a("myPlex", true), a("myPlexMappingState", "mapped"), a("myPlexSigninState", "ok"),
		a("myPlexSubscription", !f.noPlexPass), a("myPlexUsername", owner.Email), a("ownerFeatures", features),
		a("platform", "Linux"), a("platformVersion", "6.8.0"), a("transcoderActiveVideoSessions", transcoding),
		a("updatedAt", f.now().Unix()), a("version", s.Version)).add(
		&node{name: "Directory", attrs: []attr{a("count", 1), a("key", "library"), a("title", "library")}},
		&node{name: "Directory", attrs: []attr{a("count", 1), a("key", "status"), a("title", "status")}},
	)
	f.mu.Unlock()
	writePMS(w, r, http.StatusOK, n)
}

var agentFor = map[string][2]string{
	"movie":  {"tv.plex.agents.movie", "Plex Movie"},
	"show":   {"tv.plex.agents.series", "Plex TV Series"},
	"artist": {"tv.plex.agents.music", "Plex Music"},
	"photo":  {"com.plexapp.agents.none", "Plex Photo Scanner"},
}

func (f *Fake) handleLibrarySections(w http.ResponseWriter, r *http.Request) {
	s, c, ok := f.pmsBegin(w, r, false)
	if !ok {
		return
	}
	libs := s.Libraries
	if !c.admin {
		libs = nil
		for _, sh := range f.shares {
			if sh.MachineID == s.MachineID && sh.UserID == c.accountID {
				libs = f.sharedLibrariesLocked(sh)
			}
		}
	}
	root := el("MediaContainer", a("size", len(libs)), a("allowSync", false),
		a("identifier", "com.plexapp.plugins.library"), a("title1", "Plex Library"))
	for i, l := range libs {
		ag := agentFor[l.Type]
		d := el("Directory", a("allowSync", true), a("key", l.Key), a("type", l.Type), a("title", l.Title),
			a("agent", ag[0]), a("scanner", ag[1]), a("language", "en-US"),
			a("uuid", uuidFrom("section-"+s.MachineID+"-"+l.Key)), a("refreshing", false), a("hidden", false),
			a("createdAt", 1419621957+int64(i)*3600), a("updatedAt", 1595491662), a("scannedAt", 1740000000))
		d.add(el("Location", a("id", i+9), a("path", "/data/"+strings.ToLower(strings.ReplaceAll(l.Title, " ", "")))))
		root.add(d)
	}
	f.mu.Unlock()
	writePMS(w, r, http.StatusOK, root)
}

func (f *Fake) handleAccounts(w http.ResponseWriter, r *http.Request) {
	s, _, ok := f.pmsBegin(w, r, true)
	if !ok {
		return
	}
	owner := f.accounts[f.ownerID]
	kids := []*node{
		accountNode(0, "", ""),
		accountNode(1, owner.Username, owner.Thumb),
	}
	for _, acc := range f.sortedAccountsLocked() {
		if acc.ID == f.ownerID {
			continue
		}
		has := acc.Home
		for _, sh := range f.shares {
			has = has || (sh.MachineID == s.MachineID && sh.UserID == acc.ID && !sh.Pending)
		}
		if has {
			kids = append(kids, accountNode(acc.ID, acc.Title, acc.Thumb))
		}
	}
	f.mu.Unlock()
	root := el("MediaContainer", a("size", len(kids)), a("identifier", "com.plexapp.system.accounts"))
	writePMS(w, r, http.StatusOK, root.add(kids...))
}

func accountNode(id int64, name, thumb string) *node {
	n := el("Account", a("id", id), a("key", "/accounts/"+strconv.FormatInt(id, 10)), a("name", name),
		a("defaultAudioLanguage", "en"), a("autoSelectAudio", true), a("defaultSubtitleLanguage", "en"),
		a("subtitleMode", 1), a("thumb", thumb))
	n.jsonKey = "Account"
	return n
}

// handleTerminate serves GET and POST /status/sessions/terminate.
func (f *Fake) handleTerminate(w http.ResponseWriter, r *http.Request) {
	s, _, ok := f.pmsBegin(w, r, true)
	if !ok {
		return
	}
	defer f.mu.Unlock()
	if f.noPlexPass {
		// "Server does not have the feature enabled" (Plex Pass).
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	if _, exact := q["sessionId"]; !exact {
		for k := range q {
			if strings.EqualFold(k, "sessionId") {
				// The parameter name is case-sensitive.
				http.Error(w, "Bad Request", http.StatusBadRequest)
				return
			}
		}
	}
	id := q.Get("sessionId")
	if id == "" {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	for i, x := range s.sessions {
		if x.ID == id {
			s.sessions = append(s.sessions[:i:i], s.sessions[i+1:]...)
			f.terminations = append(f.terminations, Termination{MachineID: s.MachineID, SessionID: id,
				Reason: q.Get("reason"), At: f.now()})
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	http.Error(w, "Not Found", http.StatusNotFound)
}
