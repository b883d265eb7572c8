package plextest

import (
	"net/http"
	"net/url"
	"strings"
)

// queryHasKey reports whether the raw query has key (unescaped compare).
func queryHasKey(rawQuery, key string) bool {
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, _, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == key {
			return true
		}
	}
	return false
}

// plexParam reads an X-Plex-* value from the header or, like Plex allows,
// from the query string.
func plexParam(r *http.Request, name string) string {
	if v := r.Header.Get(name); v != "" {
		return v
	}
	return r.URL.Query().Get(name)
}

// tokenOf is the request's X-Plex-Token (header or query).
func tokenOf(r *http.Request) string { return plexParam(r, "X-Plex-Token") }

// clientIDOf is the request's X-Plex-Client-Identifier.
func clientIDOf(r *http.Request) string { return plexParam(r, "X-Plex-Client-Identifier") }

// requireClientID answers 400 code 1000 when a v2 request has no client
// identifier.
func requireClientID(w http.ResponseWriter, r *http.Request) bool {
	if clientIDOf(r) != "" {
		return true
	}
	writeV2Error(w, r, http.StatusBadRequest, codeClientIDMissing, "", "X-Plex-Client-Identifier is missing")
	return false
}

// caller returns a copy of the account whose token the request carries.
func (f *Fake) caller(r *http.Request) (Account, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	acc := f.accountByTokenLocked(tokenOf(r))
	if acc == nil {
		return Account{}, false
	}
	return *acc, true
}

// authV2 checks the client identifier and the token of a plex.tv v2
// request and returns the caller (a copy).
func (f *Fake) authV2(w http.ResponseWriter, r *http.Request) (Account, bool) {
	if !requireClientID(w, r) {
		return Account{}, false
	}
	c, ok := f.caller(r)
	if !ok {
		writeV2Error(w, r, http.StatusUnauthorized, codeUnauthenticated, "", "User could not be authenticated")
		return Account{}, false
	}
	return c, true
}

// authV1 checks the token of a plex.tv v1 request (XML errors).
func (f *Fake) authV1(w http.ResponseWriter, r *http.Request) (Account, bool) {
	c, ok := f.caller(r)
	if !ok {
		writeV1Error(w, http.StatusUnauthorized, codeUnauthenticated, "User could not be authenticated")
		return Account{}, false
	}
	return c, true
}

// requireJSON answers 406 for a v2 route whose XML form docs/plex-api.md
// does not document: the real service would answer XML there, which a
// JSON client cannot read, so the fake makes the missing Accept header loud.
func requireJSON(w http.ResponseWriter, r *http.Request) bool {
	if wantsJSON(r) {
		return true
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotAcceptable)
	_, _ = w.Write([]byte("fake plex.tv: this route is only modelled as JSON; send Accept: application/json\n"))
	return false
}
