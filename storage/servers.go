package storage

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Servers is the Plex Media Server repository of a transaction.
type Servers struct{ tx *Tx }

// Servers returns the server repository of tx.
func (tx *Tx) Servers() Servers { return Servers{tx} }

// serverKey is the record key of server id.
func serverKey(id string) []byte { return keyOf("server", id) }

// Get returns server id (its machineIdentifier).
func (r Servers) Get(id string) (Server, error) {
	var s Server
	if err := r.tx.getJSON(serverKey(id), &s); err != nil {
		return Server{}, fmt.Errorf("server %q: %w", id, err)
	}
	return s, nil
}

// Put creates or replaces a server.
func (r Servers) Put(s Server) error {
	if err := checkSegment("server id", s.ID); err != nil {
		return err
	}
	if err := r.tx.putJSON(serverKey(s.ID), s); err != nil {
		return fmt.Errorf("server %q: %w", s.ID, err)
	}
	return nil
}

// Delete removes server id; ErrNotFound when absent.
func (r Servers) Delete(id string) error {
	if ok, err := r.tx.exists(serverKey(id)); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("server %q: %w", id, ErrNotFound)
	}
	return r.tx.del(serverKey(id))
}

// List returns every server in id order.
func (r Servers) List() ([]Server, error) {
	var out []Server
	err := r.tx.scan(prefixOf("server"), nil, false, true, func(item *badger.Item) (bool, error) {
		var s Server
		if err := decodeItem(item, &s); err != nil {
			return false, err
		}
		out = append(out, s)
		return true, nil
	})
	return out, err
}

// GetServer returns server id.
func (s *Store) GetServer(id string) (Server, error) {
	var out Server
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Servers().Get(id)
		return err
	})
	return out, err
}

// PutServer creates or replaces a server.
func (s *Store) PutServer(srv Server) error {
	return s.Update(func(tx *Tx) error { return tx.Servers().Put(srv) })
}

// DeleteServer removes server id.
func (s *Store) DeleteServer(id string) error {
	return s.Update(func(tx *Tx) error { return tx.Servers().Delete(id) })
}

// ListServers returns every server in id order.
func (s *Store) ListServers() ([]Server, error) {
	var out []Server
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Servers().List()
		return err
	})
	return out, err
}
