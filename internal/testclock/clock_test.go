package testclock

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		move func(c *Clock)
		want time.Time
	}{
		{name: "new reads its time", move: func(*Clock) {}, want: t0},
		{name: "add moves forward", move: func(c *Clock) { c.Add(90 * time.Minute) }, want: t0.Add(90 * time.Minute)},
		{name: "negative add moves back", move: func(c *Clock) { c.Add(-time.Hour) }, want: t0.Add(-time.Hour)},
		{name: "adds accumulate", move: func(c *Clock) { c.Add(time.Hour); c.Add(time.Hour) }, want: t0.Add(2 * time.Hour)},
		{name: "set replaces", move: func(c *Clock) { c.Add(time.Hour); c.Set(t0.AddDate(1, 0, 0)) }, want: t0.AddDate(1, 0, 0)},
		{name: "set then add", move: func(c *Clock) { c.Set(t0.AddDate(0, 0, -1)); c.Add(time.Second) }, want: t0.AddDate(0, 0, -1).Add(time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(t0)
			tc.move(c)
			if got := c.Now(); !got.Equal(tc.want) {
				t.Errorf("Now() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestZeroClockReadsZeroTime(t *testing.T) {
	var c Clock
	if !c.Now().IsZero() {
		t.Errorf("zero Clock reads %v, want the zero time", c.Now())
	}
}

// TestConcurrentAdds checks no Add is lost when many goroutines move and read the clock (run with
// -race to also check the locking).
func TestConcurrentAdds(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	c := New(t0)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Add(time.Second)
			_ = c.Now()
		}()
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(50*time.Second); !got.Equal(want) {
		t.Errorf("after 50 concurrent adds Now() = %v, want %v", got, want)
	}
}
