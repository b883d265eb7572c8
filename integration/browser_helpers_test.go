package integration

// The browser layer: a small kit over chromedp v0.23 (its generic action API, see the module's
// docs/MIGRATION.md) that drives Debian's chromium against the in-process Caddy. Every tab records
// console errors, uncaught exceptions, browser log errors and CSP violations; a journey calls
// assertClean to fail on them. Screenshots go to t.ArtifactDir() and, for the pages the lead looks
// at, also to integration/artifacts/browser (git-ignored).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const (
	// browserStepTimeout bounds one step (a navigation, a click and the page it loads, a wait).
	browserStepTimeout = 20 * time.Second
	// browserPhoneWidth and browserPhoneHeight are the narrow phone viewport of the layout checks.
	browserPhoneWidth, browserPhoneHeight = 360, 740
	// browserDesktopWidth and browserDesktopHeight are the default window.
	browserDesktopWidth, browserDesktopHeight = 1280, 900
	// browserKeptDir is where the main pages' screenshots are copied for people to look at
	// (relative to the package directory, the tests' working directory; git-ignored).
	browserKeptDir = "artifacts/browser"
	// browserCSPBinding is the page function our injected listener reports CSP violations to.
	browserCSPBinding = "__pmReportCSPViolation"
)

// browserExecPath finds Chromium. Without it the browser tests fail in CI (CI=true) and are skipped,
// loudly, elsewhere.
func browserExecPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "BROWSER TESTS NOT RUN: no chromium on PATH (Debian: apt-get install chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprintf(os.Stderr, "\n*** %s ***\n\n", msg)
	t.Skip(msg)
	return ""
}

// browserHarness is one headless Chromium with a fresh profile, for one test.
type browserHarness struct {
	ctx   context.Context // the browser's first tab; its children open more tabs
	owner *testing.T      // the test the browser lives for: tabs close when it ends
}

// newBrowserHarness starts Chromium; it stops when the test ends.
func newBrowserHarness(t *testing.T) *browserHarness {
	t.Helper()
	execPath := browserExecPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(browserDesktopWidth, browserDesktopHeight),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit, before TempDir removes the profile
	})
	// Start the browser with a context that has no timeout (a timeout on the first Run would end
	// the browser with it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", execPath, err)
	}
	return &browserHarness{ctx: ctx, owner: t}
}

// browserProblem is something a page must not do: a console error, an uncaught exception, a
// browser log error, a CSP violation.
type browserProblem struct {
	Kind, Text, URL string
	// Source is the part of the browser that logged it ("network", "security", …; empty for the
	// console API, exceptions and CSP reports).
	Source string
}

func (p browserProblem) String() string {
	if p.URL == "" {
		return p.Kind + ": " + p.Text
	}
	return p.Kind + ": " + p.Text + " (" + p.URL + ")"
}

// cspViolation is what the injected listener reports (SecurityPolicyViolationEvent fields).
type cspViolation struct {
	Directive string `json:"directive"`
	Blocked   string `json:"blocked"`
	Source    string `json:"source"`
	Line      int    `json:"line"`
	Page      string `json:"page"`
	Sample    string `json:"sample"`
}

// browserTab is one tab (with its own cookie jar when fresh) and what its pages did wrong.
type browserTab struct {
	name string
	ctx  context.Context

	mu       sync.Mutex
	problems []browserProblem
	markers  map[string]bool
	flushes  int
	visited  []string
}

// cspListener runs in every document before its own scripts and reports each CSP violation to Go.
const cspListener = `document.addEventListener("securitypolicyviolation", function (e) {
  window.` + browserCSPBinding + `({directive: e.violatedDirective || "", blocked: e.blockedURI || "",
    source: e.sourceFile || "", line: e.lineNumber || 0, page: String(document.location), sample: e.sample || ""});
});`

// flushPrefix marks the console messages the tab writes itself to know it has seen every earlier one.
const flushPrefix = "pm-browser-flush-"

// tab opens a tab, which lives as long as the harness (a subtest may open a tab the next one uses).
// fresh gives it a new browser context: no cookies, no storage, as another person on another
// computer.
func (h *browserHarness) tab(t *testing.T, name string, fresh bool) *browserTab {
	t.Helper()
	var opts []chromedp.ContextOption
	if fresh {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(h.ctx, opts...)
	h.owner.Cleanup(cancel)
	b := &browserTab{name: name, ctx: ctx, markers: map[string]bool{}}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("opening tab %s: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.recordConsole(m)
		}
	}()
	err := chromedp.Do(ctx,
		chromedp.ExposeFunc(browserCSPBinding, func(_ context.Context, v cspViolation) (bool, error) {
			b.add(browserProblem{Kind: "CSP violation", URL: v.Page,
				Text: fmt.Sprintf("%s blocked %q (source %s:%d, sample %q)", v.Directive, v.Blocked, v.Source, v.Line, v.Sample)})
			return true, nil
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener})
			return err
		}),
	)
	if err != nil {
		t.Fatalf("tab %s: installing the CSP listener: %v", name, err)
	}
	return b
}

