package metrics

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// gatherAndCompare gathers reg, keeps the named metric families and compares their text
// exposition with want, ignoring blank lines and the order of families (testutil's
// GatherAndCompare without its diff dependency).
func gatherAndCompare(reg prometheus.Gatherer, want io.Reader, names ...string) error {
	mfs, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("gathering: %w", err)
	}
	var got bytes.Buffer
	enc := expfmt.NewEncoder(&got, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if slices.Contains(names, mf.GetName()) {
			if err := enc.Encode(mf); err != nil {
				return fmt.Errorf("encoding %s: %w", mf.GetName(), err)
			}
		}
	}
	wantText, err := io.ReadAll(want)
	if err != nil {
		return err
	}
	norm := func(s string) string {
		var blocks []string
		var cur []string
		for _, line := range strings.Split(s, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if strings.HasPrefix(line, "# HELP ") && len(cur) > 0 {
				blocks = append(blocks, strings.Join(cur, "\n"))
				cur = nil
			}
			cur = append(cur, line)
		}
		if len(cur) > 0 {
			blocks = append(blocks, strings.Join(cur, "\n"))
		}
		slices.Sort(blocks)
		return strings.Join(blocks, "\n")
	}
	if g, w := norm(got.String()), norm(string(wantText)); g != w {
		return fmt.Errorf("metrics differ:\n--- got\n%s\n--- want\n%s", g, w)
	}
	return nil
}
