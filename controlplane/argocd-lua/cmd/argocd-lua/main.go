// Command argocd-lua evaluates Argo CD resource health checks with Argo CD's own Lua runtime
// (util/lua of the argo-cd module): given the argocd-cm ConfigMap (or a bare script) and objects
// as JSON, prints for each the health status and message Argo CD computes. With -upstream DIR,
// runs the check laid out as Argo CD's built-in ones (DIR/health.lua, DIR/health_test.yaml,
// DIR/testdata) the way argo-cd's own util/lua/health_test.go (TestLuaHealthScript) does, and
// prints for each test its input, the health it expects and the health computed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"schemagate.dev/controlplane/argocd-lua/internal/argocdcm"
	"sigs.k8s.io/yaml"
)

func main() {
	cm := flag.String("cm", "", "an argocd-cm ConfigMap (YAML) whose resource.customizations.health.* keys are the checks")
	script := flag.String("script", "", "a bare health script for every object's group/kind")
	upstream := flag.String("upstream", "", "a folder laid out as argo-cd's resource_customizations/<group>/<kind>")
	flag.Parse()
	if *upstream != "" {
		check(runUpstream(*upstream))
		return
	}
	overrides := map[string]appv1.ResourceOverride{}
	var bare string
	switch {
	case *cm != "":
		var err error
		overrides, err = argocdcm.HealthOverrides(*cm)
		check(err)
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

// runUpstream is argo-cd's TestLuaHealthScript on one folder: each test of health_test.yaml reads
// its input (YAML) and runs health.lua in a VM with the open libraries, as built-in checks run.
func runUpstream(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		return err
	}
	var tests struct {
		Tests []struct {
			InputPath    string               `json:"inputPath"`
			HealthStatus *health.HealthStatus `json:"healthStatus"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(b, &tests); err != nil {
		return err
	}
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	for _, t := range tests.Tests {
		in, err := os.ReadFile(filepath.Join(dir, t.InputPath))
		if err != nil {
			return err
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(in, &obj); err != nil {
			return fmt.Errorf("%s: %w", t.InputPath, err)
		}
		vm := lua.VM{UseOpenLibs: true}
		got, err := vm.ExecuteHealthLua(&unstructured.Unstructured{Object: obj}, string(script))
		if err != nil {
			return fmt.Errorf("%s: %w", t.InputPath, err)
		}
		if err := out.Encode(map[string]any{"inputPath": t.InputPath, "want": t.HealthStatus, "got": got}); err != nil {
			return err
		}
	}
	return nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua:", err)
		os.Exit(2)
	}
}
