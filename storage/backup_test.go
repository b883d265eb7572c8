package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// dumpAll returns every visible key and value of the store.
func dumpAll(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := make(map[string]string)
	err := s.View(func(tx *Tx) error {
		return tx.scan(nil, nil, false, true, func(item *badger.Item) (bool, error) {
			v, err := item.ValueCopy(nil)
			out[string(item.Key())] = string(v)
			return true, err
		})
	})
	mustNil(t, err, "dumpAll")
	return out
}

// populate writes some of every record kind.
func populate(t *testing.T, s *Store) {
	t.Helper()
	for i := range 50 {
		u := sampleUser(int64(i+1), fmt.Sprintf("user%02d", i))
		u.ExpiresAt = tp(base.Add(time.Duration(i) * time.Hour))
		mustNil(t, s.PutUser(u), "PutUser")
	}
	mustNil(t, s.PutServer(Server{ID: "srv1", Name: "Den"}), "PutServer")
	mustNil(t, s.PutInvite(sampleInvite("i1", "JOIN", base)), "PutInvite")
	_, err := s.PutRedemption(Redemption{InviteID: "i1", UserID: 3, At: base, Outcome: OutcomeJoined})
	mustNil(t, err, "PutRedemption")
	mustNil(t, s.PutAdmin(Admin{ID: "a1", Username: "root", Role: RoleAdmin}), "PutAdmin")
	mustNil(t, s.PutAPIKey(APIKey{ID: "k1", Hash: "h", Role: RoleAdmin}), "PutAPIKey")
	mustNil(t, s.CommitSession("tok", Session{AdminID: "a1", Expiry: time.Now().Add(time.Hour)}), "CommitSession")
	for i := range 20 {
		_, err := s.AppendEvent(Event{At: base.Add(time.Duration(i) * time.Second), Type: "user.seen", UserID: 1})
		mustNil(t, err, "AppendEvent")
	}
	mustNil(t, s.PutSetting("public_url", "https://plex.example.com"), "PutSetting")
	_, err = s.PutIntent(Intent{ID: "in1", Kind: "share", State: IntentPending, CreatedAt: base})
	mustNil(t, err, "PutIntent")
	mustNil(t, s.PutState("oauth", "st", []byte("v"), time.Hour), "PutState")
	_, err = s.ClientID()
	mustNil(t, err, "ClientID")
	// Some churn, so the backup also meets deleted and overwritten keys.
	mustNil(t, s.DeleteUser(50), "DeleteUser")
	_, err = s.UpdateUser(1, func(u *User) error { u.Notes = "edited"; return nil })
	mustNil(t, err, "UpdateUser")
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	root := t.TempDir()
	src := newDiskStore(t, filepath.Join(root, "src"))
	populate(t, src)
	var buf bytes.Buffer
	since, err := src.Backup(&buf)
	mustNil(t, err, "Backup")
	if since == 0 || buf.Len() == 0 {
		t.Fatalf("Backup wrote %d bytes up to version %d", buf.Len(), since)
	}
	want := dumpAll(t, src)
	wantStats, err := src.Stats()
	mustNil(t, err, "Stats")
	mustNil(t, src.Close(), "Close source")

	dst := filepath.Join(root, "restored")
	mustNil(t, Restore(dst, bytes.NewReader(buf.Bytes())), "Restore")

	st, err := Verify(dst)
	mustNil(t, err, "Verify")
	if st.SchemaVersion != SchemaVersion || !maps.Equal(st.Records, wantStats.Records) {
		t.Fatalf("Verify = %+v, want %+v", st, wantStats)
	}
	if st.Records["user"] != 49 || st.Records["event"] != 20 || st.Records["session"] != 1 {
		t.Fatalf("unexpected counts %v", st.Records)
	}

	restored := newDiskStore(t, dst)
	defer restored.Close()
	got := dumpAll(t, restored)
	if !maps.Equal(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("key %s: got %q, want %q", k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("extra key %s", k)
			}
		}
		t.Fatal("restored contents differ")
	}
	// The restored store works: read model rebuilt, indexes usable, sessions alive.
	page, err := restored.ListUsers(UserQuery{Q: "edited"})
	mustNil(t, err, "ListUsers")
	if page.Total != 1 || page.Users[0].ID != 1 {
		t.Fatalf("ListUsers on the restored store = %+v", page)
	}
	inv, err := restored.InviteByCode("join")
	mustNil(t, err, "InviteByCode")
	if inv.ID != "i1" {
		t.Fatalf("InviteByCode = %+v", inv)
	}
	_, err = restored.FindSession("tok")
	mustNil(t, err, "FindSession")
}

func TestRestoreRefusesNonEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "keep-me")
	mustNil(t, os.WriteFile(marker, []byte("x"), 0o600), "write marker")
	err := Restore(dir, strings.NewReader("anything"))
	wantErr(t, err, ErrExists, "Restore into a non-empty dir")
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("Restore touched the existing content: %v", err)
	}
	wantErr(t, Restore("", strings.NewReader("")), ErrInvalid, "Restore without a dir")
}

func TestRestoreFailuresLeaveDirectoryEmpty(t *testing.T) {
	// A backup written by a newer schema.
	root := t.TempDir()
	runs := make([]int, 4)
	newer, err := openWithMigrations(DefaultOptions(filepath.Join(root, "newer"), nil), countingMigrations(4, runs))
	mustNil(t, err, "open newer")
	var newerBackup bytes.Buffer
	_, err = newer.Backup(&newerBackup)
	mustNil(t, err, "Backup newer")
	mustNil(t, newer.Close(), "Close newer")

	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty input", nil, ErrInvalid},
		{"garbage", []byte("this is not a badger backup at all, just text"), nil},
		{"truncated", newerBackup.Bytes()[:newerBackup.Len()/2], nil},
		{"newer schema", newerBackup.Bytes(), ErrSchemaTooNew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(root, strings.ReplaceAll(tt.name, " ", "-"))
			err := Restore(dir, bytes.NewReader(tt.input))
			if err == nil {
				t.Fatal("Restore succeeded")
			}
			if tt.want != nil {
				wantErr(t, err, tt.want, "Restore")
			}
			t.Logf("Restore error: %v", err)
			entries, rerr := os.ReadDir(dir)
			mustNil(t, rerr, "ReadDir")
			if len(entries) != 0 {
				t.Fatalf("failed Restore left %d entries in %s", len(entries), dir)
			}
		})
	}
}

func TestVerifyErrors(t *testing.T) {
	_, err := Verify(filepath.Join(t.TempDir(), "missing"))
	if err == nil {
		t.Fatal("Verify of a missing dir succeeded")
	}
	dir := filepath.Join(t.TempDir(), "db")
	s := newDiskStore(t, dir)
	defer s.Close()
	_, err = Verify(dir)
	wantErr(t, err, ErrDirLocked, "Verify of a dir in use")
}

func TestBackupAfterCloseFails(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	mustNil(t, err, "Open")
	mustNil(t, s.Close(), "Close")
	_, err = s.Backup(&bytes.Buffer{})
	wantErr(t, err, ErrClosed, "Backup after Close")
}

func TestFrameReaderRejectsHugeFramesAndPassesGoodOnes(t *testing.T) {
	var good bytes.Buffer
	for _, payload := range []string{"abc", "", "hello world"} {
		var hdr [8]byte
		binary.LittleEndian.PutUint64(hdr[:], uint64(len(payload)))
		good.Write(hdr[:])
		good.WriteString(payload)
	}
	// Read one byte at a time to cross every header/payload boundary.
	var out bytes.Buffer
	fr := &frameReader{r: iotest.OneByteReader(bytes.NewReader(good.Bytes()))}
	_, err := io.Copy(&out, fr)
	mustNil(t, err, "copy")
	if !bytes.Equal(out.Bytes(), good.Bytes()) {
		t.Fatal("frameReader changed the stream")
	}

	var bad bytes.Buffer
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], maxBackupFrame+1)
	bad.Write(hdr[:])
	_, err = io.Copy(io.Discard, &frameReader{r: &bad})
	if err == nil || !strings.Contains(err.Error(), "not a backup") {
		t.Fatalf("huge frame: got %v", err)
	}
}
