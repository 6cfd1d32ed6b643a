/**
 * What a kubelet serves on /metrics/cadvisor for the simulated pods of one node: per-container series
 * (only while the container runs, as cAdvisor drops a dead container's cgroup), the pod-level cgroup
 * (`container=""`, which keeps counting across restarts) and the sandbox ("pause") container
 * (`container="POD"`). Labels as the kubelet writes them: container, id, image, name, namespace, pod.
 */
import type { PodRuntime } from './containerLifecycle';
import { ExpositionWriter, renderLabels } from '../../infra/prometheus/exposition';

export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
/** The pause container: a few hundred KiB and next to no CPU. */
const PAUSE_MEMORY_BYTES = 614_400;
const PAUSE_CPU_SHARE = 0.0001;
const CFS_PERIOD_US = 100_000;

export interface CadvisorMachine {
  readonly cores: number;
  readonly memoryBytes: number;
}

interface Row {
  readonly labels: string;
  readonly cpu: number;
  readonly memory: number;
  readonly limitBytes: number;
  readonly quotaUs: number;
  readonly startSeconds: number;
}

function rows(rt: PodRuntime, nowMs: number): Row[] {
  const podCgroup = `/kubepods/burstable/pod${rt.uid}`;
  const base = { namespace: rt.namespace, pod: rt.name };
  const startedMs = rt.scheduledMs ?? nowMs;
  const pauseCpu = (PAUSE_CPU_SHARE * Math.max(0, nowMs - startedMs)) / 1000;
  const pauseId = `pause-${rt.uid.slice(0, 8)}`;
  const out: Row[] = [];
  const app = rt.running && !rt.nodeDown;
  out.push({
    labels: renderLabels({ container: '', id: podCgroup, image: '', name: '', ...base }),
    cpu: rt.service.retiredCpuSeconds + rt.service.cpuSeconds + pauseCpu,
    memory: (app ? rt.service.memoryBytes : 0) + PAUSE_MEMORY_BYTES,
    limitBytes: rt.memoryLimitBytes,
    quotaUs: Math.round(rt.cpuLimitCores * CFS_PERIOD_US),
    startSeconds: startedMs / 1000,
  });
  out.push({
    labels: renderLabels({ container: 'POD', id: `${podCgroup}/${pauseId}`, image: PAUSE_IMAGE, name: pauseId, ...base }),
    cpu: pauseCpu,
    memory: PAUSE_MEMORY_BYTES,
    limitBytes: 0,
    quotaUs: 0,
    startSeconds: startedMs / 1000,
  });
  if (app) {
    const id = rt.containerId.replace(/^[a-z]+:\/\//, '');
    out.push({
      labels: renderLabels({ container: rt.containerName, id: `${podCgroup}/${id}`, image: rt.image, name: id, ...base }),
      cpu: rt.service.cpuSeconds,
      memory: rt.service.memoryBytes,
      limitBytes: rt.memoryLimitBytes,
      quotaUs: Math.round(rt.cpuLimitCores * CFS_PERIOD_US),
      startSeconds: (rt.containerStartMs ?? nowMs) / 1000,
    });
  }
  return out;
}

export function renderCadvisor(runtimes: Iterable<PodRuntime>, machine: CadvisorMachine, nowMs: number): string {
  const all: Row[] = [];
  for (const rt of runtimes) all.push(...rows(rt, nowMs));
  const w = new ExpositionWriter();
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  w.family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.');
  for (const r of all) w.sample('container_cpu_usage_seconds_total', r.labels, round(r.cpu));
  // the model has one memory figure per process: its resident set, which is also its working set
  w.family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.');
  for (const r of all) w.sample('container_memory_working_set_bytes', r.labels, Math.round(r.memory));
  w.family('container_memory_rss', 'gauge', 'Size of RSS in bytes.');
  for (const r of all) w.sample('container_memory_rss', r.labels, Math.round(r.memory));
  w.family('container_spec_memory_limit_bytes', 'gauge', 'Memory limit for the container.');
  for (const r of all) w.sample('container_spec_memory_limit_bytes', r.labels, r.limitBytes);
  w.family('container_spec_cpu_period', 'gauge', 'CPU period of the container.');
  for (const r of all) if (r.quotaUs > 0) w.sample('container_spec_cpu_period', r.labels, CFS_PERIOD_US);
  w.family('container_spec_cpu_quota', 'gauge', 'CPU quota of the container.');
  for (const r of all) if (r.quotaUs > 0) w.sample('container_spec_cpu_quota', r.labels, r.quotaUs);
  w.family('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds.');
  for (const r of all) w.sample('container_start_time_seconds', r.labels, round(r.startSeconds));
  w.family('machine_cpu_cores', 'gauge', 'Number of logical CPU cores.');
  w.sample('machine_cpu_cores', '', machine.cores);
  w.family('machine_memory_bytes', 'gauge', 'Amount of memory installed on the machine.');
  w.sample('machine_memory_bytes', '', machine.memoryBytes);
  return w.toString();
}
