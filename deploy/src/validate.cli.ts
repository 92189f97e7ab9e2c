// `nx run deploy:validate`: renders every overlay with kustomize, validates each object against the
// Kubernetes JSON schemas (offline, kubernetes-validate) and runs mailroute's policy check.
// Exit 0 when all pass; 1 with every problem listed otherwise.
import { checkPolicies, formatViolations } from './policy/policy-check';
import { kubernetesVersions, overlayDir, overlays, renderKustomization, validateSchemas } from './tooling';

let failed = false;
for (const overlay of overlays) {
  const started = performance.now();
  const { objects, errors } = validateSchemas(renderKustomization(overlayDir(overlay)));
  const violations = checkPolicies(objects, { environment: overlay === 'production' ? 'production' : 'development' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (errors.length === 0 && violations.length === 0) {
    console.log(
      `${overlay}: ${objects.length} objects valid for Kubernetes ${kubernetesVersions.join(' and ')}, policy check passed (${seconds}s)`,
    );
    continue;
  }
  failed = true;
  console.error(`${overlay}: ${errors.length} schema errors, ${violations.length} policy violations`);
  for (const error of errors) console.error(`  [schema ${error.kubernetes}] ${error.object} ${error.path}: ${error.message}`);
  if (violations.length > 0) console.error(formatViolations(violations));
}
process.exit(failed ? 1 : 0);
