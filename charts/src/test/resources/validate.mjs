// Validates rendered manifests (YAML on stdin) against the Kubernetes OpenAPI schemas, offline,
// with the kubernetes-models package. Prints one line per object; exits 1 on the first invalid.
import { parseAllDocuments } from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as coordination from "kubernetes-models/coordination.k8s.io/v1";
import * as admission from "kubernetes-models/admissionregistration.k8s.io/v1";
import * as admissionBeta from "kubernetes-models/admissionregistration.k8s.io/v1beta1";

const models = {
  "v1": core,
  "apps/v1": apps,
  "rbac.authorization.k8s.io/v1": rbac,
  "policy/v1": policy,
  "coordination.k8s.io/v1": coordination,
  "admissionregistration.k8s.io/v1": admission,
  "admissionregistration.k8s.io/v1beta1": admissionBeta,
};
const skipped = new Set(["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule", "cert-manager.io/v1/Issuer", "cert-manager.io/v1/Certificate"]);

let input = "";
for await (const chunk of process.stdin) input += chunk;
let count = 0;
for (const doc of parseAllDocuments(input)) {
  const obj = doc.toJS();
  if (!obj) continue;
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (skipped.has(key)) { console.log(`skipped ${key} ${obj.metadata.name} (no schema offline)`); continue; }
  // v1beta1 MutatingAdmissionPolicy has the v1 shape; the package only carries v1's schema
  const sameAsV1 = obj.apiVersion === "admissionregistration.k8s.io/v1beta1" && obj.kind.startsWith("MutatingAdmissionPolicy");
  if (sameAsV1) obj.apiVersion = "admissionregistration.k8s.io/v1";
  const Model = models[obj.apiVersion]?.[obj.kind];
  if (!Model) { console.error(`no schema for ${key}`); process.exit(1); }
  try {
    new Model(obj).validate();
  } catch (e) {
    console.error(`invalid ${key} ${obj.metadata?.name}: ${e.message}`);
    process.exit(1);
  }
  count++;
  console.log(`valid ${key} ${obj.metadata.name}${sameAsV1 ? " (against v1's schema)" : ""}`);
}
console.log(`validated ${count}`);
