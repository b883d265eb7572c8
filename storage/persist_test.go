package storage

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestPersistenceAcrossReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s := newDiskStore(t, dir)
	for i := range 30 {
		u := sampleUser(int64(i+1), fmt.Sprintf("user%02d", i))
		if i%3 == 0 {
			u.Status = StatusScheduled
			u.StartsAt = tp(base.Add(time.Duration(i) * time.Minute))
		}
		mustNil(t, s.PutUser(u), "PutUser")
	}
	mustNil(t, s.DeleteUser(30), "DeleteUser")
	mustNil(t, s.PutInvite(sampleInvite("i1", "code", base)), "PutInvite")
	before, err := s.ListUsers(UserQuery{Sort: "status", PerPage: 100})
	mustNil(t, err, "ListUsers")
	dueBefore, err := s.DueStarts(base.Add(time.Hour))
	mustNil(t, err, "DueStarts")
	mustNil(t, s.Close(), "Close")

	s = newDiskStore(t, dir)
	defer s.Close()
	after, err := s.ListUsers(UserQuery{Sort: "status", PerPage: 100})
	mustNil(t, err, "ListUsers after reopen")
	if after.Total != 29 || !slices.Equal(ids(after), ids(before)) {
		t.Fatalf("read model after reopen: %v (%d), want %v", ids(after), after.Total, ids(before))
	}
	counts, total, err := s.CountUsers()
	mustNil(t, err, "CountUsers")
	if total != 29 || counts[StatusScheduled] != 10 || counts[StatusActive] != 19 {
		t.Fatalf("counts after reopen: %v total %d", counts, total)
	}
	dueAfter, err := s.DueStarts(base.Add(time.Hour))
	mustNil(t, err, "DueStarts after reopen")
	if !slices.Equal(dueAfter, dueBefore) || len(dueAfter) != 10 {
		t.Fatalf("DueStarts after reopen %v, before %v", dueAfter, dueBefore)
	}
	inv, err := s.InviteByCode("CODE")
	mustNil(t, err, "InviteByCode after reopen")
	if inv.ID != "i1" {
		t.Fatalf("invite after reopen: %+v", inv)
	}
}
