package storage

import (
	"math"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestIntKeyOrderAndRoundTrip(t *testing.T) {
	values := []int64{math.MinInt64, -1 << 40, -2, -1, 0, 1, 2, 255, 256, 1 << 40, math.MaxInt64}
	var keys []string
	for _, v := range values {
		k := intKey(v)
		if len(k) != 16 {
			t.Fatalf("intKey(%d) = %q, want 16 characters", v, k)
		}
		back, err := parseIntKey(k)
		mustNil(t, err, "parseIntKey")
		if back != v {
			t.Fatalf("parseIntKey(intKey(%d)) = %d", v, back)
		}
		keys = append(keys, k)
	}
	if !sort.StringsAreSorted(keys) {
		t.Fatalf("intKey order is not numeric order: %v", keys)
	}
}

func TestParseIntKeyRejectsBadInput(t *testing.T) {
	for _, in := range []string{"", "123", "zzzzzzzzzzzzzzzz", "00000000000000000", "0000000000000g00"} {
		if _, err := parseIntKey(in); err == nil {
			t.Errorf("parseIntKey(%q) succeeded", in)
		}
	}
}

func TestTimeKeyOrderAndClamping(t *testing.T) {
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), // clamps to the minimum
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Unix(0, 0),
		base,
		base.Add(time.Nanosecond),
		base.Add(time.Hour),
		time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), // clamps to the maximum
	}
	var keys []string
	for _, tm := range times {
		keys = append(keys, timeKey(tm))
	}
	if !sort.StringsAreSorted(keys) {
		t.Fatalf("timeKey order is not time order: %v", keys)
	}
	if timeKey(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) != intKey(math.MinInt64) {
		t.Error("year 1 does not clamp to the minimum")
	}
	if timeKey(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) != intKey(math.MaxInt64) {
		t.Error("year 9999 does not clamp to the maximum")
	}
	// Zones do not matter: the key is the instant.
	if timeKey(base) != timeKey(base.In(time.FixedZone("x", 3600))) {
		t.Error("timeKey depends on the zone")
	}
}

func TestNewEventIDSortsByTime(t *testing.T) {
	var ids []string
	for i := range 50 {
		id := NewEventID(base.Add(time.Duration(i) * time.Millisecond))
		if !validEventID(id) {
			t.Fatalf("NewEventID gave %q, not valid", id)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("event ids are not in time order")
	}
	if NewEventID(base) == NewEventID(base) {
		t.Fatal("two ids at the same instant are equal")
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 32), strings.Repeat("A", 32), strings.Repeat("a", 33)} {
		if validEventID(bad) {
			t.Errorf("validEventID(%q) = true", bad)
		}
	}
}

func TestPendingUserID(t *testing.T) {
	a := PendingUserID("Alice@Example.com ")
	if a >= 0 {
		t.Fatalf("PendingUserID = %d, want negative", a)
	}
	if b := PendingUserID("alice@example.com"); b != a {
		t.Fatalf("PendingUserID is not case/space-insensitive: %d vs %d", a, b)
	}
	if c := PendingUserID("bob@example.com"); c == a {
		t.Fatal("two addresses gave the same id")
	}
}

func TestNewIDAndUUID(t *testing.T) {
	if a, b := NewID(), NewID(); len(a) != 32 || a == b {
		t.Fatalf("NewID gave %q and %q", a, b)
	}
	u := newUUID()
	if len(u) != 36 || u[14] != '4' || strings.Count(u, "-") != 4 {
		t.Fatalf("newUUID gave %q, not a v4 UUID", u)
	}
}
