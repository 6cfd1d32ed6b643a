/** Finding the built components without Go, the CLI's choice of control plane, and the kubernetes_sd Prometheus configuration. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pins from '../../../scripts/k8s/pins.json';
import { run as runSandbox } from '../../../src/cli/sandbox';
import { findComponents } from '../../../src/sandbox/controlPlane/components';
import { kubernetesPrometheusConfig } from '../../../src/sandbox/controlPlane/prometheusConfig';

describe('the real control plane: components, CLI, Prometheus configuration', () => {
  let cache: string;
  beforeEach(() => {
    cache = mkdtempSync(path.join(os.tmpdir(), 'vigil-cp-unit-'));
  });
  afterEach(() => rmSync(cache, { recursive: true, force: true }));

  const fakeBuild = (dir: string, versions: { kubernetes: string; kubeStateMetrics: string }, skip?: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'build.json'), JSON.stringify(versions));
    for (const c of pins.commands) {
      if (c.binary === skip) continue;
      writeFileSync(path.join(dir, c.binary), '#!/bin/sh\n');
      chmodSync(path.join(dir, c.binary), 0o755);
    }
  };

  it('without a build, says what is missing and how to build it (no Go needed to look)', () => {
    const r = findComponents({ XDG_CACHE_HOME: cache });
    assert.ok('reason' in r);
    assert.match(r.reason, new RegExp(`Kubernetes ${pins.kubernetes.replace(/\./g, '\\.')} components are not built`));
    assert.match(r.reason, /npm run k8s:build/);
    assert.match(r.reason, new RegExp(path.join(cache, 'vigil-k8s').replace(/[/.]/g, '\\$&')));
  });

  it('finds the folder whose build.json names the pinned versions and that has every binary', () => {
    const root = path.join(cache, 'vigil-k8s');
    fakeBuild(path.join(root, `${pins.kubernetes}-go1.26.1`), { kubernetes: pins.kubernetes, kubeStateMetrics: pins.kubeStateMetrics }, 'etcd');
    fakeBuild(path.join(root, `${pins.kubernetes}-go1.26.2`), { kubernetes: 'v1.30.0', kubeStateMetrics: pins.kubeStateMetrics });
    assert.ok('reason' in findComponents({ XDG_CACHE_HOME: cache }), 'one lacks etcd, the other is another version');
    fakeBuild(path.join(root, `${pins.kubernetes}-go1.26.0`), { kubernetes: pins.kubernetes, kubeStateMetrics: pins.kubeStateMetrics });
    assert.deepEqual(findComponents({ XDG_CACHE_HOME: cache }), { dir: path.join(root, `${pins.kubernetes}-go1.26.0`) });
  });

  it('VIGIL_K8S_BIN names the folder; a wrong one is named with the fix', () => {
    const r = findComponents({ XDG_CACHE_HOME: cache, VIGIL_K8S_BIN: path.join(cache, 'nowhere') });
    assert.ok('reason' in r);
    assert.match(r.reason, /^VIGIL_K8S_BIN: .*nowhere has no build\.json.*npm run k8s:build/);
  });

  it('vigil sandbox refuses an unknown control plane and flags of the other one, naming them', async () => {
    await assert.rejects(runSandbox(['--control-plane', 'k3s']), /--control-plane must be embedded or kubernetes, got "k3s"/);
    await assert.rejects(runSandbox(['--control-plane', 'kubernetes', '--port', '8080']), /--port is for the embedded control plane/);
    await assert.rejects(runSandbox(['--nodes', '3']), /--nodes is for --control-plane kubernetes/);
  });

  it('the Prometheus configuration discovers every target through the API server, and adds no deployment label', () => {
    const text = kubernetesPrometheusConfig({ kubeconfig: '/k/prom.kubeconfig', caFile: '/k/ca.crt', certFile: '/k/p.crt', keyFile: '/k/p.key', scrapeIntervalSeconds: 2 });
    const jobs = [...text.matchAll(/- job_name: (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(jobs, ['apiserver', 'kubelet', 'kube-state-metrics', 'kubernetes-pods']);
    assert.equal((text.match(/kubeconfig_file: "\/k\/prom\.kubeconfig"/g) ?? []).length, 4, 'every job discovers with kubernetes_sd_configs');
    assert.doesNotMatch(text, /static_configs/);
    assert.doesNotMatch(text, /deployment/);
    const job = (name: string) => text.split('- job_name: ').find((j) => j.startsWith(`${name}\n`))!;
    assert.match(job('kubelet'), /role: node[\s\S]*metrics_path: \/metrics\/cadvisor|metrics_path: \/metrics\/cadvisor[\s\S]*role: node/);
    assert.match(job('kubelet'), /honor_labels: true/);
    assert.match(job('kube-state-metrics'), /honor_labels: true/);
    assert.match(job('kube-state-metrics'), /regex: "kube-system;kube-state-metrics;http"/);
    assert.match(job('apiserver'), /regex: "default;kubernetes;https"/);
    assert.match(job('apiserver'), /ca_file: "\/k\/ca\.crt"/);
    assert.match(job('kubernetes-pods'), /__meta_kubernetes_pod_annotation_prometheus_io_scrape\]\n\s+action: "keep"\n\s+regex: "true"/);
    for (const label of ['namespace', 'pod', 'container']) assert.match(job('kubernetes-pods'), new RegExp(`target_label: "${label}"`));
    assert.match(text, /scrape_interval: 2s/);
    assert.match(job('apiserver'), /scrape_interval: 15s/);
  });
});
