package plextest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// libraryItem is an item of a server's library: what
// GET /library/metadata/{ratingKey} describes. Items come into being when a
// session or a history entry names them and stay after the session ends,
// as a real library keeps its files.
type libraryItem struct {
	ratingKey        string
	itemType         string
	title            string
	grandparentTitle string
	libraryKey       string
	duration         int64
	versions         []itemVersion
}

// itemVersion is one version (Media element) of an item.
type itemVersion struct {
	id         int64 // Media@id; Part@id is id+1, the Stream ids id+2 and id+3
	resolution string
}

// sourceProfile describes the file of a version of a video item.
type sourceProfile struct {
	codec         string
	width, height int
	bitrate       int64 // kbit/s
	container     string
}

// videoSource returns the file profile of a video resolution.
func videoSource(res string) sourceProfile {
	w, h := resolutionSize(res)
	switch res {
	case "4k":
		return sourceProfile{codec: "hevc", width: w, height: h, bitrate: 40000, container: "mkv"}
	case "1080":
		return sourceProfile{codec: "h264", width: w, height: h, bitrate: 8000, container: "mkv"}
	case "720":
		return sourceProfile{codec: "h264", width: w, height: h, bitrate: 4000, container: "mkv"}
	}
	return sourceProfile{codec: "h264", width: w, height: h, bitrate: 2000, container: "mkv"}
}

// isVideo reports whether an item type has a video stream.
func isVideo(itemType string) bool { return itemType != "track" && itemType != "photo" }

// itemLocked returns a server's item by rating key, or nil.
func (s *serverState) itemLocked(ratingKey string) *libraryItem {
	return s.items[ratingKey]
}

// registerItemLocked makes sure the item exists with a version of each
// resolution given (in that order) and returns it. The item's type, titles
// and library are those of its first registration.
func (f *Fake) registerItemLocked(s *serverState, proto libraryItem, resolutions ...string) *libraryItem {
	it := s.items[proto.ratingKey]
	if it == nil {
		c := proto
		c.versions = nil
		it = &c
		s.items[it.ratingKey] = it
	}
	if !isVideo(it.itemType) {
		resolutions = []string{""}
	}
	for _, res := range resolutions {
		if res == "" && isVideo(it.itemType) {
			continue
		}
		if !slices.ContainsFunc(it.versions, func(v itemVersion) bool { return v.resolution == res }) {
			it.versions = append(it.versions, itemVersion{id: f.nextMedia, resolution: res})
			f.nextMedia += 10
		}
	}
	return it
}

// version returns the item's version of a resolution (the first one).
func (it *libraryItem) version(res string) itemVersion {
	if !isVideo(it.itemType) {
		res = ""
	}
	for _, v := range it.versions {
		if v.resolution == res {
			return v
		}
	}
	if len(it.versions) > 0 {
		return it.versions[0]
	}
	return itemVersion{}
}

// firstResolution is the resolution of the item's first version.
func (it *libraryItem) firstResolution() string {
	if it == nil || len(it.versions) == 0 {
		return ""
	}
	return it.versions[0].resolution
}

// defaultDuration is the length of an item whose length nobody gave.
func defaultDuration(itemType string) int64 {
	switch itemType {
	case "track":
		return 240000
	case "episode":
		return 2556288
	}
	return 5400000
}

// mediaNode renders one version of an item as the library describes
// it: the source file.
func mediaNode(it *libraryItem, v itemVersion) *node {
	switch it.itemType {
	case "track":
		media := el("Media", a("id", v.id), a("duration", it.duration), a("bitrate", 320), a("audioChannels", 2),
			a("audioCodec", "mp3"), a("container", "mp3"))
		part := el("Part", a("id", v.id+1), a("key", fmt.Sprintf("/library/parts/%d/1700000000/file.mp3", v.id+1)),
			a("duration", it.duration), a("file", "/data/music/"+fileName(it)+".mp3"), a("size", 9600000), a("container", "mp3"))
		part.add(el("Stream", a("id", v.id+2), a("streamType", 2), a("selected", true), a("codec", "mp3"),
			a("channels", 2), a("bitrate", 320), a("displayTitle", "MP3 (Stereo)")))
		return media.add(part)
	case "photo":
		media := el("Media", a("id", v.id), a("width", 4032), a("height", 3024), a("aspectRatio", 1.33), a("container", "jpeg"))
		part := el("Part", a("id", v.id+1), a("key", fmt.Sprintf("/library/parts/%d/1700000000/file.jpg", v.id+1)),
			a("file", "/data/photos/"+fileName(it)+".jpg"), a("size", 3400000), a("container", "jpeg"))
		return media.add(part)
	}
	p := videoSource(v.resolution)
	size := p.bitrate * 1000 / 8 * it.duration / 1000
	media := el("Media", a("id", v.id), a("duration", it.duration), a("bitrate", p.bitrate), a("width", p.width),
		a("height", p.height), a("aspectRatio", 1.78), a("audioChannels", 2), a("audioCodec", "aac"),
		a("videoCodec", p.codec), a("videoResolution", v.resolution), a("container", p.container),
		a("videoFrameRate", "24p"), a("videoProfile", map[bool]string{true: "main 10", false: "high"}[p.codec == "hevc"]))
	part := el("Part", a("id", v.id+1), a("key", fmt.Sprintf("/library/parts/%d/1700000000/file.%s", v.id+1, p.container)),
		a("duration", it.duration), a("file", "/data/"+libraryFolder(it.itemType)+"/"+fileName(it)+" ("+v.resolution+")."+p.container),
		a("size", size), a("container", p.container))
	part.add(
		el("Stream", a("id", v.id+2), a("streamType", 1), a("default", true), a("codec", p.codec),
			a("bitrate", p.bitrate-192), a("width", p.width), a("height", p.height),
			a("displayTitle", displayResolution(v.resolution)+" ("+strings.ToUpper(p.codec)+")")),
		el("Stream", a("id", v.id+3), a("streamType", 2), a("default", true), a("selected", true), a("codec", "aac"),
			a("channels", 2), a("bitrate", 192), a("language", "English"), a("displayTitle", "English (AAC Stereo)")),
	)
	return media.add(part)
}

