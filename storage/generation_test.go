package storage

import (
	"errors"
	"testing"
)

func TestGenerationMovesOnlyOnCommittedWrites(t *testing.T) {
	s := newMemStore(t)
	g0 := s.Generation()
	if err := s.View(func(tx *Tx) error { _, err := tx.Invites().List(); return err }); err != nil {
		t.Fatal(err)
	}
	if s.Generation() != g0 {
		t.Fatal("a read moved the generation")
	}
	boom := errors.New("boom")
	if err := s.Update(func(tx *Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if s.Generation() != g0 {
		t.Fatal("an aborted write moved the generation")
	}
	if err := s.PutSetting("x", 1); err != nil {
		t.Fatal(err)
	}
	g1 := s.Generation()
	if g1 == g0 {
		t.Fatal("a committed write did not move the generation")
	}
	if err := s.PutUser(User{ID: 7, Username: "u", Kind: KindFriend, Status: StatusActive}); err != nil {
		t.Fatal(err)
	}
	if s.Generation() == g1 {
		t.Fatal("a committed user write did not move the generation")
	}
}
