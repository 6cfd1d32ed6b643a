/**
 * `npx tsx scripts/bench/inventoryReads.ts [--services 1000 --pods-per-service 5 --intervals 8 --reads 6 --crash-loop scale-002/svc-0100]`: what the
 * agent's reads of the workload inventory cost at scale, apart from Prometheus and the rest of the loop. The embedded
 * sandbox with N generated services (in this process), the Kubernetes source over its API as the agent has it, and
 * the incident recorder's recording events port; then per interval `--reads` inventory reads (the pipeline's, the
 * evidence's, a decision's), with the informers' changes of a second in between. Prints the time and the bytes the
 * reads allocate per interval (V8's sampling heap profiler over the reads alone, objects collected since counted too),
 * so a change to these paths can be compared with main's on the same machine. Not real time: no lock; run it with `nice`.
 */
import { Session } from 'node:inspector/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectKube } from '../../src/infra/kubernetes/kubeClient';
import { KubernetesSource } from '../../src/infra/kubernetes/kubernetesSource';
import { SystemClock } from '../../src/infra/systemClock';
import { startSandbox } from '../../src/sandbox/sandbox';
import { IncidentRecorder } from '../../src/core/loop/incidentRecorder';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ProfileNode {
  selfSize: number;
  children: ProfileNode[];
}
const total = (n: ProfileNode): number => n.selfSize + n.children.reduce((s, c) => s + total(c), 0);

async function main(): Promise<void> {
  const services = Number(arg('services', '1000'));
  const podsPerService = Number(arg('pods-per-service', '5'));
  const intervals = Number(arg('intervals', '8'));
  const reads = Number(arg('reads', '6'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-inventory-'));
  const sandbox = await startSandbox({ seed: 1, daySeconds: 600, kubeconfigPath: path.join(dir, 'kubeconfig'), scale: { services, podsPerService } });
  const clock = new SystemClock();
  const conn = await connectKube({ kubeconfig: sandbox.kubeconfig });
  const source = new KubernetesSource({ conn, clock });
  let facts = 0;
  source.subscribe(() => facts++);
  const t0 = Date.now();
  while (!source.ready) {
    if (Date.now() - t0 > 300_000) throw new Error(`the informers did not list within 300 s: ${source.status.message}`);
    await sleep(500);
  }
  const pods = source.inventory().services.reduce((n, s) => n + s.pods.length, 0);
  // `--crash-loop NS/NAME`: a crash loop on one service, so its pods' restarts change the inventory as a fault does
  const crashLoop = arg('crash-loop', '');
  if (crashLoop) {
    const res = await sandbox.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: 'crash-loop', target: crashLoop, durationSeconds: 600 });
    if (res.status >= 300) throw new Error(`could not inject the crash loop on ${crashLoop}: ${JSON.stringify(res.body)}`);
    await sleep(5000);
  }
  process.stdout.write(`${services} services, ${pods} pods in the inventory after ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  // only what the read path touches: the recorder's inventory ring (no incident is open here)
  const recorder = new IncidentRecorder({ clock } as unknown as ConstructorParameters<typeof IncidentRecorder>[0]);
  const events = recorder.recordingEvents(source);
  const session = new Session();
  session.connect();
  let ms = 0;
  let bytes = 0;
  let changed = 0;
  let previous = JSON.stringify(source.inventory());
  for (let i = 0; i < intervals; i++) {
    await sleep(1000); // the informers' changes of an interval land between its reads
    // sampled over the reads alone (nothing else runs in between: they are synchronous), objects collected since counted too
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    const start = performance.now();
    recorder.inventory(source.inventory());
    for (let r = 1; r < reads; r++) events.inventory();
    ms += performance.now() - start;
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
    bytes += total(profile.head);
    const now = JSON.stringify(source.inventory());
    if (now !== previous) changed++;
    previous = now;
  }
  session.disconnect();
  process.stdout.write(
    `inventory reads (${intervals} intervals × ${reads} reads, the first of each the pipeline's with the recorder): ` +
      `${(ms / intervals).toFixed(1)} ms and ${(bytes / intervals / 1e6).toFixed(2)} MB allocated per interval; the inventory changed in ${changed} of the ${intervals} intervals; ${facts} facts; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`,
  );
  source.dispose();
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
