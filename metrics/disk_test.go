package metrics

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// fixedDisk is a DiskSource with a fixed answer.
type fixedDisk struct {
	d   storage.DiskSpace
	err error
}

func (f fixedDisk) DiskSpace() (storage.DiskSpace, error) { return f.d, f.err }

func TestDiskCollector(t *testing.T) {
	cases := []struct {
		name    string
		src     fixedDisk
		want    string
		wantErr string
	}{
		{"guarded", fixedDisk{d: storage.DiskSpace{Guarded: true, FreeBytes: 5 << 30, MinFreeBytes: 64 << 20}}, `
# HELP plex_manager_data_disk_free_bytes Free space of the file system holding the database, as the store's guard reads it.
# TYPE plex_manager_data_disk_free_bytes gauge
plex_manager_data_disk_free_bytes 5.36870912e+09
# HELP plex_manager_data_disk_min_free_bytes Free space below which the store refuses changes (HTTP 507) to keep the database safe.
# TYPE plex_manager_data_disk_min_free_bytes gauge
plex_manager_data_disk_min_free_bytes 6.7108864e+07
`, ""},
		{"in memory", fixedDisk{}, "", ""},
		{"unreadable", fixedDisk{err: errors.New("statfs: input/output error")}, "", "input/output error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if err := New(Options{Disk: tc.src}).Register(reg); err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Gather = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err := gatherAndCompare(reg, strings.NewReader(tc.want), "plex_manager_data_disk_free_bytes", "plex_manager_data_disk_min_free_bytes"); err != nil {
				t.Error(err)
			}
		})
	}
}
