package render

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"
)

// Options configures a [Renderer].
type Options struct {
	// FS holds layouts/*.html, partials/*.html and pages/**/*.html.
	FS fs.FS
	// BasePath prefixes every URL the url helper builds ("" or "/manage").
	BasePath string
	// AssetURL maps a static file name to its content-hashed URL (the asset helper).
	AssetURL func(name string) (string, error)
	// Logger receives template execution errors. Nil means no logging.
	Logger *zap.Logger
	// ErrorPage names the page used for error responses, including the 500 that replaces a page
	// whose execution failed. It must exist.
	ErrorPage string
	// ErrorData builds the data for ErrorPage for a request and status.
	ErrorData func(r *http.Request, status int) any
}

// Renderer executes cached per-page template sets into HTTP responses. It is safe for
// concurrent use.
type Renderer struct {
	pages     map[string]*template.Template
	logger    *zap.Logger
	errorPage string
	errorData func(r *http.Request, status int) any
	buffers   sync.Pool
	cache     *pageCache
}

// maxPooledBuffer keeps a rare huge page from pinning its buffer in the pool forever.
const maxPooledBuffer = 256 << 10

// layoutTemplate is the template each full page is executed from; layouts/base.html defines it.
const layoutTemplate = "base"

// contentTemplate is the block every page defines and the fragment htmx requests get by default.
const contentTemplate = "content"

// New parses the layouts and partials once, then one set per page file under pages/ (named by
// its path without "pages/" and ".html", e.g. "admin/home"). Every page must define "title" and
// "content".
func New(opts Options) (*Renderer, error) {
	if opts.FS == nil {
		return nil, errors.New("render: no template file system")
	}
	if opts.AssetURL == nil {
		return nil, errors.New("render: no asset URL function")
	}
	if opts.ErrorData == nil {
		return nil, errors.New("render: no error data function")
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	common, err := template.New(layoutTemplate).Funcs(Funcs(opts.BasePath, opts.AssetURL)).
		ParseFS(opts.FS, "layouts/*.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("render: parsing layouts and partials: %w", err)
	}
	if common.Lookup(layoutTemplate) == nil {
		return nil, fmt.Errorf("render: layouts define no %q template", layoutTemplate)
	}
	files, err := pageFiles(opts.FS)
	if err != nil {
		return nil, err
	}
	rd := &Renderer{
		pages:     make(map[string]*template.Template, len(files)),
		logger:    logger,
		errorPage: opts.ErrorPage,
		errorData: opts.ErrorData,
		buffers:   sync.Pool{New: func() any { return new(bytes.Buffer) }},
		cache:     newPageCache(maxCacheBytes),
	}
	for _, file := range files {
		set, err := common.Clone()
		if err != nil {
			return nil, fmt.Errorf("render: cloning layouts for %s: %w", file, err)
		}
		if set, err = set.ParseFS(opts.FS, file); err != nil {
			return nil, fmt.Errorf("render: parsing %s: %w", file, err)
		}
		for _, block := range []string{"title", contentTemplate} {
			if set.Lookup(block) == nil {
				return nil, fmt.Errorf("render: %s defines no %q template", file, block)
			}
		}
		rd.pages[strings.TrimSuffix(strings.TrimPrefix(file, "pages/"), ".html")] = set
	}
	if _, ok := rd.pages[opts.ErrorPage]; !ok {
		return nil, fmt.Errorf("render: error page %q not found under pages/", opts.ErrorPage)
	}
	return rd, nil
}

// pageFiles lists pages/**/*.html in a stable order.
func pageFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && path.Ext(p) == ".html" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("render: listing pages: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("render: no pages under pages/")
	}
	sort.Strings(files)
	return files, nil
}