// recordConsole keeps errors, exceptions and anything about the Content Security Policy.
func (b *browserTab) recordConsole(m chromedp.ConsoleMessage) {
	if strings.HasPrefix(m.Text, flushPrefix) {
		b.mu.Lock()
		b.markers[m.Text] = true
		b.mu.Unlock()
		return
	}
	switch {
	case m.Type == chromedp.ConsoleError || m.IsException():
		b.add(browserProblem{Kind: "console " + string(m.Type), Text: m.Text, URL: m.URL, Source: m.Source})
	case strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy"):
		b.add(browserProblem{Kind: "console " + string(m.Type) + " (CSP)", Text: m.Text, URL: m.URL, Source: m.Source})
	}
}

func (b *browserTab) add(p browserProblem) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, p)
}

// documentStatus is how Chromium logs a page (or a resource) answered with a 4xx or 5xx status.
const documentStatus = "Failed to load resource: the server responded with a status of "

// takeProblems waits until every console message written before the call has been seen, then
// returns and forgets the problems recorded so far. A page the journey opened on purpose that
// answers with an error status (a form sent back with a 400 and its mistakes marked, the 403 of a
// finished setup) is not a problem: the journey checks what such a page says. The same message
// about anything else (a stylesheet, a script, an image, a fragment htmx loads) is.
func (b *browserTab) takeProblems(t *testing.T) []browserProblem {
	t.Helper()
	b.mu.Lock()
	b.flushes++
	marker := fmt.Sprintf("%s%d", flushPrefix, b.flushes)
	b.mu.Unlock()
	b.do(t, "flushing the console", chromedp.Evaluate[chromedp.Void](`console.debug(`+jsString(marker)+`)`))
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		seen := b.markers[marker]
		b.mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tab %s: the console marker never arrived", b.name)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// CSP reports travel through the binding, a separate channel: give them a moment too.
	time.Sleep(50 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []browserProblem
	for _, p := range b.problems {
		if p.Source == "network" && strings.HasPrefix(p.Text, documentStatus) && slices.Contains(b.visited, p.URL) {
			t.Logf("tab %s: page %s answered %s (expected by the journey)", b.name, p.URL, strings.TrimPrefix(p.Text, documentStatus))
			continue
		}
		// The Plex fake's pages stand in for plex.tv's; what they load (Chromium asks them for a
		// /favicon.ico they do not have) is not ours to check. Their script errors still count.
		if p.Source == "network" && !strings.HasPrefix(p.URL, baseURL+"/") {
			t.Logf("tab %s: ignored, not this site: %s", b.name, p)
			continue
		}
		out = append(out, p)
	}
	b.problems = nil
	return out
}

// assertClean fails the test if any page of the tab logged an error, threw, or broke the CSP since
// the last check.
func (b *browserTab) assertClean(t *testing.T) {
	t.Helper()
	problems := b.takeProblems(t)
	for _, p := range problems {
		t.Errorf("tab %s: %s", b.name, p)
	}
	if len(problems) > 0 {
		b.mu.Lock()
		t.Logf("tab %s visited: %s", b.name, strings.Join(b.visited, ", "))
		b.mu.Unlock()
	}
}

// do runs steps with the step timeout; a failure saves the page and ends the test.
func (b *browserTab) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fatalf(t, "%s: %v", what, err)
	}
}

// browserRun runs one action that returns a value, with the step timeout.
func browserRun[T any](t *testing.T, b *browserTab, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fatalf(t, "%s: %v", what, err)
	}
	return v
}

// browserEval evaluates a JavaScript expression in the page (CDP evaluation is exempt from the CSP).
func browserEval[T any](t *testing.T, b *browserTab, expr string) T {
	t.Helper()
	return browserRun(t, b, "evaluating "+expr, chromedp.Evaluate[T](expr))
}

// fatalf saves a screenshot and the HTML of the page, then ends the test.
func (b *browserTab) fatalf(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	dir := t.ArtifactDir()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		msg += "\n\tpage: " + loc
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		name := filepath.Join(dir, "failure-"+b.name+".png")
		if os.WriteFile(name, png, 0o644) == nil {
			msg += "\n\tscreenshot: " + name
		}
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
		name := filepath.Join(dir, "failure-"+b.name+".html")
		if os.WriteFile(name, []byte(html), 0o644) == nil {
			msg += "\n\tHTML: " + name
		}
		if body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"))); err == nil {
			msg += "\n\ttext: " + truncate(strings.Join(strings.Fields(body), " "), 600)
		}
	}
	t.Fatal(msg)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "<", `\x3c`).Replace(s) + "'"
}

// open navigates to a path of the site (or an absolute URL) and waits for the page.
func (b *browserTab) open(t *testing.T, path string) {
	t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = baseURL + path
	}
	b.note(u)
	b.do(t, "opening "+u, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body")))
}

func (b *browserTab) note(u string) {
	b.mu.Lock()
	b.visited = append(b.visited, u)
	b.mu.Unlock()
}

