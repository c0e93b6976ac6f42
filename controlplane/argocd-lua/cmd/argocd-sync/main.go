// Command argocd-sync runs gitops-engine's own sync (pkg/sync of the argo-cd module) on a
// DatabaseMigration in sync wave 0 and the app's Deployment in wave 1, as argo-cd's
// controller/sync.go runs it: on each reconcile a new sync context (sync.NewSyncContext) carrying
// the operation's state so far (sync.WithInitialState), the health of each resource from the
// resource.customizations entries of argocd-cm through Argo CD's Lua runtime
// (sync.WithHealthOverride(lua.ResourceHealthOverrides(...))), one Sync, then GetState.
//
// Standard input: one JSON object a line, {"name": ..., "obj": a DatabaseMigration as the cluster
// holds it}. Standard output: one JSON object a line, the DatabaseMigration's health, the
// operation's phase and message after each reconcile, and whether the Deployment (wave 1) was
// applied. The cluster is the engine's own fakes: kubetest's resource operations (an apply
// succeeds and is recorded) and a discovery document served in-process; the live
// DatabaseMigration is the object given, on every reconcile.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/sync"
	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/sync/common"
	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/utils/kube"
	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/utils/kube/kubetest"
	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"schemagate.dev/controlplane/argocd-lua/internal/argocdcm"
)

const waveAnnotation = "argocd.argoproj.io/sync-wave"

type scenario struct {
	Name string                     `json:"name"`
	Obj  *unstructured.Unstructured `json:"obj"`
}

type reconcile struct {
	Phase   string `json:"phase"`
	Message string `json:"message"`
}

type outcome struct {
	Name       string      `json:"name"`
	Health     string      `json:"health"`
	Reconciles []reconcile `json:"reconciles"`
	// Phase and Message: the operation's after the last reconcile
	Phase   string `json:"phase"`
	Message string `json:"message"`
	// Completed: the operation ended (Succeeded, Failed or Error); while it has not, argo-cd's
	// controller starts no other sync of the application
	Completed  bool `json:"completed"`
	AppApplied bool `json:"appApplied"`
}

func main() {
	cm := flag.String("cm", "", "an argocd-cm ConfigMap (YAML) whose resource.customizations.health.* keys are the checks")
	reconciles := flag.Int("reconciles", 4, "how many reconciles of the operation to run at most")
	retry := flag.Bool("auto-sync-retry", false, "print when argo-cd retries a failed automated sync (its default RetryStrategy) and exit")
	flag.Parse()
	if *retry {
		printRetrySchedule()
		return
	}
	if *cm == "" {
		check(fmt.Errorf("-cm is required"))
	}
	overrides, err := argocdcm.HealthOverrides(*cm)
	check(err)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) == "" {
			continue
		}
		var s scenario
		check(json.Unmarshal(in.Bytes(), &s))
		if s.Obj == nil {
			check(fmt.Errorf("%s: no obj", s.Name))
		}
		o, err := run(s, lua.ResourceHealthOverrides(overrides), *reconciles)
		check(err)
		check(out.Encode(o))
	}
	check(in.Err())
}

