import assert from 'node:assert/strict';
import { renderCadvisor } from '../../../../src/sandbox/sim/cadvisor';
import { SimHarness } from './simHarness';

const MACHINE = { cores: 4, memoryBytes: 8 * 1024 ** 3 };

function sample(text: string, family: string, pod: string, container: string): number | undefined {
  const m = new RegExp(`^${family}\\{container="${container}",[^}]*pod="${pod}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('sandbox cAdvisor exposition', () => {
  it('writes the container, the pod cgroup (container="") and POD series with the kubelet labels', () => {
    const h = new SimHarness();
    h.run(20_000, 250);
    const rt = [...h.sim.kubelet.runtimes.values()].find((r) => r.deployment === 'cart')!;
    const text = renderCadvisor([rt], MACHINE, h.t);
    for (const c of ['cart', '', 'POD']) {
      assert.ok(sample(text, 'container_cpu_usage_seconds_total', rt.name, c)! > 0, `cpu of container="${c}"`);
      assert.ok(sample(text, 'container_memory_working_set_bytes', rt.name, c)! > 0, `memory of container="${c}"`);
    }
    assert.equal(sample(text, 'container_memory_working_set_bytes', rt.name, 'cart'), Math.round(rt.service.memoryBytes));
    assert.equal(sample(text, 'container_spec_memory_limit_bytes', rt.name, 'cart'), 256 * 1024 * 1024);
    assert.match(text, new RegExp(`container_cpu_usage_seconds_total\\{container="POD",id="/kubepods/burstable/pod${rt.uid}/[^"]+",image="registry.k8s.io/pause:3.10",name="[^"]+",namespace="shop",pod="${rt.name}"\\}`));
    assert.match(text, /^machine_cpu_cores 4$/m);
    // the families appear once each, as the exposition format requires
    assert.equal(text.match(/^# TYPE container_cpu_usage_seconds_total counter$/gm)?.length, 1);
  });

  it('drops a dead container\'s series while the pod cgroup keeps counting across the restart', () => {
    const h = new SimHarness({ kubelet: { crashAfterMs: 5000, backoffBaseMs: 4000 } });
    h.run(20_000, 250);
    const rt = [...h.sim.kubelet.runtimes.values()].find((r) => r.deployment === 'cart')!;
    const before = renderCadvisor([rt], MACHINE, h.t);
    const podCpuBefore = sample(before, 'container_cpu_usage_seconds_total', rt.name, '')!;
    assert.equal(h.control('POST', '/sandbox/v1/faults', { fault: 'crash-loop', target: `shop/${rt.name}` }).status, 201);
    let sawDown = false;
    h.run(30_000, 250, () => {
      if (rt.state === 'backoff' && !sawDown) {
        sawDown = true;
        const down = renderCadvisor([rt], MACHINE, h.t);
        assert.equal(sample(down, 'container_cpu_usage_seconds_total', rt.name, 'cart'), undefined, 'no series for the dead container');
        assert.ok(sample(down, 'container_cpu_usage_seconds_total', rt.name, 'POD') !== undefined);
      }
    });
    assert.ok(sawDown && rt.restartCount >= 1, `restarts: ${rt.restartCount}`);
    const after = renderCadvisor([rt], MACHINE, h.t);
    assert.ok(sample(after, 'container_cpu_usage_seconds_total', rt.name, '')! >= podCpuBefore, 'the pod cgroup counter does not reset');
  });
});