// click clicks an element that does not load a page (a dialog button, a checkbox).
func (b *browserTab) click(t *testing.T, sel string) {
	t.Helper()
	b.do(t, "clicking "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// submit clicks a button or link that loads a page, and waits for the new page's load event.
func (b *browserTab) submit(t *testing.T, sel string) {
	t.Helper()
	_ = browserRun(t, b, "clicking "+sel+" and waiting for the next page",
		chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)))
	b.do(t, "waiting for the page after "+sel, chromedp.WaitReady(chromedp.CSS("body")))
	b.note(b.location(t))
}

// typeInto replaces a text field's content by typing, as a person would.
func (b *browserTab) typeInto(t *testing.T, sel, text string) {
	t.Helper()
	// Empty the field first. chromedp v0.23's Clear fails on an empty textarea, and its SetValue
	// with "" sets the text "undefined" (the empty argument is left out of the call).
	b.do(t, "typing into "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(sel)+`).value = ""`),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// setValue sets a field that has no keyboard-friendly text entry (a select, a datetime-local).
func (b *browserTab) setValue(t *testing.T, sel, value string) {
	t.Helper()
	// SetValue fires the input and change events a person's choice fires.
	b.do(t, "setting "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

// setChecked clicks a checkbox or radio until it has the wanted state.
func (b *browserTab) setChecked(t *testing.T, sel string, want bool) {
	t.Helper()
	if b.checked(t, sel) != want {
		b.click(t, sel)
	}
	if b.checked(t, sel) != want {
		b.fatalf(t, "%s: clicking did not make it checked=%v", sel, want)
	}
}

func (b *browserTab) checked(t *testing.T, sel string) bool {
	t.Helper()
	return browserEval[bool](t, b, `!!document.querySelector(`+jsString(sel)+`).checked`)
}

// text is the rendered text of the first element matching sel, spaces collapsed.
func (b *browserTab) text(t *testing.T, sel string) string {
	t.Helper()
	s := browserRun(t, b, "reading "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady))
	return strings.Join(strings.Fields(s), " ")
}

// location is the address of the page.
func (b *browserTab) location(t *testing.T) string {
	t.Helper()
	return browserRun(t, b, "reading the location", chromedp.Location())
}

// has reports whether an element matches sel now (no waiting).
func (b *browserTab) has(t *testing.T, sel string) bool {
	t.Helper()
	return browserEval[bool](t, b, `document.querySelector(`+jsString(sel)+`) !== null`)
}

// waitText waits until the text of the first element matching sel contains want (pages that
// refresh themselves: the invite's waiting page, the streams list).
func (b *browserTab) waitText(t *testing.T, sel, want string, within time.Duration) {
	t.Helper()
	expr := `(function(){var e=document.querySelector(` + jsString(sel) + `);return e?e.innerText:"";})()`
	deadline := time.Now().Add(within)
	var last string
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		cancel()
		// A navigation in progress destroys the context the expression ran in: try again.
		if err == nil {
			last = got
			if strings.Contains(got, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			b.fatalf(t, "waiting %s for %q in %s: last text %q (err %v)", within, want, sel, truncate(last, 300), err)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// expectText fails unless the element's text contains every want.
func (b *browserTab) expectText(t *testing.T, sel string, wants ...string) {
	t.Helper()
	got := b.text(t, sel)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			b.fatalf(t, "%s says %q, want it to contain %q", sel, truncate(got, 500), w)
		}
	}
}

// viewport emulates a window size; phone also turns on mobile emulation (meta viewport honoured).
func (b *browserTab) viewport(t *testing.T, width, height int64, phone bool) {
	t.Helper()
	var opts []chromedp.EmulateViewportOption
	if phone {
		opts = append(opts, chromedp.EmulateMobile)
	}
	b.do(t, fmt.Sprintf("viewport %dx%d", width, height), chromedp.EmulateViewport(width, height, opts...))
}

// colorScheme emulates the system preference prefers-color-scheme ("light" or "dark").
func (b *browserTab) colorScheme(t *testing.T, scheme string) {
	t.Helper()
	b.do(t, "emulating prefers-color-scheme: "+scheme, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

var shotName = regexp.MustCompile(`[^a-z0-9._-]+`)

// shot saves a full-page screenshot as name.png in the test's artifact directory and, when keep
// is set, in integration/artifacts/browser for people to look at.
func (b *browserTab) shot(t *testing.T, name string, keep bool) {
	t.Helper()
	name = shotName.ReplaceAllString(strings.ToLower(name), "-") + ".png"
	png := browserRun(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name), png, 0o644); err != nil {
		t.Fatalf("saving %s: %v", name, err)
	}
	if keep {
		if err := os.MkdirAll(browserKeptDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(browserKeptDir, name), png, 0o644); err != nil {
			t.Fatalf("saving %s: %v", name, err)
		}
	}
}

// resetKeptScreenshots empties integration/artifacts/browser so that it shows one run only.
func resetKeptScreenshots(t *testing.T) {
	t.Helper()
	if err := os.RemoveAll(browserKeptDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}
