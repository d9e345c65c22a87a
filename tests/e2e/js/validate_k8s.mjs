// Validates Kubernetes manifests offline against the Kubernetes API's
// OpenAPI schemas, as compiled into the kubernetes-models package (types,
// required fields, enums and formats of every field it knows):
//   node validate_k8s.mjs FILE.yaml...
// Prints one JSON line per document: {"file", "kind", "name", "errors": [...]}
// and exits 1 if any document is invalid or of a kind it does not know.
import {readFileSync} from 'node:fs';
import {parseAllDocuments} from 'yaml';
import {ConfigMap} from 'kubernetes-models/v1/ConfigMap';
import {PersistentVolumeClaim} from 'kubernetes-models/v1/PersistentVolumeClaim';
import {Service} from 'kubernetes-models/v1/Service';
import {Deployment} from 'kubernetes-models/apps/v1/Deployment';
import {HorizontalPodAutoscaler} from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import {PodDisruptionBudget} from 'kubernetes-models/policy/v1/PodDisruptionBudget';

const models = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

let bad = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const errors = doc.errors.map((e) => e.message);
    const obj = errors.length ? null : doc.toJS();
    if (obj === null && !errors.length) continue;  // an empty document
    const key = obj ? `${obj.apiVersion}/${obj.kind}` : '';
    const Model = models[key];
    if (obj && !Model) errors.push(`unknown apiVersion/kind ${key}`);
    if (obj && Model) {
      try {
        new Model(obj).validate();
      } catch (e) {
        errors.push(...(e.errors || [{message: e.message}]).map(
          (x) => `${x.instancePath || ''} ${x.message}`.trim()));
      }
    }
    if (errors.length) bad++;
    console.log(JSON.stringify({file, kind: obj?.kind, name: obj?.metadata?.name, errors}));
  }
}
process.exit(bad ? 1 : 0);
