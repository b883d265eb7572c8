package plextest

import (
	"slices"
	"testing"
)

func TestShareOf(t *testing.T) {
	f := newFake(t, Options{})
	other := f.AddServer(Server{ID: 9999998, MachineID: "other-machine", Name: "Other",
		Libraries: []Library{{Key: "1", SectionID: 555, Title: "Films", Type: "movie"}}})
	tests := []struct {
		name      string
		machineID string
		userID    int64
		wantOK    bool
		wantID    int64
	}{
		{name: "alice on Basement", machineID: MinimalMachineID, userID: MinimalAliceID, wantOK: true, wantID: 907759180},
		{name: "carol on Basement", machineID: MinimalMachineID, userID: MinimalCarolID, wantOK: true, wantID: 907759182},
		{name: "dave has no share", machineID: MinimalMachineID, userID: MinimalDaveID},
		{name: "alice on a server that shares nothing", machineID: other.MachineID, userID: MinimalAliceID},
		{name: "unknown server", machineID: "no-such-machine", userID: MinimalAliceID},
		{name: "the owner has no share", machineID: MinimalMachineID, userID: MinimalOwnerID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sh, ok := f.ShareOf(tc.machineID, tc.userID)
			if ok != tc.wantOK || sh.ID != tc.wantID {
				t.Fatalf("ShareOf = %+v, %v; want share %d, %v", sh, ok, tc.wantID, tc.wantOK)
			}
			if ok && (sh.UserID != tc.userID || sh.MachineID != tc.machineID) {
				t.Errorf("ShareOf returned another user's or server's share: %+v", sh)
			}
		})
	}
}

func TestMinimalSectionIDs(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want []int64
	}{
		{name: "none", keys: nil, want: nil},
		{name: "one", keys: []string{"4"}, want: []int64{SectionMovies}},
		{name: "sorted whatever the order", keys: []string{"8", "1", "4"}, want: []int64{SectionMusic, SectionMovies, SectionTVShows}},
		{name: "unknown key is 0", keys: []string{"4", "99"}, want: []int64{0, SectionMovies}},
		{name: "repeats kept", keys: []string{"4", "4"}, want: []int64{SectionMovies, SectionMovies}},
	}
	seeded := map[string]int64{}
	for _, l := range SeedMinimal().Servers[0].Libraries {
		seeded[l.Key] = l.SectionID
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MinimalSectionIDs(tc.keys...); !slices.Equal(got, tc.want) {
				t.Errorf("MinimalSectionIDs(%q) = %v, want %v", tc.keys, got, tc.want)
			}
		})
	}
	// The map agrees with the seed itself.
	for key, id := range seeded {
		if got := MinimalSectionIDs(key); len(got) != 1 || got[0] != id {
			t.Errorf("MinimalSectionIDs(%q) = %v, want the seed's %d", key, got, id)
		}
	}
}
