package storage

import "testing"

func TestServers(t *testing.T) {
	s := newMemStore(t)
	wantErr(t, s.PutServer(Server{}), ErrInvalid, "no id")
	mustNil(t, s.PutServer(Server{ID: "bbb", Name: "Den", Libraries: []Library{{Key: "1", SectionID: 11, Title: "Movies", Type: "movie"}}}), "bbb")
	mustNil(t, s.PutServer(Server{ID: "aaa", Name: "Attic"}), "aaa")
	got, err := s.GetServer("bbb")
	mustNil(t, err, "GetServer")
	if got.Name != "Den" || len(got.Libraries) != 1 || got.Libraries[0].SectionID != 11 {
		t.Fatalf("GetServer = %+v", got)
	}
	list, err := s.ListServers()
	mustNil(t, err, "ListServers")
	if len(list) != 2 || list[0].ID != "aaa" || list[1].ID != "bbb" {
		t.Fatalf("ListServers = %+v", list)
	}
	mustNil(t, s.DeleteServer("aaa"), "DeleteServer")
	wantErr(t, s.DeleteServer("aaa"), ErrNotFound, "DeleteServer twice")
	_, err = s.GetServer("aaa")
	wantErr(t, err, ErrNotFound, "GetServer deleted")
}
