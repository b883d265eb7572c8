package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// mailMsg is one message the fake SMTP server accepted.
type mailMsg struct {
	From, To string
	Data     string
	Auth     string // "user:pass" from AUTH PLAIN
	TLS      bool
}

// smtpFake is a small SMTP server for tests: EHLO, STARTTLS (with a self-signed certificate),
// AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
type smtpFake struct {
	ln       net.Listener
	tlsConf  *tls.Config
	certPool *x509.CertPool
	mu       sync.Mutex
	msgs     []mailMsg
	// rejectRcpt makes RCPT answer 550.
	rejectRcpt bool
}

func newSMTPFake(t *testing.T) *smtpFake {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &smtpFake{ln: ln, certPool: pool,
		tlsConf: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}}
	go f.serve()
	t.Cleanup(func() { ln.Close() })
	return f
}

func (f *smtpFake) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *smtpFake) messages() []mailMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]mailMsg(nil), f.msgs...)
}

func (f *smtpFake) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.handle(c)
	}
}

func (f *smtpFake) handle(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	var msg mailMsg
	_ = tp.PrintfLine("220 fake ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		arg := ""
		if i := strings.IndexByte(line, ' '); i >= 0 {
			arg = line[i+1:]
		}
		switch cmd {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-fake")
			if !msg.TLS {
				_ = tp.PrintfLine("250-STARTTLS")
			}
			_ = tp.PrintfLine("250 AUTH PLAIN")
		case "STARTTLS":
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, f.tlsConf)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(tc)
			msg.TLS = true
		case "AUTH":
			parts := strings.Fields(arg)
			if len(parts) == 2 {
				raw, _ := base64.StdEncoding.DecodeString(parts[1])
				p := strings.Split(string(raw), "\x00")
				if len(p) == 3 {
					msg.Auth = p[1] + ":" + p[2]
				}
			}
			_ = tp.PrintfLine("235 ok")
		case "MAIL":
			msg.From = arg
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			if f.rejectRcpt {
				_ = tp.PrintfLine("550 no such user")
				continue
			}
			msg.To = arg
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			msg.Data = string(data)
			f.mu.Lock()
			f.msgs = append(f.msgs, msg)
			f.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("250 ok")
		}
	}
}
