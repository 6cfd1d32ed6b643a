/**
 * Starts the real control plane the way a user does — `vigil sandbox --control-plane kubernetes` — checks it
 * from this host with the kubectl built here, prints the start time and the rss of every component, and
 * stops it (SIGTERM, as Ctrl-C does). Needs root and `npm run k8s:build`; run it under the heavy-run lock.
 *
 *   npx tsx scripts/k8s/verify.ts [--nodes 3] [--bundle]     (--bundle: the built dist/cli.js, as shipped)
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { findComponents, KUBERNETES_VERSION } from '../../src/sandbox/controlPlane/components';
import type { SandboxReadyLine } from '../../src/cli/sandbox';

const ROOT = path.resolve(__dirname, '../..');
const nodesArg = process.argv.indexOf('--nodes');
const nodes = nodesArg > 0 ? process.argv[nodesArg + 1] : '3';

function rssByName(netns: string): Array<[string, number]> {
  const pids = (spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout || '').split('\n').filter(Boolean);
  const out: Array<[string, number]> = [];
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      let name = /Name:\s+(\S+)/.exec(status)?.[1] ?? pid;
      if (name === 'node' || name.startsWith('MainThread')) name = 'node-agent (node)';
      else name = path.basename(readlinkSync(`/proc/${pid}/exe`));
      out.push([name, rss]);
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

async function main(): Promise<number> {
  const comps = findComponents();
  if ('reason' in comps) {
    console.error(comps.reason);
    return 3;
  }
  const t0 = Date.now();
  const cli = process.argv.includes('--bundle') ? [path.join(ROOT, 'dist/cli.js')] : ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];
  const child = spawn(process.execPath, [...cli, 'sandbox', '--control-plane', 'kubernetes', '--nodes', nodes, '--kubeconfig', path.join(ROOT, '.vigil-state/k8s-verify.kubeconfig')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<SandboxReadyLine>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as SandboxReadyLine);
    });
    child.once('exit', (code) => reject(new Error(`vigil sandbox exited (${code}) before its ready line`)));
  });
  const readySeconds = (Date.now() - t0) / 1000;
  console.log(`ready line: ${JSON.stringify(ready)}`);
  let ok = true;
  const kubectl = (args: string[]) => spawnSync(path.join(comps.dir, 'kubectl'), ['--kubeconfig', ready.kubeconfig, ...args], { encoding: 'utf8' });
  const version = kubectl(['version']);
  console.log(`$ kubectl version\n${version.stdout}${version.stderr}`);
  if (!version.stdout.includes(`Server Version: ${KUBERNETES_VERSION}`)) ok = false;
  const readyz = kubectl(['get', '--raw', '/readyz?verbose']);
  if (!/\[\+\]etcd ok/.test(readyz.stdout) || !/readyz check passed/.test(readyz.stdout)) ok = false;
  console.log(`$ kubectl get --raw '/readyz?verbose' | grep etcd\n${readyz.stdout.split('\n').filter((l) => /etcd|passed/.test(l)).join('\n')}`);
  const nodesOut = kubectl(['get', 'nodes', '-o', 'wide']);
  console.log(`$ kubectl get nodes -o wide\n${nodesOut.stdout}${nodesOut.stderr}`);
  if ((nodesOut.stdout.match(/ Ready /g) ?? []).length !== Number(nodes)) ok = false;
  const ksm = await fetch(ready.metrics).then((r) => r.text()).catch((e: Error) => `unreachable: ${e.message}`);
  const nodeSeries = ksm.split('\n').filter((l) => l.startsWith('kube_node_info')).length;
  console.log(`kube-state-metrics at ${ready.metrics} (from this host, over the veth): ${nodeSeries} kube_node_info series`);
  if (nodeSeries !== Number(nodes)) ok = false;
  await new Promise((r) => setTimeout(r, 5000)); // rss after the first informer syncs settle
  console.log(`start: ready line after ${readySeconds.toFixed(1)} s (the control plane says ${ready.startSeconds?.toFixed(1)} s)`);
  let total = 0;
  for (const [name, kib] of rssByName(ready.netns ?? '')) {
    total += kib;
    console.log(`  rss ${name.padEnd(24)} ${(kib / 1024).toFixed(0).padStart(5)} MiB`);
  }
  console.log(`  rss ${'total'.padEnd(24)} ${(total / 1024).toFixed(0).padStart(5)} MiB`);
  const t1 = Date.now();
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.trim();
  console.log(`stop: exit ${code} after ${((Date.now() - t1) / 1000).toFixed(1)} s; namespaces left: ${left || 'none'}; ${readdirSync('/sys/class/net').includes('vigil-k8s0') ? 'veth LEFT' : 'veth gone'}`);
  if (code !== 0 || left.includes(ready.netns ?? '?')) ok = false;
  console.log(ok ? 'verify: ok' : 'verify: FAILED');
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (err: Error) => {
  console.error(`verify: ${err.message}`);
  process.exit(1);
});
