package storage

import (
	"testing"
	"time"
)

func TestAPIKeys(t *testing.T) {
	s := newMemStore(t)
	wantErr(t, s.PutAPIKey(APIKey{ID: "k0", Hash: "", Role: RoleAdmin}), ErrInvalid, "no hash")
	wantErr(t, s.PutAPIKey(APIKey{ID: "k0", Hash: "h", Role: "god"}), ErrInvalid, "bad role")

	mustNil(t, s.PutAPIKey(APIKey{ID: "k1", Name: "ci", Hash: "hash1", Role: RoleAdmin, CreatedAt: base.Add(time.Hour)}), "k1")
	mustNil(t, s.PutAPIKey(APIKey{ID: "k2", Name: "ro", Hash: "hash2", Role: RoleAuditor, CreatedAt: base}), "k2")
	wantErr(t, s.PutAPIKey(APIKey{ID: "k3", Hash: "hash1", Role: RoleAdmin}), ErrExists, "duplicate hash")
	wantErr(t, s.PutAPIKey(APIKey{ID: "k1", Hash: "other", Role: RoleAdmin}), ErrInvalid, "changing the hash")

	k, err := s.APIKeyByHash("hash1")
	mustNil(t, err, "APIKeyByHash")
	if k.ID != "k1" || k.Name != "ci" {
		t.Fatalf("APIKeyByHash = %+v", k)
	}
	_, err = s.APIKeyByHash("nope")
	wantErr(t, err, ErrNotFound, "unknown hash")

	list, err := s.ListAPIKeys()
	mustNil(t, err, "ListAPIKeys")
	if len(list) != 2 || list[0].ID != "k2" || list[1].ID != "k1" {
		t.Fatalf("ListAPIKeys = %+v, want oldest first", list)
	}

	revoked, err := s.RevokeAPIKey("k1", base.Add(2*time.Hour))
	mustNil(t, err, "RevokeAPIKey")
	again, err := s.RevokeAPIKey("k1", base.Add(5*time.Hour))
	mustNil(t, err, "RevokeAPIKey again")
	if revoked.RevokedAt == nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
		t.Fatalf("revocation time changed: %v then %v", revoked.RevokedAt, again.RevokedAt)
	}
	k, _ = s.APIKeyByHash("hash1")
	if k.RevokedAt == nil {
		t.Fatal("ByHash does not show the revocation")
	}
	_, err = s.RevokeAPIKey("missing", base)
	wantErr(t, err, ErrNotFound, "revoke missing")

	mustNil(t, s.DeleteAPIKey("k1"), "DeleteAPIKey")
	_, err = s.APIKeyByHash("hash1")
	wantErr(t, err, ErrNotFound, "hash of a deleted key")
	mustNil(t, s.PutAPIKey(APIKey{ID: "k3", Hash: "hash1", Role: RoleAdmin}), "reuse freed hash")
}

func TestTouchAPIKeyIsRateLimited(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutAPIKey(APIKey{ID: "k1", Hash: "h1", Role: RoleAdmin}), "PutAPIKey")
	lastUsed := func() time.Time {
		k, err := s.APIKeyByHash("h1")
		mustNil(t, err, "APIKeyByHash")
		if k.LastUsedAt == nil {
			return time.Time{}
		}
		return *k.LastUsedAt
	}
	steps := []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, 0},
		{30 * time.Second, 0},                // within a minute: not written
		{59 * time.Second, 0},                // still within
		{61 * time.Second, 61 * time.Second}, // written again
		{90 * time.Second, 61 * time.Second},
	}
	for _, st := range steps {
		mustNil(t, s.TouchAPIKey("k1", base.Add(st.at)), "TouchAPIKey")
		if got := lastUsed(); !got.Equal(base.Add(st.want)) {
			t.Fatalf("after touch at +%v: LastUsedAt = %v, want +%v", st.at, got, st.want)
		}
	}
	// A failed touch (unknown key) does not poison the limiter.
	wantErr(t, s.TouchAPIKey("ghost", base), ErrNotFound, "touch missing key")
	wantErr(t, s.TouchAPIKey("ghost", base.Add(time.Second)), ErrNotFound, "second touch of missing key still reaches the store")
	// TouchLastUsed never moves backwards.
	mustNil(t, s.Update(func(tx *Tx) error { return tx.APIKeys().TouchLastUsed("k1", base) }), "older touch")
	if got := lastUsed(); !got.Equal(base.Add(61 * time.Second)) {
		t.Fatalf("LastUsedAt moved backwards to %v", got)
	}
}
