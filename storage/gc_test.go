package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestGCOnDiskAfterChurn(t *testing.T) {
	s := newDiskStore(t, filepath.Join(t.TempDir(), "db"))
	defer s.Close()
	big := strings.Repeat("x", 4096)
	for round := range 3 {
		mustNil(t, s.Update(func(tx *Tx) error {
			for i := range 200 {
				if err := tx.Settings().Put(fmt.Sprint("k", i), big+fmt.Sprint(round)); err != nil {
					return err
				}
			}
			return nil
		}), "churn")
	}
	mustNil(t, s.GC(), "GC")
	mustNil(t, s.GC(), "GC again (nothing to rewrite)")
	var v string
	mustNil(t, s.GetSetting("k7", &v), "GetSetting after GC")
	if v != big+"2" {
		t.Fatal("GC lost the latest value")
	}
}

func TestGCInMemoryAndClosed(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	mustNil(t, err, "Open")
	mustNil(t, s.GC(), "GC in memory")
	mustNil(t, s.Close(), "Close")

	d := newDiskStore(t, filepath.Join(t.TempDir(), "db"))
	mustNil(t, d.Close(), "Close")
	wantErr(t, d.GC(), ErrClosed, "GC after Close")
	wantErr(t, d.RunGC(context.Background(), time.Millisecond), ErrClosed, "RunGC after Close")
}

func TestRunGCStopsWithContext(t *testing.T) {
	for _, inMemory := range []bool{true, false} {
		t.Run(fmt.Sprint("in memory ", inMemory), func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			opts := Options{InMemory: true, Logger: zap.New(core)}
			if !inMemory {
				opts = DefaultOptions(filepath.Join(t.TempDir(), "db"), zap.New(core))
			}
			s, err := Open(opts)
			mustNil(t, err, "Open")
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.RunGC(ctx, 5*time.Millisecond) }()
			time.Sleep(50 * time.Millisecond) // several ticks
			cancel()
			select {
			case err := <-done:
				mustNil(t, err, "RunGC")
			case <-time.After(5 * time.Second):
				t.Fatal("RunGC did not return after cancel")
			}
			if logs.Len() != 0 {
				t.Fatalf("RunGC logged %v", logs.All())
			}
		})
	}
}