// Pages lists the names of the parsed pages, sorted.
func (rd *Renderer) Pages() []string {
	names := make([]string, 0, len(rd.pages))
	for name := range rd.pages {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Page writes page with status: the whole document, or only its "content" block when the request
// wants a fragment (see [WantsFragment]).
func (rd *Renderer) Page(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	name := layoutTemplate
	if WantsFragment(r) {
		name = contentTemplate
	}
	rd.execute(w, r, status, page, name, data)
}

// Fragment writes only the named template of page (a table body, a form) whatever the request.
func (rd *Renderer) Fragment(w http.ResponseWriter, r *http.Request, status int, page, fragment string, data any) {
	rd.execute(w, r, status, page, fragment, data)
}

// Error writes the error page for status.
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, status int) {
	rd.Page(w, r, status, rd.errorPage, rd.errorData(r, status))
}

// Redirect sends the client to target, a local path (as the url helper builds): htmx requests get
// HX-Redirect with 200 (htmx ignores the header on 3xx), others a 303 See Other. A target that is
// not a local path is refused with a 500, so a redirect can never leave the site.
func (rd *Renderer) Redirect(w http.ResponseWriter, r *http.Request, target string) {
	if !isLocalPath(target) {
		rd.logger.Error("refusing a redirect target that is not a local path")
		rd.fail(w, r)
		return
	}
	addVary(w.Header())
	if IsHTMX(r) {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// isLocalPath reports whether target is a path on this site: "/x" but not "//host" or "/\host",
// which browsers read as another host.
func isLocalPath(target string) bool {
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, "/\\") {
		return false
	}
	// Browsers drop tabs and newlines before parsing a URL, so any ASCII control character is refused
	// ("/\t/host" would become "//host"), and so is a backslash anywhere.
	return strings.IndexFunc(target, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) < 0
}

// IsHTMX reports whether htmx sent the request.
func IsHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true"
}

// WantsFragment reports whether the request should get a fragment rather than a document: htmx
// requests, except boosted navigations and history restores, which replace the whole page.
func WantsFragment(r *http.Request) bool {
	return IsHTMX(r) && r.Header.Get("HX-Boosted") != "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// addVary adds HX-Request to Vary once.
func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "HX-Request") {
				return
			}
		}
	}
	h.Add("Vary", varyHTMX)
}

// varyHTMX is the Vary value of every rendered response: htmx requests get fragments.
const varyHTMX = "HX-Request"

// execute runs one template of page into a pooled buffer and writes it, or a 500 page on error.
func (rd *Renderer) execute(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	set, ok := rd.pages[page]
	if !ok {
		rd.logger.Error("unknown page", zap.String("page", page))
		rd.fail(w, r)
		return
	}
	buf := rd.buffer()
	defer rd.release(buf)
	if err := set.ExecuteTemplate(buf, name, data); err != nil {
		rd.logger.Error("rendering page", zap.String("page", page), zap.String("template", name), zap.Error(err))
		rd.fail(w, r)
		return
	}
	write(w, r, status, buf)
}

// fail answers 500 with the error page; should that fail too, with plain text.
func (rd *Renderer) fail(w http.ResponseWriter, r *http.Request) {
	const status = http.StatusInternalServerError
	buf := rd.buffer()
	defer rd.release(buf)
	name := layoutTemplate
	if WantsFragment(r) {
		name = contentTemplate
	}
	if err := rd.pages[rd.errorPage].ExecuteTemplate(buf, name, rd.errorData(r, status)); err != nil {
		rd.logger.Error("rendering error page", zap.Error(err))
		http.Error(w, http.StatusText(status), status)
		return
	}
	write(w, r, status, buf)
}

// write sends buf as an HTML response.
func write(w http.ResponseWriter, r *http.Request, status int, buf *bytes.Buffer) {
	writeBytes(w, r, status, buf.Bytes(), strconv.Itoa(buf.Len()))
}

func (rd *Renderer) buffer() *bytes.Buffer {
	buf := rd.buffers.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

func (rd *Renderer) release(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		rd.buffers.Put(buf)
	}
}
