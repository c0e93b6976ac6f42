// Validates rendered manifests (YAML on stdin) against the Kubernetes OpenAPI schemas, offline,
// with the kubernetes-models package. Prints one line per object; exits 1 on the first invalid.
import { parseAllDocuments } from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as coordination from "kubernetes-models/coordination.k8s.io/v1";

const models = {
  "v1": core,
  "apps/v1": apps,
  "rbac.authorization.k8s.io/v1": rbac,
  "policy/v1": policy,
  "coordination.k8s.io/v1": coordination,
};
const skipped = new Set(["monitoring.coreos.com/v1/ServiceMonitor"]);

let input = "";
for await (const chunk of process.stdin) input += chunk;
let count = 0;
for (const doc of parseAllDocuments(input)) {
  const obj = doc.toJS();
  if (!obj) continue;
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (skipped.has(key)) { console.log(`skipped ${key} ${obj.metadata.name} (no schema offline)`); continue; }
  const Model = models[obj.apiVersion]?.[obj.kind];
  if (!Model) { console.error(`no schema for ${key}`); process.exit(1); }
  try {
    new Model(obj).validate();
  } catch (e) {
    console.error(`invalid ${key} ${obj.metadata?.name}: ${e.message}`);
    process.exit(1);
  }
  count++;
  console.log(`valid ${key} ${obj.metadata.name}`);
}
console.log(`validated ${count}`);
