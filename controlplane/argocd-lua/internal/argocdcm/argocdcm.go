// Package argocdcm reads the health checks of an argocd-cm ConfigMap as Argo CD's settings do:
// each resource.customizations.health.<group>_<kind> key becomes the resource override of
// <group>/<kind>.
package argocdcm

import (
	"os"
	"strings"

	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"sigs.k8s.io/yaml"
)

const prefix = "resource.customizations.health."

// HealthOverrides reads the ConfigMap (YAML) at path.
func HealthOverrides(path string) (map[string]appv1.ResourceOverride, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m struct{ Data map[string]string }
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	overrides := map[string]appv1.ResourceOverride{}
	for k, v := range m.Data {
		if strings.HasPrefix(k, prefix) {
			overrides[strings.Replace(strings.TrimPrefix(k, prefix), "_", "/", 1)] = appv1.ResourceOverride{HealthLua: v}
		}
	}
	return overrides, nil
}
