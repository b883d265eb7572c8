package render

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"go.uber.org/zap"
)

// Bounds of the rendered-page cache: a page larger than maxCachedPage is never kept, and the
// keys and bodies kept together stay under maxCacheBytes (entries are dropped to make room).
const (
	maxCachedPage = 64 << 10
	maxCacheBytes = 1 << 20
)

// pageCache keeps rendered pages by a key that determines their bytes. It is safe for concurrent
// use; entries are immutable once stored.
type pageCache struct {
	mu      sync.RWMutex
	entries map[string]cachedPage
	size    int // bytes of keys and bodies held
	max     int
}

// cachedPage is one kept page: its bytes and their length as the Content-Length value.
type cachedPage struct {
	body   []byte
	length string
}

// newPageCache returns an empty cache holding at most max bytes.
func newPageCache(max int) *pageCache {
	return &pageCache{entries: make(map[string]cachedPage), max: max}
}

// get returns the page kept for key.
func (c *pageCache) get(key []byte) (cachedPage, bool) {
	c.mu.RLock()
	p, ok := c.entries[string(key)] // no allocation: the conversion is only a map index
	c.mu.RUnlock()
	return p, ok
}

// put keeps a copy of body for key, dropping other entries when the cache is full. A page too
// large to keep is ignored.
func (c *pageCache) put(key, body []byte) {
	cost := len(key) + len(body)
	if len(body) > maxCachedPage || cost > c.max {
		return
	}
	k, p := string(key), cachedPage{body: bytes.Clone(body), length: strconv.Itoa(len(body))}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; ok {
		return
	}
	for old, op := range c.entries { // random order: no bookkeeping, and a flood cannot pin entries
		if c.size+cost <= c.max {
			break
		}
		delete(c.entries, old)
		c.size -= len(old) + len(op.body)
	}
	c.entries[k] = p
	c.size += cost
}

// len returns the number of kept pages.
func (c *pageCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// CachedPage is [Renderer.Page] for pages whose bytes depend on nothing but data: the rendered
// document (or fragment) is kept, keyed by the page, the template and the JSON encoding of data,
// and written again for every later request with an equal encoding, without executing the
// templates. The cache is bounded; a page that fails to render is never kept.
//
// Use it only when the JSON encoding of data determines everything the page shows: every value
// the templates read must be an exported field that encoding/json writes as it is shown (no
// `json:"-"` fields, no methods reading hidden state, no Marshaler dropping what the page
// shows). Data that cannot be encoded is rendered without the cache.
func (rd *Renderer) CachedPage(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	name := layoutTemplate
	if WantsFragment(r) {
		name = contentTemplate
	}
	buf := rd.buffer()
	defer rd.release(buf)
	buf.WriteString(page)
	buf.WriteByte(0)
	buf.WriteString(name)
	buf.WriteByte(0)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil {
		rd.logger.Debug("page data cannot be a cache key", zap.String("page", page), zap.Error(err))
		rd.execute(w, r, status, page, name, data)
		return
	}
	key := buf.Bytes()
	if p, ok := rd.cache.get(key); ok {
		writeBytes(w, r, status, p.body, p.length)
		return
	}
	set, ok := rd.pages[page]
	if !ok {
		rd.logger.Error("unknown page", zap.String("page", page))
		rd.fail(w, r)
		return
	}
	out := rd.buffer()
	defer rd.release(out)
	if err := set.ExecuteTemplate(out, name, data); err != nil {
		rd.logger.Error("rendering page", zap.String("page", page), zap.String("template", name), zap.Error(err))
		rd.fail(w, r)
		return
	}
	rd.cache.put(key, out.Bytes())
	writeBytes(w, r, status, out.Bytes(), strconv.Itoa(out.Len()))
}

// CachedError is [Renderer.Error] through the cache of [Renderer.CachedPage], with data as the
// error page's data (what Options.ErrorData returns for the request): for error pages that are
// the same for every visitor, such as the 404 and 429 pages of the public side.
func (rd *Renderer) CachedError(w http.ResponseWriter, r *http.Request, status int, data any) {
	rd.CachedPage(w, r, status, rd.errorPage, data)
}

// writeBytes sends body, of length (its decimal length), as an HTML response with Vary:
// HX-Request. Content-Type and Content-Length replace any earlier value, as Header.Set would; the
// three values share one array, each slice capped at its own element.
func writeBytes(w http.ResponseWriter, r *http.Request, status int, body []byte, length string) {
	h := w.Header()
	vals := [...]string{"text/html; charset=utf-8", length, varyHTMX}
	hv := vals[:]
	h["Content-Type"] = hv[0:1:1]
	h["Content-Length"] = hv[1:2:2]
	if _, ok := h["Vary"]; ok {
		addVary(h)
	} else {
		h["Vary"] = hv[2:3:3]
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
