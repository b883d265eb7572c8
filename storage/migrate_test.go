package storage

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// countingMigrations returns n migrations that each count their runs and write a marker setting.
func countingMigrations(n int, runs []int) []migration {
	var list []migration
	for i := range n {
		v := i + 1
		list = append(list, migration{version: v, name: "test", up: func(tx *Tx) error {
			runs[v-1]++
			return tx.Settings().Put("migrated", v)
		}})
	}
	return list
}

func TestMigrationsRunOnceAcrossOpens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	runs := make([]int, 3)
	s, err := openWithMigrations(DefaultOptions(dir, nil), countingMigrations(2, runs))
	mustNil(t, err, "first open")
	v, err := s.SchemaVersion()
	mustNil(t, err, "SchemaVersion")
	if v != 2 {
		t.Fatalf("schema version %d, want 2", v)
	}
	mustNil(t, s.Close(), "Close")

	s, err = openWithMigrations(DefaultOptions(dir, nil), countingMigrations(2, runs))
	mustNil(t, err, "second open")
	mustNil(t, s.Close(), "Close")
	if runs[0] != 1 || runs[1] != 1 {
		t.Fatalf("migrations ran %v times, want once each", runs[:2])
	}

	// A build with a third migration runs only that one.
	s, err = openWithMigrations(DefaultOptions(dir, nil), countingMigrations(3, runs))
	mustNil(t, err, "open with a new migration")
	var marker int
	mustNil(t, s.GetSetting("migrated", &marker), "GetSetting")
	mustNil(t, s.Close(), "Close")
	if runs[0] != 1 || runs[1] != 1 || runs[2] != 1 || marker != 3 {
		t.Fatalf("runs %v marker %d, want [1 1 1] and 3", runs, marker)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	runs := make([]int, 5)
	s, err := openWithMigrations(DefaultOptions(dir, nil), countingMigrations(5, runs))
	mustNil(t, err, "open with 5 migrations")
	mustNil(t, s.Close(), "Close")

	_, err = Open(DefaultOptions(dir, nil)) // this build knows SchemaVersion (< 5)
	wantErr(t, err, ErrSchemaTooNew, "Open of a newer database")
	for _, want := range []string{"5", dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The refusal released the directory lock.
	s, err = openWithMigrations(DefaultOptions(dir, nil), countingMigrations(5, runs))
	mustNil(t, err, "reopen after refusal")
	mustNil(t, s.Close(), "Close")
}

func TestFailedMigrationLeavesVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	runs := make([]int, 2)
	list := countingMigrations(1, runs)
	boom := errors.New("boom")
	list = append(list, migration{version: 2, name: "broken", up: func(tx *Tx) error {
		if err := tx.Settings().Put("half-done", true); err != nil {
			return err
		}
		return boom
	}})
	_, err := openWithMigrations(DefaultOptions(dir, nil), list)
	wantErr(t, err, boom, "open with a failing migration")

	s, err := openWithMigrations(DefaultOptions(dir, nil), list[:1])
	mustNil(t, err, "open with the good migration only")
	defer s.Close()
	v, _ := s.SchemaVersion()
	if v != 1 {
		t.Fatalf("schema version %d after a failed migration, want 1", v)
	}
	var half bool
	wantErr(t, s.GetSetting("half-done", &half), ErrNotFound, "half-done write of the failed migration")
}

func TestMalformedMigrationListIsRefused(t *testing.T) {
	noop := func(*Tx) error { return nil }
	for _, list := range [][]migration{
		{{version: 2, up: noop}},
		{{version: 1, up: noop}, {version: 1, up: noop}},
		{{version: 1}},
	} {
		_, err := openWithMigrations(Options{InMemory: true}, list)
		if err == nil {
			t.Errorf("list %v accepted", list)
		}
	}
}

func TestBuiltInMigrationsEndAtSchemaVersion(t *testing.T) {
	list := migrations()
	if list[len(list)-1].version != SchemaVersion {
		t.Fatalf("last migration %d, SchemaVersion %d", list[len(list)-1].version, SchemaVersion)
	}
	s := newMemStore(t)
	v, err := s.SchemaVersion()
	mustNil(t, err, "SchemaVersion")
	if v != SchemaVersion {
		t.Fatalf("fresh store at schema %d, want %d", v, SchemaVersion)
	}
}
