package invite

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"

	"github.com/boombuler/barcode/qr"
)

// QR code rendering of invite links. The encoder is github.com/boombuler/barcode/qr (medium error
// correction, automatic mode and mask selection); this file only draws its modules, with the
// four-module quiet zone the standard asks for.

// quietZone is the blank margin around a QR code, in modules.
const quietZone = 4

// QR is the module grid of an encoded QR code.
type QR struct {
	// Size is the number of modules per side, without the quiet zone.
	Size int
	// dark holds Size×Size modules, row by row.
	dark []bool
}

// EncodeQR encodes text (an invite URL) as a QR code.
func EncodeQR(text string) (QR, error) {
	bc, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return QR{}, fmt.Errorf("encoding QR code: %w", err)
	}
	b := bc.Bounds()
	q := QR{Size: b.Dx(), dark: make([]bool, b.Dx()*b.Dy())}
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g := color.GrayModel.Convert(bc.At(b.Min.X+x, b.Min.Y+y)).(color.Gray)
			q.dark[y*q.Size+x] = g.Y < 128
		}
	}
	return q, nil
}

// Dark reports whether module (x, y) is dark; outside the code it is light.
func (q QR) Dark(x, y int) bool {
	return x >= 0 && y >= 0 && x < q.Size && y < q.Size && q.dark[y*q.Size+x]
}

// PNG draws the code as a grayscale PNG with scale pixels per module (at least 1).
func (q QR) PNG(scale int) ([]byte, error) {
	scale = max(scale, 1)
	side := (q.Size + 2*quietZone) * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := 0; y < q.Size; y++ {
		for x := 0; x < q.Size; x++ {
			if !q.Dark(x, y) {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				row := ((y+quietZone)*scale + dy) * img.Stride
				for dx := 0; dx < scale; dx++ {
					img.Pix[row+(x+quietZone)*scale+dx] = 0
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("writing QR PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// SVG draws the code as a standalone SVG document: one path of horizontal runs of dark modules
// on a white square, in module units (the viewer scales it).
func (q QR) SVG() []byte {
	side := strconv.Itoa(q.Size + 2*quietZone)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + side + ` ` + side +
		`" width="` + side + `0" height="` + side + `0" shape-rendering="crispEdges">`)
	b.WriteString(`<rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="`)
	for y := 0; y < q.Size; y++ {
		for x := 0; x < q.Size; {
			if !q.Dark(x, y) {
				x++
				continue
			}
			run := 1
			for q.Dark(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+quietZone, y+quietZone, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>` + "\n")
	return b.Bytes()
}