// run syncs the DatabaseMigration (wave 0) and the app's Deployment (wave 1) until the operation
// completes or the reconciles run out.
func run(s scenario, overrides health.HealthOverride, reconciles int) (outcome, error) {
	res := outcome{Name: s.Name}
	live := s.Obj.DeepCopy()
	setWave(live, "0")
	hs, err := health.GetResourceHealth(live, overrides)
	if err != nil {
		return res, err
	}
	if hs != nil {
		res.Health = string(hs.Status)
	}
	target := live.DeepCopy()
	unstructured.RemoveNestedField(target.Object, "status")
	ns := live.GetNamespace()
	app := deployment(ns)

	ops := &kubetest.MockResourceOps{}
	kubectl := &recordingKubectl{MockKubectlCmd: &kubetest.MockKubectlCmd{}, ops: ops}
	config := &rest.Config{Host: "https://cluster.invalid", Transport: discovery{}}
	phase, message := common.OperationRunning, ""
	var results []common.ResourceSyncResult
	startedAt := metav1.Now()
	var appLive *unstructured.Unstructured
	for i := 0; i < reconciles; i++ {
		ctx, cleanup, err := sync.NewSyncContext(
			"the-commit",
			sync.ReconciliationResult{
				Live:   []*unstructured.Unstructured{live, appLive},
				Target: []*unstructured.Unstructured{target, app},
			},
			config, config, kubectl, ns,
			sync.WithLogr(logr.Discard()),
			sync.WithHealthOverride(overrides),
			sync.WithOperationSettings(false, false, false, false),
			sync.WithInitialState(phase, message, results, startedAt),
		)
		if err != nil {
			return res, err
		}
		ctx.Sync(context.Background())
		phase, message, results = ctx.GetState()
		cleanup()
		res.Reconciles = append(res.Reconciles, reconcile{Phase: string(phase), Message: message})
		if ops.GetLastResourceCommand(kube.GetResourceKey(app)) == "apply" {
			res.AppApplied = true
			appLive = app.DeepCopy()
		}
		if phase.Completed() {
			break
		}
	}
	res.Phase, res.Message, res.Completed = string(phase), message, phase.Completed()
	return res, nil
}

func setWave(obj *unstructured.Unstructured, wave string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[waveAnnotation] = wave
	obj.SetAnnotations(a)
}

// deployment is the app of the DatabaseMigration, in the next wave.
func deployment(ns string) *unstructured.Unstructured {
	d := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": "app", "namespace": ns},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": "app"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "app"}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": "registry.example.com/app:2"}}},
			},
		},
	}}
	setWave(d, "1")
	return d
}

// recordingKubectl is kubetest's kubectl whose resource operations are one recorder, so that what
// each reconcile applied can be read.
type recordingKubectl struct {
	*kubetest.MockKubectlCmd
	ops *kubetest.MockResourceOps
}

func (k *recordingKubectl) ManageResources(_ *rest.Config) (kube.ResourceOperations, func(), error) {
	return k.ops, func() {}, nil
}

// discovery serves the API resources the sync looks up (kube.ServerResourceForGroupVersionKind),
// in-process: no connection is made.
type discovery struct{}

var resources = map[string]string{
	"/apis/schemagate.dev/v1alpha1": `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"schemagate.dev/v1alpha1","resources":[` +
		`{"name":"databasemigrations","singularName":"databasemigration","namespaced":true,"kind":"DatabaseMigration","verbs":["create","delete","get","list","patch","update","watch"]}]}`,
	"/apis/apps/v1": `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[` +
		`{"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["create","delete","get","list","patch","update","watch"]}]}`,
}

func (discovery) RoundTrip(r *http.Request) (*http.Response, error) {
	body, ok := resources[r.URL.Path]
	status := http.StatusOK
	if !ok || r.Method != http.MethodGet {
		fmt.Fprintln(os.Stderr, "argocd-sync: no fake for", r.Method, r.URL.Path)
		status, body = http.StatusNotFound, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`
	}
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}, nil
}

// printRetrySchedule prints when argo-cd's controller retries a failed automated sync: autoSync
// gives the operation RetryStrategy{Limit: 5} unless the Application sets syncPolicy.retry, and
// each retry waits RetryStrategy.NextRetryAt after the previous attempt finished.
func printRetrySchedule() {
	strategy := appv1.RetryStrategy{Limit: 5}
	t0 := time.Unix(0, 0)
	total := time.Duration(0)
	out := json.NewEncoder(os.Stdout)
	for n := int64(0); n < strategy.Limit; n++ {
		at, err := strategy.NextRetryAt(t0, n)
		check(err)
		total += at.Sub(t0)
		check(out.Encode(map[string]any{"retry": n + 1, "afterSeconds": at.Sub(t0).Seconds(), "totalSeconds": total.Seconds()}))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-sync:", err)
		os.Exit(2)
	}
}
