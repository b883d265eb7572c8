package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// The users page's servers: the first has libraries 1, 4 and 8, the second 2 and 5.
const (
	pageServerA = seedServer
	pageServerB = "fedcba9876543210fedcba9876543210fedcba98"
)

// pageServers are the servers stored for the users page.
func pageServers(now time.Time) []storage.Server {
	return []storage.Server{
		{ID: pageServerA, Name: "Basement", URL: "http://127.0.0.1:1", Online: true, CheckedAt: now, CreatedAt: now, UpdatedAt: now,
			Libraries: []storage.Library{{Key: "1", SectionID: 101, Title: "Music", Type: "artist"},
				{Key: "4", SectionID: 104, Title: "Movies", Type: "movie"}, {Key: "8", SectionID: 108, Title: "TV Shows", Type: "show"}}},
		{ID: pageServerB, Name: "Attic", URL: "http://127.0.0.1:2", Online: true, CheckedAt: now, CreatedAt: now, UpdatedAt: now,
			Libraries: []storage.Library{{Key: "2", SectionID: 202, Title: "Films", Type: "movie"},
				{Key: "5", SectionID: 205, Title: "Anime", Type: "show"}}},
	}
}

// pageUser returns user i of the users page's store, varied by rng: kinds, statuses, shares on one
// or both servers, windows, notes and activity. Nothing is due for enforcement at now (active
// users expire later, scheduled ones start later), so the app's own loops leave the users alone.
func pageUser(i int, rng *rand.Rand, now time.Time) storage.User {
	statuses := []string{storage.StatusActive, storage.StatusActive, storage.StatusActive, storage.StatusPending,
		storage.StatusScheduled, storage.StatusExpired, storage.StatusRemoved}
	u := storage.User{ID: int64(50_000_000 + i), UUID: fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15),
		Username: fmt.Sprintf("user%05d", i), Email: fmt.Sprintf("user%05d@example.com", i), Title: fmt.Sprintf("User %d", i),
		Thumb: fmt.Sprintf("https://plex.tv/users/%016x/avatar?c=1700000000", uint64(i)*31),
		Kind:  storage.KindFriend, Status: statuses[rng.IntN(len(statuses))],
		CreatedAt: now.Add(-time.Duration(rng.IntN(20_000)) * time.Hour), UpdatedAt: now}
	switch i % 50 {
	case 7:
		u.Kind = storage.KindHome
	case 19:
		u.Kind = storage.KindManaged
	}
	libs := []string{"4"}
	if rng.IntN(2) == 0 {
		libs = append(libs, "8")
	}
	if rng.IntN(4) == 0 {
		libs = append([]string{"1"}, libs...)
	}
	u.Shares = map[string]storage.Share{pageServerA: {ShareID: int64(500_000 + i), Libraries: libs, AllowDownloads: rng.IntN(2) == 0}}
	if rng.IntN(3) == 0 {
		u.Shares[pageServerB] = storage.Share{ShareID: int64(900_000 + i), Libraries: []string{"2", "5"}}
	}
	switch u.Status {
	case storage.StatusScheduled:
		starts := now.Add(time.Duration(24+rng.IntN(2000)) * time.Hour)
		u.StartsAt = &starts
	case storage.StatusExpired, storage.StatusRemoved:
		ended := now.Add(-time.Duration(1+rng.IntN(2000)) * time.Hour)
		u.ExpiresAt = &ended
	default:
		if rng.IntN(3) == 0 {
			exp := now.Add(time.Duration(24+rng.IntN(2000)) * time.Hour)
			u.ExpiresAt = &exp
		}
	}
	if rng.IntN(2) == 0 {
		seen := now.Add(-time.Duration(rng.IntN(2000)) * time.Hour)
		u.LastActivityAt = &seen
	}
	if rng.IntN(10) == 0 {
		u.Notes = fmt.Sprintf("pays yearly; family of %d", rng.IntN(5)+1)
	}
	return u
}

// pageCredentials are how the load generator signs in: an admin's password (for the sign-in form)
// and an API key stored hashed, as the UI would create them. Never printed.
type pageCredentials struct {
	username, password, apiKey string
}

// seedUsersPage writes the servers, n users, an admin with a password and an API key into a store
// on disk at dir, and closes it.
func seedUsersPage(ctx context.Context, dir string, n int, now time.Time) (pageCredentials, error) {
	secret := make([]byte, 18)
	_, _ = crand.Read(secret) // crypto/rand.Read never fails
	creds := pageCredentials{username: "bench", password: hex.EncodeToString(secret)}
	st, err := storage.Open(storage.DefaultOptions(dir, nil))
	if err != nil {
		return creds, fmt.Errorf("opening the store to seed: %w", err)
	}
	err = fillUsersPage(ctx, st, n, now, &creds)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the seeded store: %w", cerr)
	}
	return creds, err
}

// fillUsersPage is seedUsersPage's writing.
func fillUsersPage(ctx context.Context, st *storage.Store, n int, now time.Time, creds *pageCredentials) error {
	for _, srv := range pageServers(now) {
		if err := st.PutServer(srv); err != nil {
			return fmt.Errorf("storing server %s: %w", srv.Name, err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const chunk = 500
	for start := 0; start < n; start += chunk {
		err := st.Update(func(tx *storage.Tx) error {
			for i := start; i < min(start+chunk, n); i++ {
				if err := tx.Users().Put(pageUser(i, rng, now)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("storing users %d…: %w", start, err)
		}
	}
	hasher, err := auth.NewHasher(auth.DefaultParams, 1)
	if err != nil {
		return fmt.Errorf("password hasher: %w", err)
	}
	hash, err := hasher.Hash(ctx, creds.password)
	if err != nil {
		return fmt.Errorf("hashing the admin's password: %w", err)
	}
	if err := st.PutAdmin(storage.Admin{ID: storage.NewID(), Username: creds.username, PasswordHash: hash,
		Role: storage.RoleAdmin, CreatedAt: now, UpdatedAt: now}); err != nil {
		return fmt.Errorf("storing the admin: %w", err)
	}
	keys, err := auth.NewAPIKeys(auth.APIKeyOptions{Store: st})
	if err != nil {
		return fmt.Errorf("api keys: %w", err)
	}
	creds.apiKey, _, err = keys.Create("bench", storage.RoleAdmin, "admin:"+creds.username)
	if err != nil {
		return fmt.Errorf("creating the API key: %w", err)
	}
	return nil
}
