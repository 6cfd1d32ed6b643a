/* global process, console */
// Prepare step of the k8s tier: the Kubernetes components must be built. `scripts/k8s/build.mjs` builds them
// (about a second when up to date; exit 3 without Go, which skips the tier with its reason). Binaries given
// in VIGIL_K8S_BIN need no Go at all.
import { spawnSync } from 'node:child_process';
import { checkBinaries } from '../../scripts/k8s/goEnv.mjs';

const given = process.env.VIGIL_K8S_BIN;
if (given) {
  if (checkBinaries(given)) {
    console.log(`k8s tier: using the components in VIGIL_K8S_BIN=${given}`);
    process.exit(0);
  }
  console.error(`k8s tier: VIGIL_K8S_BIN=${given} does not hold the pinned components (see scripts/k8s/README.md); building them instead`);
}
const r = spawnSync(process.execPath, ['scripts/k8s/build.mjs'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
