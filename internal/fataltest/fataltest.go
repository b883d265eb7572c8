// Package fataltest checks that a test helper fails its test: it runs the helper with a
// testing.TB whose Fatal and Fatalf are recorded instead of failing the real test.
package fataltest

import (
	"fmt"
	"runtime"
	"testing"
)

// recorder is a testing.TB whose Fatal and Fatalf record the message and end the goroutine, as
// the real ones do; everything else goes to the real test.
type recorder struct {
	testing.TB
	msg   string
	fatal bool
}

func (r *recorder) Helper() {}

func (r *recorder) Fatal(args ...any) {
	r.msg, r.fatal = fmt.Sprint(args...), true
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg, r.fatal = fmt.Sprintf(format, args...), true
	runtime.Goexit()
}

// Run calls f with a testing.TB on t whose Fatal and Fatalf end f and are recorded instead of
// failing t. It returns the message and whether f called one of them.
func Run(t testing.TB, f func(tb testing.TB)) (msg string, fatal bool) {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg, r.fatal
}