// displayResolution names a resolution as Plex's stream titles do.
func displayResolution(res string) string {
	switch res {
	case "4k":
		return "4K"
	case "sd":
		return "SD"
	}
	return res + "p"
}

func libraryFolder(itemType string) string {
	if itemType == "episode" {
		return "tv"
	}
	return "movies"
}

// fileName is the item's file name without extension.
func fileName(it *libraryItem) string {
	if it.grandparentTitle != "" {
		return it.grandparentTitle + " - " + it.title
	}
	return it.title
}

// itemNodeLocked renders an item with every version.
func (f *Fake) itemNodeLocked(s *serverState, it *libraryItem) *node {
	libTitle := ""
	for _, l := range s.Libraries {
		if l.Key == it.libraryKey {
			libTitle = l.Title
		}
	}
	n := el(itemElement(it.itemType), a("ratingKey", it.ratingKey), a("key", "/library/metadata/"+it.ratingKey),
		a("guid", "plex://"+it.itemType+"/"+strings.ReplaceAll(uuidFrom("item-"+it.title), "-", "")[:24]),
		a("type", it.itemType), a("title", it.title))
	if it.grandparentTitle != "" {
		n.attrs = append(n.attrs, a("grandparentTitle", it.grandparentTitle), a("parentIndex", 1), a("index", 1))
	}
	n.attrs = append(n.attrs, a("librarySectionID", numberOrString(it.libraryKey)), a("librarySectionTitle", libTitle),
		a("librarySectionKey", "/library/sections/"+it.libraryKey),
		a("thumb", fmt.Sprintf("/library/metadata/%s/thumb/1700000000", it.ratingKey)),
		a("duration", it.duration), a("year", 2016), a("addedAt", 1700000000), a("updatedAt", 1700000000))
	n.jsonKey = "Metadata"
	for _, v := range it.versions {
		n.add(mediaNode(it, v))
	}
	return n
}

// handleMetadata serves GET /library/metadata/{ratingKey}: the item with
// each version's source media. Admin tokens see every item; a user's token
// sees only items of the libraries shared with them and gets 404 for the
// others (UNCONFIRMED: what the real server answers there).
func (f *Fake) handleMetadata(w http.ResponseWriter, r *http.Request) {
	s, c, ok := f.pmsBegin(w, r, false)
	if !ok {
		return
	}
	it := s.itemLocked(r.PathValue("ratingKey"))
	if it != nil && !c.admin && !f.userSeesLibraryLocked(s, c.accountID, it.libraryKey) {
		it = nil
	}
	if it == nil {
		f.mu.Unlock()
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	libTitle := ""
	for _, l := range s.Libraries {
		if l.Key == it.libraryKey {
			libTitle = l.Title
		}
	}
	root := el("MediaContainer", a("size", 1), a("allowSync", true), a("identifier", "com.plexapp.plugins.library"),
		a("librarySectionID", numberOrString(it.libraryKey)), a("librarySectionTitle", libTitle),
		a("librarySectionUUID", uuidFrom("section-"+s.MachineID+"-"+it.libraryKey)),
		a("mediaTagPrefix", "/system/bundle/media/flags/"), a("mediaTagVersion", 1700000000))
	root.add(f.itemNodeLocked(s, it))
	f.mu.Unlock()
	writePMS(w, r, http.StatusOK, root)
}

// numberOrString renders a numeric id as a JSON number, as PMS writes
// librarySectionID in metadata.
func numberOrString(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

// userSeesLibraryLocked reports whether an accepted share gives a server
// account a library.
func (f *Fake) userSeesLibraryLocked(s *serverState, accountID int64, libraryKey string) bool {
	for _, sh := range f.shares {
		if sh.MachineID != s.MachineID || sh.UserID != accountID || sh.Pending {
			continue
		}
		for _, l := range f.sharedLibrariesLocked(sh) {
			if l.Key == libraryKey {
				return true
			}
		}
	}
	return false
}
