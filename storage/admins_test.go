package storage

import (
	"slices"
	"testing"
	"time"
)

func TestAdminValidation(t *testing.T) {
	s := newMemStore(t)
	for _, a := range []Admin{
		{ID: "", Username: "x", Role: RoleAdmin},
		{ID: "a", Username: "", Role: RoleAdmin},
		{ID: "a", Username: "x", Role: "root"},
	} {
		wantErr(t, s.PutAdmin(a), ErrInvalid, "PutAdmin")
	}
	n, err := s.CountAdmins()
	mustNil(t, err, "CountAdmins")
	if n != 0 {
		t.Fatalf("CountAdmins = %d after invalid puts", n)
	}
}

func TestAdminsUniqueIndexes(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutAdmin(Admin{ID: "a1", Username: "Root", Role: RoleAdmin, PlexID: 100}), "a1")
	mustNil(t, s.PutAdmin(Admin{ID: "a2", Username: "mod", Role: RoleModerator}), "a2")
	wantErr(t, s.PutAdmin(Admin{ID: "a3", Username: "ROOT", Role: RoleAuditor}), ErrExists, "same username")
	wantErr(t, s.PutAdmin(Admin{ID: "a2", Username: "mod", Role: RoleModerator, PlexID: 100}), ErrExists, "same plex account")

	a, err := s.AdminByUsername("root")
	mustNil(t, err, "AdminByUsername")
	if a.ID != "a1" {
		t.Fatalf("AdminByUsername = %s", a.ID)
	}
	a, err = s.AdminByPlexID(100)
	mustNil(t, err, "AdminByPlexID")
	if a.ID != "a1" {
		t.Fatalf("AdminByPlexID = %s", a.ID)
	}
	_, err = s.AdminByPlexID(0)
	wantErr(t, err, ErrInvalid, "AdminByPlexID(0)")
	_, err = s.AdminByUsername("")
	wantErr(t, err, ErrInvalid, "AdminByUsername empty")

	// Rename and relink: the old values become free.
	mustNil(t, s.PutAdmin(Admin{ID: "a1", Username: "boss", Role: RoleAdmin, PlexID: 200}), "rename a1")
	_, err = s.AdminByUsername("root")
	wantErr(t, err, ErrNotFound, "old username")
	_, err = s.AdminByPlexID(100)
	wantErr(t, err, ErrNotFound, "old plex id")
	mustNil(t, s.PutAdmin(Admin{ID: "a3", Username: "root", Role: RoleAuditor, PlexID: 100}), "take freed values")

	// Unlinking Plex frees the account.
	mustNil(t, s.PutAdmin(Admin{ID: "a1", Username: "boss", Role: RoleAdmin}), "unlink a1")
	_, err = s.AdminByPlexID(200)
	wantErr(t, err, ErrNotFound, "unlinked plex id")

	list, err := s.ListAdmins()
	mustNil(t, err, "ListAdmins")
	var names []string
	for _, a := range list {
		names = append(names, a.Username)
	}
	if !slices.Equal(names, []string{"boss", "mod", "root"}) {
		t.Fatalf("ListAdmins = %v", names)
	}
	n, err := s.CountAdmins()
	mustNil(t, err, "CountAdmins")
	if n != 3 {
		t.Fatalf("CountAdmins = %d", n)
	}
}

func TestDeleteAdminEndsSessions(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutAdmin(Admin{ID: "a1", Username: "root", Role: RoleAdmin, PlexID: 7}), "PutAdmin")
	exp := time.Now().Add(time.Hour)
	mustNil(t, s.CommitSession("h1", Session{AdminID: "a1", Expiry: exp}), "session 1")
	mustNil(t, s.CommitSession("h2", Session{AdminID: "a1", Expiry: exp}), "session 2")
	mustNil(t, s.CommitSession("h3", Session{AdminID: "other", Expiry: exp}), "session 3")
	mustNil(t, s.DeleteAdmin("a1"), "DeleteAdmin")
	for _, h := range []string{"h1", "h2"} {
		_, err := s.FindSession(h)
		wantErr(t, err, ErrNotFound, "session of the deleted admin")
	}
	_, err := s.FindSession("h3")
	mustNil(t, err, "other admin's session")
	_, err = s.AdminByUsername("root")
	wantErr(t, err, ErrNotFound, "username of a deleted admin")
	_, err = s.AdminByPlexID(7)
	wantErr(t, err, ErrNotFound, "plex id of a deleted admin")
	wantErr(t, s.DeleteAdmin("a1"), ErrNotFound, "second delete")
}
