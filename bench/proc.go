package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// reservedPorts are never used: the integration tests' fixed caddytest ports and Caddy's default
// admin port.
var reservedPorts = []int{2999, 9080, 9443, 2019}

// freePorts returns n distinct ports nothing listens on, on any address, skipping reservedPorts. They
// are taken below Linux's ephemeral range (32768–60999): a port the kernel hands out for ":0" can be
// taken again by an outgoing connection before a child Caddy binds it.
func freePorts(n int) ([]int, error) {
	var (
		ports     []int
		listeners []net.Listener
	)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 200 {
			return nil, errors.New("no free port between 20000 and 32000 after 200 tries")
		}
		p := 20000 + rand.N(12000)
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
		if err != nil {
			continue // taken
		}
		listeners = append(listeners, l) // held until all are chosen, so they differ
		if !slices.Contains(reservedPorts, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// runBounded runs cmd to completion, killing it when ctx ends or after limit.
func runBounded(ctx context.Context, cmd *exec.Cmd, limit time.Duration) error {
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return ctx.Err()
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("killed after %s", limit)
	}
}

// procMemory is the memory of a process from /proc/<pid>/status (bytes).
type procMemory struct {
	rss, hwm uint64
}

// readProcMemory reads VmRSS and VmHWM of pid.
func readProcMemory(pid int) (procMemory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procMemory{}, fmt.Errorf("reading process memory: %w", err)
	}
	defer f.Close()
	return parseProcStatus(bufio.NewScanner(f))
}

// parseProcStatus reads the VmRSS and VmHWM lines ("VmRSS:   123456 kB").
func parseProcStatus(sc *bufio.Scanner) (procMemory, error) {
	var m procMemory
	found := 0
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			return m, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("%s: %w", key, err)
		}
		if key == "VmRSS" {
			m.rss = kb << 10
		} else {
			m.hwm = kb << 10
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if found != 2 {
		return m, errors.New("no VmRSS/VmHWM in the process status")
	}
	return m, nil
}
