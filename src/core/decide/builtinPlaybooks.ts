/**
 * The playbooks Vigil ships, one per diagnosis. Users add or override (same name) their own in
 * `.vigil/playbooks/*.yaml`. Parameters are templates resolved against the incident (see playbookTemplates.ts).
 */
export const BUILTIN_PLAYBOOKS_SOURCE = 'builtin:playbooks.yaml';

export const BUILTIN_PLAYBOOKS_YAML = `
name: crash-loop
description: Pods crash and restart. Replace the worst pod, then restart the rollout, then hand over.
trigger: { diagnosis: crash-loop }
steps:
  - id: delete-crashing-pod
    action: delete-pod
    params: { namespace: "{{target.namespace}}", pod: "{{worstPod}}" }
    verify: { conditions: [{ kind: no-new-restarts }, { kind: signal-in-band, signal: error_ratio }], timeoutSeconds: 45, stableForSeconds: 15 }
  - id: rollout-restart
    action: rollout-restart
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}" }
    verify: { conditions: [{ kind: rollout-complete }, { kind: no-new-restarts }], timeoutSeconds: 90, stableForSeconds: 15 }
  # no roll-back here: a crash loop that began after a release is diagnosed a bad release, after a configmap change a
  # bad value (revert it); rolling back a healthy revision would undo a good change. Two steps, then a human.
---
name: bad-release
description: Errors or latency rose right after a new revision. Roll back to the previous revision.
trigger: { diagnosis: bad-release }
steps:
  - id: roll-back
    action: rollback
    risk: medium
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}", toRevision: "{{previousRevision}}" }
    verify: { conditions: [{ kind: rollout-complete }, { kind: signal-in-band, signal: error_ratio }, { kind: signal-in-band, signal: latency_p99 }], timeoutSeconds: 120, stableForSeconds: 15 }
---
name: memory-leak
description: Memory climbs until pods are OOMKilled. Restart the rollout for fresh pods, then add headroom.
trigger: { diagnosis: memory-leak }
steps:
  # every pod is fresh after the restart: two more scrapes with all of them up and memory back in band are
  # the evidence (a leak that comes back shows only after many more, and the next incident catches it)
  - id: rollout-restart
    action: rollout-restart
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}" }
    verify: { conditions: [{ kind: rollout-complete }, { kind: signal-in-band, signal: memory }, { kind: signal-in-band, signal: latency_p99 }], timeoutSeconds: 90, stableForSeconds: 10 }
  - id: scale-out
    action: scale
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}", replicas: "{{replicas + 1}}" }
    verify: { conditions: [{ kind: rollout-complete }, { kind: signal-in-band, signal: latency_p99 }], timeoutSeconds: 90 }
---
name: traffic-surge
description: Request rate far above normal saturates the service. Scale out, and again if it still sheds load, within the maximum.
trigger: { diagnosis: traffic-surge }
steps:
  # sized from the measured rise: each pod back under its load before it, with a quarter to spare (at least double);
  # a saturated service sheds load as 5xx while its latency looks fine, so errors are checked too
  - id: scale-out
    action: scale
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}", replicas: "{{loadReplicas}}", maxReplicas: 10 }
    verify: { conditions: [{ kind: rollout-complete }, { kind: signal-in-band, signal: error_ratio }, { kind: signal-in-band, signal: latency_p99 }], timeoutSeconds: 45, stableForSeconds: 15 }
    onFailure: next
  - id: scale-out-more
    action: scale
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}", replicas: "{{replicas * 2}}", maxReplicas: 10 }
    verify: { conditions: [{ kind: rollout-complete }, { kind: signal-in-band, signal: error_ratio }, { kind: signal-in-band, signal: latency_p99 }], timeoutSeconds: 90, stableForSeconds: 15 }
---
name: node-failure
description: A node went NotReady. Cordon it so nothing new lands there, then drain it so its pods move.
trigger: { diagnosis: node-failure }
steps:
  - id: cordon-node
    action: cordon
    params: { node: "{{node}}" }
    # cordoning only stops new pods landing there; pods stuck on the dead node move only with the drain
    # (or the node controller's eviction, when it comes first); when the node's kubelet is gone and nothing
    # is evicting its pods, the drain follows at once instead of after this wait
    verify: { conditions: [{ kind: workloads-rescheduled }], timeoutSeconds: 10, stableForSeconds: 5 }
    onFailure: next
  - id: drain-node
    action: drain
    risk: high
    params: { node: "{{node}}" }
    verify: { conditions: [{ kind: workloads-rescheduled }], timeoutSeconds: 180, stableForSeconds: 5 }
---
name: bad-feature-flag
description: Errors rose, or pods crash, right after a ConfigMap value changed (a feature flag, a config value). Put it back to its previous value.
trigger: { diagnosis: bad-feature-flag }
steps:
  - id: revert-flag
    action: patch-configmap
    risk: medium
    params: { namespace: "{{flag.namespace}}", configMap: "{{flag.configMap}}", key: "{{flag.key}}", value: "{{flag.previousValue}}" }
    verify: { conditions: [{ kind: signal-in-band, signal: error_ratio }], timeoutSeconds: 90, stableForSeconds: 15 }
---
name: dependency-outage
description: Callers fail because a service they depend on fails. Restart the failing dependency, then hand over.
trigger: { diagnosis: dependency-outage }
steps:
  - id: restart-dependency
    action: rollout-restart
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}" }
    verify: { conditions: [{ kind: rollout-complete }, { kind: signal-in-band, signal: error_ratio }], timeoutSeconds: 90, stableForSeconds: 15 }
---
name: latency-spike
description: Latency rose with no other cause found. Restart the rollout once, then hand over.
trigger: { diagnosis: latency-spike }
steps:
  - id: rollout-restart
    action: rollout-restart
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}" }
    verify: { conditions: [{ kind: rollout-complete }, { kind: signal-in-band, signal: latency_p99 }], timeoutSeconds: 90, stableForSeconds: 15 }
---
name: cpu-hog
description: CPU per request regressed with no release to blame (a runaway process in a pod). Restart the rollout once, then hand over.
trigger: { diagnosis: cpu-hog }
steps:
  - id: rollout-restart
    action: rollout-restart
    params: { namespace: "{{target.namespace}}", deployment: "{{target.name}}" }
    verify: { conditions: [{ kind: rollout-complete }, { kind: signal-in-band, signal: cpu }], timeoutSeconds: 120, stableForSeconds: 30 }
`;
