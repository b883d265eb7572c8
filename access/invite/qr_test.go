package invite

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"strings"
	"testing"
)

func TestQRPNGMatchesModules(t *testing.T) {
	const link = "https://join.example.com/invite/abcdefghijklmnopqrstuvwxyz"
	q, err := EncodeQR(link)
	if err != nil {
		t.Fatal(err)
	}
	if q.Size < 21 || (q.Size-21)%4 != 0 {
		t.Fatalf("size %d is not a QR version size", q.Size)
	}
	// Finder pattern: the top-left 7×7 square has a dark border and a dark 3×3 centre.
	for i := 0; i < 7; i++ {
		if !q.Dark(i, 0) || !q.Dark(0, i) || !q.Dark(i, 6) || !q.Dark(6, i) {
			t.Fatalf("finder pattern border missing at %d", i)
		}
	}
	if q.Dark(1, 1) || !q.Dark(3, 3) {
		t.Fatal("finder pattern interior wrong")
	}
	const scale = 4
	data, err := q.PNG(scale)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	side := (q.Size + 2*quietZone) * scale
	if b := img.Bounds(); b.Dx() != side || b.Dy() != side {
		t.Fatalf("PNG is %v, want %d×%d", b, side, side)
	}
	for y := -quietZone; y < q.Size+quietZone; y++ {
		for x := -quietZone; x < q.Size+quietZone; x++ {
			r, _, _, _ := img.At((x+quietZone)*scale+1, (y+quietZone)*scale+2).RGBA()
			if dark := r < 0x8000; dark != q.Dark(x, y) {
				t.Fatalf("pixel of module (%d,%d) dark=%t, module dark=%t", x, y, dark, q.Dark(x, y))
			}
		}
	}
}

func TestQRSVGMatchesModules(t *testing.T) {
	q, err := EncodeQR("https://join.example.com/abc")
	if err != nil {
		t.Fatal(err)
	}
	svg := q.SVG()
	var doc struct {
		XMLName xml.Name `xml:"svg"`
		ViewBox string   `xml:"viewBox,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, svg)
	}
	// Rebuild the module grid from the path's runs and compare.
	got := make(map[[2]int]bool)
	for _, cmd := range strings.Split(doc.Path.D, "z") {
		if cmd == "" {
			continue
		}
		var x, y, run, back int
		if _, err := fmt.Sscanf(cmd, "M%d %dh%dv1h-%d", &x, &y, &run, &back); err != nil || run != back || run < 1 {
			t.Fatalf("bad path command %q: %v", cmd, err)
		}
		for i := 0; i < run; i++ {
			got[[2]int{x + i - quietZone, y - quietZone}] = true
		}
	}
	for y := 0; y < q.Size; y++ {
		for x := 0; x < q.Size; x++ {
			if got[[2]int{x, y}] != q.Dark(x, y) {
				t.Fatalf("SVG module (%d,%d) = %t, want %t", x, y, got[[2]int{x, y}], q.Dark(x, y))
			}
		}
	}
	if len(got) == 0 || strings.Contains(string(svg), "<script") {
		t.Fatal("SVG empty or scripted")
	}
}

func TestQRTooLong(t *testing.T) {
	if _, err := EncodeQR(strings.Repeat("x", 5000)); err == nil {
		t.Fatal("a 5000-byte text encoded")
	}
}
