// Package render turns the embedded html/template files into HTTP responses.
//
// Every page is its own cached template set: the layouts and partials are parsed once, then cloned
// and combined with exactly one page file, so pages may all define the same block names ("title",
// "content") without colliding. Template functions (see [Funcs]) are installed before parsing.
//
// A page is executed into a pooled buffer and only then written, so an execution error never
// leaves half a page on the wire: the client gets a clean 500 error page instead.
//
// htmx support: a request carrying "HX-Request: true" (and not a boosted navigation or a history
// restore, which want whole documents) gets only the page's "content" template, or the fragment a
// handler names with [Renderer.Fragment]. Every rendered response carries "Vary: HX-Request".
// [Renderer.Redirect] answers htmx requests with HX-Redirect and a 200, since htmx ignores that
// header on 3xx responses.
package render
