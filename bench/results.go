package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// table is a Markdown table.
type table struct {
	header []string
	rows   [][]string
}

// add appends a row; cells are formatted with fmt.Sprint.
func (t *table) add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = fmt.Sprint(c)
	}
	t.rows = append(t.rows, row)
}

// markdown renders the table.
func (t table) markdown() string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
	return b.String()
}

// result is what one benchmark measured.
type result struct {
	tables []table
	// notes are sentences printed under the tables: how to read them, and findings.
	notes []string
}

// section is one benchmark's block in RESULTS.md.
type section struct {
	name, title, what string
	command           string
	env               environment
	result            result
}

// environment describes where a run happened.
type environment struct {
	date      time.Time
	goVersion string
	goos      string
	goarch    string
	cpus      int
	maxProcs  int
	cpuModel  string
	revision  string
	// loadAvg is the 1-minute load average when the section's benchmark started ("" if unknown).
	loadAvg string
}

// currentEnvironment reads the Go version, CPU count and model, and takes the time and the
// checkout's revision (read once at the start of a run: what `go run` compiled).
func currentEnvironment(now time.Time, revision string) environment {
	return environment{
		date:      now.UTC(),
		goVersion: runtime.Version(),
		goos:      runtime.GOOS,
		goarch:    runtime.GOARCH,
		cpus:      runtime.NumCPU(),
		maxProcs:  runtime.GOMAXPROCS(0),
		cpuModel:  cpuModel(),
		revision:  revision,
		loadAvg:   loadAverage(),
	}
}

// loadAverage is the 1-minute load average from /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// gitRevision is the checkout's commit, with "+ uncommitted changes" when the working tree differs
// from it (other work in progress is then part of what was measured), or "unknown revision".
func gitRevision() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown revision"
	}
	rev := "commit " + strings.TrimSpace(string(out))
	status, err := exec.Command("git", "status", "--porcelain").Output()
	if err != nil {
		return rev
	}
	for _, line := range strings.Split(string(status), "\n") {
		// Untracked files count: Go compiles every file of a package. The results file does not.
		if line = strings.TrimSpace(line); line != "" && !strings.HasSuffix(line, "bench/RESULTS.md") {
			return rev + " + uncommitted changes"
		}
	}
	return rev
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func (e environment) String() string {
	s := fmt.Sprintf("%s · %s · %s %s/%s · %d CPUs (GOMAXPROCS %d, %s)", e.date.Format("2006-01-02 15:04 MST"),
		e.revision, e.goVersion, e.goos, e.goarch, e.cpus, e.maxProcs, e.cpuModel)
	if e.loadAvg != "" {
		s += " · load average " + e.loadAvg + " at the start"
	}
	return s
}

// markdown renders the section between its markers.
func (s section) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## %s\n\n%s\n\n", beginMarker(s.name), s.title, s.what)
	fmt.Fprintf(&b, "Command: `%s`  \nRun: %s\n\n", s.command, s.env)
	for _, t := range s.result.tables {
		b.WriteString(t.markdown())
		b.WriteString("\n")
	}
	for _, n := range s.result.notes {
		b.WriteString("- " + n + "\n")
	}
	if len(s.result.notes) > 0 {
		b.WriteString("\n")
	}
	b.WriteString(endMarker(s.name) + "\n")
	return b.String()
}

func beginMarker(name string) string { return "<!-- bench:" + name + " -->" }
func endMarker(name string) string   { return "<!-- /bench:" + name + " -->" }

// resultsHeader opens RESULTS.md.
const resultsHeader = `# Benchmark results

Written by ` + "`go run ./bench -out bench/RESULTS.md`" + ` (how to run and read it: [README.md](README.md)).
Each section below is rewritten only when its benchmark runs, and names the command, date and
machine of that run. The machine is shared and noisy: compare figures within one section (the
ratios are measured in the same run), not across sections or runs.
`

// parseSections returns the blocks of an existing RESULTS.md by benchmark name, in file order.
// Text outside the markers is dropped (the header is rewritten).
func parseSections(text string) (names []string, blocks map[string]string) {
	blocks = map[string]string{}
	rest := text
	for {
		i := strings.Index(rest, "<!-- bench:")
		if i < 0 {
			return names, blocks
		}
		rest = rest[i:]
		nameEnd := strings.Index(rest, " -->")
		if nameEnd < 0 {
			return names, blocks
		}
		name := strings.TrimPrefix(rest[:nameEnd], "<!-- bench:")
		end := strings.Index(rest, endMarker(name))
		if end < 0 {
			return names, blocks
		}
		block := rest[:end+len(endMarker(name))] + "\n"
		if _, dup := blocks[name]; !dup {
			names = append(names, name)
		}
		blocks[name] = block
		rest = rest[end+len(endMarker(name)):]
	}
}

// mergeResults rebuilds RESULTS.md from the old text and the new sections: benchmarks appear in
// registry order, a new section replaces the old block of the same name, old blocks of benchmarks
// that did not run are kept, and blocks of benchmarks no longer known are kept at the end.
func mergeResults(old string, order []string, fresh []section) string {
	oldNames, oldBlocks := parseSections(old)
	newBlocks := map[string]string{}
	for _, s := range fresh {
		newBlocks[s.name] = s.markdown()
	}
	var b strings.Builder
	b.WriteString(resultsHeader)
	known := map[string]bool{}
	for _, name := range order {
		known[name] = true
		if blk, ok := newBlocks[name]; ok {
			b.WriteString("\n" + blk)
		} else if blk, ok := oldBlocks[name]; ok {
			b.WriteString("\n" + blk)
		}
	}
	for _, name := range oldNames {
		if !known[name] {
			b.WriteString("\n" + oldBlocks[name])
		}
	}
	return b.String()
}
