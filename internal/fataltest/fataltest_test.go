package fataltest

import (
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		f         func(tb testing.TB)
		wantMsg   string
		wantFatal bool
	}{
		{name: "returns normally", f: func(testing.TB) {}},
		{name: "Fatalf", f: func(tb testing.TB) { tb.Fatalf("bad %d", 7) }, wantMsg: "bad 7", wantFatal: true},
		{name: "Fatal", f: func(tb testing.TB) { tb.Fatal("bad", 8) }, wantMsg: "bad8", wantFatal: true},
		{name: "Fatalf with an empty message", f: func(tb testing.TB) { tb.Fatalf("") }, wantFatal: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			after := false
			msg, fatal := Run(t, func(tb testing.TB) {
				tc.f(tb)
				after = true
			})
			if msg != tc.wantMsg || fatal != tc.wantFatal {
				t.Errorf("Run = %q, %v; want %q, %v", msg, fatal, tc.wantMsg, tc.wantFatal)
			}
			if after != !tc.wantFatal {
				t.Errorf("f ran past its end: %v, want %v", after, !tc.wantFatal)
			}
		})
	}
}

func TestRunPassesTheRealTestThrough(t *testing.T) {
	var cleaned bool
	t.Run("inner", func(t *testing.T) {
		_, _ = Run(t, func(tb testing.TB) {
			tb.Cleanup(func() { cleaned = true })
			if tb.Name() != t.Name() {
				t.Errorf("Name() = %q, want the real test's %q", tb.Name(), t.Name())
			}
		})
	})
	if !cleaned {
		t.Error("a Cleanup registered through Run did not run with the real test")
	}
}
