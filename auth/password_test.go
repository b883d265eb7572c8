package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHashAndVerify(t *testing.T) {
	h, err := NewHasher(cheapParams, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Count(enc, "$") != 5 {
		t.Errorf("hash %q is not a PHC argon2id string", enc)
	}
	if strings.Contains(enc, "correct") {
		t.Error("the hash contains the password")
	}
	enc2, _ := h.Hash(ctx, "correct horse battery")
	if enc == enc2 {
		t.Error("two hashes of the same password are equal: no random salt")
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"correct horse battery", true}, {"correct horse batterY", false}, {"", false}, {"correct horse battery ", false}} {
		ok, err := h.Verify(ctx, enc, tt.pw)
		if err != nil || ok != tt.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
	if ok, err := h.Verify(ctx, enc, strings.Repeat("x", MaxPasswordBytes+1)); ok || err != nil {
		t.Errorf("oversized password: %v %v", ok, err)
	}
	if _, err := h.Hash(ctx, strings.Repeat("x", MaxPasswordBytes+1)); err == nil {
		t.Error("hashing an oversized password succeeded")
	}
	if ok, err := h.VerifyUnknown(ctx, "correct horse battery"); ok || err != nil {
		t.Errorf("VerifyUnknown = %v %v", ok, err)
	}
	if h.NeedsRehash(enc) {
		t.Error("a fresh hash needs a rehash")
	}
	if !h.NeedsRehash("$argon2id$v=19$m=128,t=1,p=1$" + strings.SplitN(enc, "$", 5)[4]) {
		t.Error("a hash with other parameters does not need a rehash")
	}
}

// TestVerifyCaddyHash checks compatibility with `caddy hash-password --algorithm argon2id`: the
// fake hash Caddy ships is a valid hash of some password in the same format, and hashes this
// package makes use Caddy's defaults.
func TestVerifyCaddyHash(t *testing.T) {
	const caddyFake = "$argon2id$v=19$m=47104,t=1,p=1$P2nzckEdTZ3bxCiBCkRTyA$xQL3Z32eo5jKl7u5tcIsnEKObYiyNZQQf5/4sAau6Pg"
	if err := CheckHash(caddyFake); err != nil {
		t.Fatalf("Caddy's hash refused: %v", err)
	}
	h, _ := NewHasher(DefaultParams, 1)
	if ok, err := h.Verify(context.Background(), caddyFake, "not the password"); ok || err != nil {
		t.Errorf("Verify = %v %v", ok, err)
	}
	if DefaultParams != (Params{Time: 1, MemoryKiB: 47104, Threads: 1, KeyLen: 32, SaltLen: 16}) {
		t.Errorf("DefaultParams %+v differ from Caddy's defaults", DefaultParams)
	}
}

func TestMalformedHashes(t *testing.T) {
	h, _ := NewHasher(cheapParams, 1)
	good, _ := h.Hash(context.Background(), "pw")
	parts := strings.Split(good, "$")
	bad := map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$14$ajq8Q7fbtFRQvXpdCq7Jcuy.Rx1h/L4J60Otx.gyNLbAYctGMJ9tK",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"version":        strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(good, "m=64", "m=4194304", 1),
		"huge time":      strings.Replace(good, "t=1", "t=1000", 1),
		"zero threads":   strings.Replace(good, "p=1", "p=0", 1),
		"threads > 255":  strings.Replace(good, "p=1", "p=300", 1),
		"unknown param":  strings.Replace(good, "p=1", "p=1,x=2", 1),
		"repeated param": strings.Replace(good, "m=64", "m=64,m=128", 1),
		"missing param":  strings.Replace(good, ",p=1", "", 1),
		"line break":     good[:len(good)-10] + "\n" + good[len(good)-10:],
		"bad salt":       strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
		"short key":      strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"padded key":     good + "=",
		"missing fields": "$argon2id$v=19$m=64,t=1,p=1$abc",
	}
	for name, enc := range bad {
		ok, err := h.Verify(context.Background(), enc, "pw")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify = %v, %v; want ErrMalformedHash", name, ok, err)
		}
	}
	for _, p := range []Params{{}, {Time: 1, MemoryKiB: 4, Threads: 1, KeyLen: 32, SaltLen: 16}, {Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 8, SaltLen: 16}} {
		if _, err := NewHasher(p, 1); err == nil {
			t.Errorf("NewHasher(%+v) accepted", p)
		}
	}
}

func TestHashConcurrencyLimit(t *testing.T) {
	h, _ := NewHasher(Params{Time: 2, MemoryKiB: 4096, Threads: 1, KeyLen: 32, SaltLen: 16}, 2)
	var running, peak atomic.Int32
	// Observe the semaphore: its length is the number of hashes in progress.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				n := int32(len(h.sem))
				if n > peak.Load() {
					peak.Store(n)
				}
			}
		}
	}()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			running.Add(1)
			_, _ = h.Hash(context.Background(), "password")
		}()
	}
	wg.Wait()
	close(stop)
	if peak.Load() > 2 {
		t.Errorf("%d hashes ran at once, limit 2", peak.Load())
	}
	// A caller whose context ends while waiting gives up.
	h.sem <- struct{}{}
	h.sem <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with every slot taken: %v", err)
	}
}
