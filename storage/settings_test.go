package storage

import (
	"path/filepath"
	"testing"
)

func TestSettings(t *testing.T) {
	s := newMemStore(t)
	type smtp struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	var got smtp
	wantErr(t, s.GetSetting("smtp", &got), ErrNotFound, "unset setting")
	mustNil(t, s.PutSetting("smtp", smtp{"mail.example.com", 587}), "PutSetting")
	mustNil(t, s.GetSetting("smtp", &got), "GetSetting")
	if got != (smtp{"mail.example.com", 587}) {
		t.Fatalf("GetSetting = %+v", got)
	}
	var wrongType []int
	if err := s.GetSetting("smtp", &wrongType); err == nil {
		t.Fatal("decoding into the wrong type succeeded")
	}
	mustNil(t, s.DeleteSetting("smtp"), "DeleteSetting")
	wantErr(t, s.GetSetting("smtp", &got), ErrNotFound, "deleted setting")
	wantErr(t, s.PutSetting("", 1), ErrInvalid, "empty name")
	wantErr(t, s.PutSetting("a/b", 1), ErrInvalid, "slash in name")
	if err := s.PutSetting("bad", func() {}); err == nil {
		t.Fatal("PutSetting of an unencodable value succeeded")
	}
}

func TestClientIDIsCreatedOnceAndPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s := newDiskStore(t, dir)
	id1, err := s.ClientID()
	mustNil(t, err, "ClientID")
	id2, err := s.ClientID()
	mustNil(t, err, "ClientID again")
	if id1 == "" || id1 != id2 {
		t.Fatalf("ClientID gave %q then %q", id1, id2)
	}
	mustNil(t, s.Close(), "Close")
	s = newDiskStore(t, dir)
	defer s.Close()
	id3, err := s.ClientID()
	mustNil(t, err, "ClientID after reopen")
	if id3 != id1 {
		t.Fatalf("ClientID changed across reopen: %q → %q", id1, id3)
	}
}
