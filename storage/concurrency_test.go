package storage

import (
	"sync"
	"testing"
)

func TestConcurrentIncrementsLoseNothing(t *testing.T) {
	s := newMemStore(t)
	mustNil(t, s.PutSetting("counter", 0), "PutSetting")
	mustNil(t, s.PutUser(sampleUser(1, "counted")), "PutUser")
	const workers, each = 12, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				errs <- s.Update(func(tx *Tx) error {
					var n int
					if err := tx.Settings().Get("counter", &n); err != nil {
						return err
					}
					return tx.Settings().Put("counter", n+1)
				})
				_, err := s.UpdateUser(1, func(u *User) error { u.StreamLimit++; return nil })
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("increment failed: %v", err)
		}
	}
	var n int
	mustNil(t, s.GetSetting("counter", &n), "GetSetting")
	u, err := s.GetUser(1)
	mustNil(t, err, "GetUser")
	cached, err := s.CachedUser(1)
	mustNil(t, err, "CachedUser")
	if n != workers*each || u.StreamLimit != workers*each || cached.StreamLimit != workers*each {
		t.Fatalf("counter %d, user %d, read model %d; want %d each", n, u.StreamLimit, cached.StreamLimit, workers*each)
	}
}
