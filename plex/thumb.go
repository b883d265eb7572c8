package plex

import (
	"context"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// Image is artwork fetched from a server.
type Image struct {
	// Data is the image body.
	Data []byte
	// ContentType is its media type ("image/jpeg").
	ContentType string
}

// artworkKinds lists, per parent collection, the artwork names Thumb
// accepts.
func artworkKinds(parent string) []string {
	switch parent {
	case "metadata":
		return []string{"thumb", "art", "banner", "clearLogo", "parentThumb", "grandparentThumb", "grandparentArt"}
	case "collections":
		return []string{"thumb", "art", "composite"}
	case "sections":
		return []string{"composite", "thumb", "art"}
	}
	return nil
}

// maxImageBytes caps an artwork body.
const maxImageBytes = 20 << 20

// ValidArtworkPath reports whether path is an artwork path Thumb accepts.
// The accepted forms are /library/metadata/{id}/{thumb|art|banner|clearLogo|…}
// and /library/collections/{id}/… or /library/sections/{id}/… with their
// artwork names, each optionally followed by /{version}: digits only, no
// query, no dot segments, no other route.
func ValidArtworkPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/library/")
	if !ok {
		return false
	}
	seg := strings.Split(rest, "/")
	if len(seg) != 3 && len(seg) != 4 {
		return false
	}
	if !allDigits(seg[1], 12) || !slices.Contains(artworkKinds(seg[0]), seg[2]) {
		return false
	}
	return len(seg) == 3 || allDigits(seg[3], 20)
}

// allDigits reports whether s is 1 to max ASCII digits.
func allDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Thumb fetches artwork (GET {pms}{path}) for a proxy that hides the token
// from browsers. path must be an artwork path such as
// /library/metadata/1264/thumb/1464060240; anything else is refused with
// ErrInvalidArgument before any call, so the proxy cannot be used to reach
// other routes with the server token. The answer must be an image.
func (s *Server) Thumb(ctx context.Context, path string) (Image, error) {
	const route = "/library/{artwork}"
	r, err := s.call(http.MethodGet, route, path, true)
	if err != nil {
		return Image{}, err
	}
	if !ValidArtworkPath(path) {
		return Image{}, invalidArg(r.endpoint(), "not an artwork path")
	}
	r.accept = acceptImage
	r.maxBody = maxImageBytes
	resp, err := s.get(ctx, r)
	if err != nil {
		return Image{}, err
	}
	ct := resp.header.Get("Content-Type")
	mt, _, perr := mime.ParseMediaType(ct)
	if perr != nil || !strings.HasPrefix(mt, "image/") {
		return Image{}, &Error{Kind: ErrBadResponse, Status: resp.status, Endpoint: r.endpoint(), Message: "the server did not answer with an image"}
	}
	return Image{Data: resp.body, ContentType: mt}, nil
}
