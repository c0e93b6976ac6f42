// The sandbox's cluster DNS: CoreDNS's own server (coremain) with only the plugins the sandbox's
// Corefile names (sandbox/src/main/resources/dev/schemagate/sandbox/cluster/coredns.yaml), in
// CoreDNS's execution order. The full CoreDNS links every plugin, the cloud providers' SDKs among
// them, which takes most of its build.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	if err := dnsserver.SetDirectives([]string{
		"ready", "health", "errors", "loadbalance", "cache", "kubernetes", "loop",
	}); err != nil {
		panic(err)
	}
}

func main() {
	coremain.Run()
}
