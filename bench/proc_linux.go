package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill cmd when this program dies, so that no child Caddy outlives
// an interrupted run.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
