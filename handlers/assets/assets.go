// Package assets serves a tree of static files under content-hashed URLs,
// {prefix}/{hash}/{name}, so responses can be cached for a year: a changed file gets a new URL.
// A request with any other hash (an old one included) is a 404, directories are never listed,
// and only files with a known extension are accepted, so every response has a correct
// Content-Type.
package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// hashLen is how many hex digits of a file's SHA-256 go into its URL (64 bits).
const hashLen = 16

// CacheControl is sent with every file: hashed URLs never change content.
const CacheControl = "public, max-age=31536000, immutable"

// file is one static file held in memory.
type file struct {
	hash        string // first hashLen hex digits of the SHA-256
	etag        string
	contentType string
	data        []byte
}

// Assets serves the files of one static tree. It is safe for concurrent use.
type Assets struct {
	prefix   string
	files    map[string]file
	notFound http.Handler
}

// New reads every file of fsys into memory. prefix is the URL path the files are served under
// (e.g. "/manage/static", no trailing slash); notFound answers unknown names and hashes.
func New(fsys fs.FS, prefix string, notFound http.Handler) (*Assets, error) {
	if notFound == nil {
		return nil, fmt.Errorf("assets: no not-found handler")
	}
	if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("assets: prefix %q must start and not end with /", prefix)
	}
	a := &Assets{prefix: prefix, files: make(map[string]file), notFound: notFound}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		ctype, ok := contentType(path.Ext(name))
		if !ok {
			return fmt.Errorf("%s: no content type known for %q files", name, path.Ext(name))
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		full := hex.EncodeToString(sum[:])
		a.files[name] = file{hash: full[:hashLen], etag: `"` + full + `"`, contentType: ctype, data: data}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("assets: reading static files: %w", err)
	}
	return a, nil
}

// contentType maps the extensions the UI ships to their media types. It is explicit rather than
// taken from the system's MIME tables, which differ between machines.
func contentType(ext string) (string, bool) {
	switch strings.ToLower(ext) {
	case ".css":
		return "text/css; charset=utf-8", true
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".json", ".map":
		return "application/json", true
	case ".txt":
		return "text/plain; charset=utf-8", true
	case ".svg":
		return "image/svg+xml", true
	case ".png":
		return "image/png", true
	case ".ico":
		return "image/x-icon", true
	case ".webp":
		return "image/webp", true
	case ".woff2":
		return "font/woff2", true
	}
	return "", false
}

// URL returns the content-hashed URL of the named file (a slash-separated path inside the tree).
func (a *Assets) URL(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("assets: no static file %q", name)
	}
	return a.prefix + "/" + f.hash + "/" + (&url.URL{Path: name}).EscapedPath(), nil
}

// ServeHTTP serves {prefix}/{hash}/{name} for GET and HEAD. Conditional and range requests are
// handled by http.ServeContent against the file's ETag.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, a.prefix+"/")
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		a.notFound.ServeHTTP(w, r)
		return
	}
	hash, name, _ := strings.Cut(rest, "/")
	f, ok := a.files[name]
	if !ok || hash != f.hash {
		a.notFound.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", CacheControl)
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}
