package invite

import (
	"errors"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// TestLookupStoreFailure checks that a store that cannot be read is reported as such by Lookup and
// LookupOffer, never as ErrUnusable: the public page must say "try again later", not that the
// invite is invalid. A code that cannot be one is still ErrUnusable (the store is not asked).
func TestLookupStoreFailure(t *testing.T) {
	for _, counted := range []bool{false, true} {
		e := newOfferEnv(t, counted)
		e.put(t, storage.Invite{Code: "good-code", Enabled: true})
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"good-code", "unknown-code"} {
			lookups := map[string]error{}
			_, lookups["Lookup"] = e.svc.Lookup(code)
			_, _, lookups["LookupOffer"] = e.svc.LookupOffer(code)
			for name, err := range lookups {
				if errors.Is(err, ErrUnusable) || !errors.Is(err, storage.ErrClosed) {
					t.Errorf("counted=%v: %s(%q) on a closed store = %v, want a store failure wrapping storage.ErrClosed", counted, name, code, err)
				}
			}
		}
		if _, err := e.svc.Lookup("no"); !errors.Is(err, ErrUnusable) {
			t.Errorf("counted=%v: Lookup of an implausible code = %v, want ErrUnusable", counted, err)
		}
		if _, _, err := e.svc.LookupOffer("no"); !errors.Is(err, ErrUnusable) {
			t.Errorf("counted=%v: LookupOffer of an implausible code = %v, want ErrUnusable", counted, err)
		}
	}
}
