package notify

import (
	"testing"
	"time"
)

// TestStatusTokenHasOneSpelling: changing only the unused low bits of the last base64 character must
// not give a second valid spelling of a token.
func TestStatusTokenHasOneSpelling(t *testing.T) {
	n, _, _ := newTestNotifier(t)
	for i := 0; i < 64; i++ {
		tok, err := n.StatusToken(int64(500+i), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		last := tok[len(tok)-1]
		idx := -1
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for j := range alphabet {
			if alphabet[j] == last {
				idx = j
			}
		}
		for flip := 1; flip < 4; flip++ {
			alt := tok[:len(tok)-1] + string(alphabet[idx^flip])
			if _, err := n.VerifyStatusToken(alt); err == nil {
				t.Fatalf("token %q also verifies as %q", tok, alt)
			}
		}
	}
}
