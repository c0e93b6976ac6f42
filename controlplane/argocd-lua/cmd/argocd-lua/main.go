// Command argocd-lua evaluates Argo CD resource health checks with Argo CD's own Lua runtime
// (util/lua of the argo-cd module): given the argocd-cm ConfigMap (or a bare script) and objects
// as JSON, prints for each the health status and message Argo CD computes.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func main() {
	cm := flag.String("cm", "", "an argocd-cm ConfigMap (YAML) whose resource.customizations.health.* keys are the checks")
	script := flag.String("script", "", "a bare health script for every object's group/kind")
	flag.Parse()
	overrides := map[string]appv1.ResourceOverride{}
	var bare string
	switch {
	case *cm != "":
		b, err := os.ReadFile(*cm)
		check(err)
		var m struct{ Data map[string]string }
		check(yaml.Unmarshal(b, &m))
		const prefix = "resource.customizations.health."
		for k, v := range m.Data {
			if strings.HasPrefix(k, prefix) {
				overrides[strings.Replace(strings.TrimPrefix(k, prefix), "_", "/", 1)] = appv1.ResourceOverride{HealthLua: v}
			}
		}
	case *script != "":
		b, err := os.ReadFile(*script)
		check(err)
		bare = string(b)
	default:
		check(fmt.Errorf("-cm or -script is required"))
	}
	// One JSON object a line on standard input; one JSON result a line on standard output.
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) == "" {
			continue
		}
		obj := &unstructured.Unstructured{}
		check(obj.UnmarshalJSON(in.Bytes()))
		o := overrides
		if bare != "" {
			o = map[string]appv1.ResourceOverride{lua.GetConfigMapKey(obj.GroupVersionKind()): {HealthLua: bare}}
		}
		hs, err := lua.ResourceHealthOverrides(o).GetResourceHealth(obj)
		res := map[string]string{}
		switch {
		case err != nil:
			res["error"] = err.Error()
		case hs == nil:
			res["status"] = ""
		default:
			res["status"] = string(hs.Status)
			res["message"] = hs.Message
		}
		check(out.Encode(res))
	}
	check(in.Err())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua:", err)
		os.Exit(2)
	}
}
