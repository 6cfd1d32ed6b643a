/** The subset of API-server validation the sandbox enforces, with Kubernetes' 422 Invalid messages. */
import { requirementsFromLabelSelector, matchesLabels } from './selectors';
import { StatusError, type KubeObject, type ResourceInfo } from './store';

interface Cause {
  reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported';
  message: string;
  field: string;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

const required = (field: string): Cause => ({ reason: 'FieldValueRequired', message: 'Required value', field });
const invalid = (field: string, value: unknown, why: string): Cause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: ${why}`, field });

function validateMeta(info: ResourceInfo, o: KubeObject, causes: Cause[]): void {
  const m = o.metadata as unknown;
  if (!isObj(m)) {
    causes.push(required('metadata'));
    return;
  }
  const name = m.name;
  const nameRe = info.name === 'namespaces' || info.name === 'pods' ? (info.name === 'namespaces' ? DNS_LABEL : DNS_SUBDOMAIN) : DNS_SUBDOMAIN;
  if (typeof name !== 'string' || name === '') {
    if (!m.generateName) causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  } else if (name.length > 253 || !nameRe.test(name)) {
    causes.push(invalid('metadata.name', name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
  }
  for (const key of ['labels', 'annotations'] as const) {
    const v = m[key];
    if (v === undefined || v === null) continue;
    if (!isObj(v)) {
      causes.push(invalid(`metadata.${key}`, v, 'must be a map of string keys to string values'));
      continue;
    }
    for (const [k, val] of Object.entries(v)) {
      if (!LABEL_KEY.test(k)) causes.push(invalid(`metadata.${key}`, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
      if (typeof val !== 'string') causes.push(invalid(`metadata.${key}.${k}`, val, 'must be a string'));
      else if (key === 'labels' && !LABEL_VALUE.test(val)) causes.push(invalid(`metadata.labels`, val, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
  }
}

function validateContainers(path: string, podSpec: unknown, causes: Cause[]): void {
  if (!isObj(podSpec)) {
    causes.push(required(path));
    return;
  }
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push(required(`${path}.containers`));
    return;
  }
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = `${path}.containers[${i}]`;
    if (!isObj(c)) return void causes.push(invalid(p, c, 'must be an object'));
    if (typeof c.name !== 'string' || c.name === '') causes.push(required(`${p}.name`));
    else if (!DNS_LABEL.test(c.name)) causes.push(invalid(`${p}.name`, c.name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"));
    else if (names.has(c.name)) causes.push({ reason: 'FieldValueInvalid', message: `Duplicate value: ${show(c.name)}`, field: `${p}.name` });
    else names.add(c.name);
    if (typeof c.image !== 'string' || c.image.trim() === '') causes.push(required(`${p}.image`));
  });
}

function nonNegativeInt(field: string, v: unknown, causes: Cause[]): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) causes.push(invalid(field, v, 'must be an integer'));
  else if (v < 0) causes.push(invalid(field, v, 'must be greater than or equal to 0'));
}

function validateWorkload(o: KubeObject, causes: Cause[]): void {
  const spec = o.spec;
  if (!isObj(spec)) return void causes.push(required('spec'));
  nonNegativeInt('spec.replicas', spec.replicas, causes);
  const reqs = requirementsFromLabelSelector(spec.selector);
  if (!reqs || reqs.length === 0) causes.push(required('spec.selector'));
  const template = spec.template;
  if (!isObj(template)) return void causes.push(required('spec.template'));
  const labels = isObj(template.metadata) ? (template.metadata.labels as Record<string, string> | undefined) : undefined;
  if (reqs && reqs.length > 0 && !matchesLabels(reqs, labels)) causes.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
  validateContainers('spec.template.spec', template.spec, causes);
}

/** Throws 422 Invalid naming every bad field, as the API server does. */
export function validateObject(info: ResourceInfo, o: KubeObject): void {
  const causes: Cause[] = [];
  validateMeta(info, o, causes);
  switch (info.name) {
    case 'deployments':
    case 'replicasets':
    case 'statefulsets':
    case 'daemonsets':
      validateWorkload(o, causes);
      break;
    case 'pods':
      validateContainers('spec', o.spec, causes);
      break;
    case 'configmaps':
      for (const key of ['data', 'binaryData'] as const) {
        const d = (o as Record<string, unknown>)[key];
        if (d === undefined || d === null) continue;
        if (!isObj(d)) causes.push(invalid(key, d, 'must be a map of strings'));
        else for (const [k, v] of Object.entries(d)) if (typeof v !== 'string') causes.push(invalid(`${key}[${k}]`, v, 'must be a string'));
      }
      break;
    case 'leases': {
      const spec = o.spec;
      if (spec !== undefined && !isObj(spec)) causes.push(invalid('spec', spec, 'must be an object'));
      else if (isObj(spec)) {
        if (spec.holderIdentity !== undefined && spec.holderIdentity !== null && typeof spec.holderIdentity !== 'string') causes.push(invalid('spec.holderIdentity', spec.holderIdentity, 'must be a string'));
        if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds !== null) {
          const d = spec.leaseDurationSeconds;
          if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) causes.push(invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
        }
      }
      break;
    }
    case 'incidents': {
      // the CRD's structural schema: spec.incidentId and spec.target required; a decision is complete and approve|reject
      const spec = o.spec;
      if (!isObj(spec)) {
        causes.push(required('spec'));
        break;
      }
      for (const f of ['incidentId', 'target'] as const) {
        if (spec[f] === undefined || spec[f] === null) causes.push(required(`spec.${f}`));
        else if (typeof spec[f] !== 'string') causes.push(invalid(`spec.${f}`, spec[f], 'must be a string'));
      }
      const d = spec.decision;
      if (d !== undefined && d !== null) {
        if (!isObj(d)) causes.push(invalid('spec.decision', d, 'must be an object'));
        else {
          if (d.action !== 'approve' && d.action !== 'reject') causes.push(invalid('spec.decision.action', d.action ?? null, 'supported values: "approve", "reject"'));
          for (const f of ['stepId', 'by'] as const) if (typeof d[f] !== 'string') causes.push(d[f] === undefined ? required(`spec.decision.${f}`) : invalid(`spec.decision.${f}`, d[f], 'must be a string'));
        }
      }
      break;
    }
    case 'events':
      if (!isObj((o as Record<string, unknown>).involvedObject)) causes.push(required('involvedObject'));
      break;
    case 'poddisruptionbudgets': {
      const spec = o.spec;
      if (isObj(spec) && spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) causes.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
      break;
    }
    case 'nodes': {
      const spec = o.spec;
      if (isObj(spec) && spec.unschedulable !== undefined && typeof spec.unschedulable !== 'boolean') causes.push(invalid('spec.unschedulable', spec.unschedulable, 'must be a boolean'));
      break;
    }
    default:
      break;
  }
  if (causes.length === 0) return;
  const kind = info.kind;
  const name = isObj(o.metadata) && typeof o.metadata.name === 'string' ? o.metadata.name : '';
  const what = `${kind}${info.group ? `.${info.group}` : ''} "${name}"`;
  throw new StatusError('Invalid', `${what} is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    name,
    group: info.group,
    kind,
    causes,
  });
}

const words = (s: string) => new Set(s.split(/\s+/).filter(Boolean));
const META_FIELDS = words('name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields');
const POD_SPEC_FIELDS = words(`volumes initContainers containers ephemeralContainers restartPolicy terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy
  nodeSelector serviceAccountName serviceAccount automountServiceAccountToken nodeName hostNetwork hostPID hostIPC shareProcessNamespace securityContext
  imagePullSecrets hostname subdomain affinity schedulerName tolerations hostAliases priorityClassName priority dnsConfig readinessGates runtimeClassName
  enableServiceLinks preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os hostUsers schedulingGates resourceClaims resources`);
const CONTAINER_FIELDS = words(`name image command args workingDir ports envFrom env resources resizePolicy restartPolicy volumeMounts volumeDevices livenessProbe
  readinessProbe startupProbe lifecycle terminationMessagePath terminationMessagePolicy imagePullPolicy securityContext stdin stdinOnce tty`);
const TOP_FIELDS: Readonly<Record<string, Set<string>>> = {
  configmaps: words('apiVersion kind metadata data binaryData immutable'),
  controllerrevisions: words('apiVersion kind metadata data revision'),
  events: words('apiVersion kind metadata involvedObject reason message source firstTimestamp lastTimestamp count type eventTime series action related reportingComponent reportingInstance'),
};
const SPEC_FIELDS: Readonly<Record<string, Set<string>>> = {
  deployments: words('replicas selector template strategy minReadySeconds revisionHistoryLimit paused progressDeadlineSeconds'),
  replicasets: words('replicas minReadySeconds selector template'),
  statefulsets: words('replicas selector template volumeClaimTemplates serviceName podManagementPolicy updateStrategy revisionHistoryLimit minReadySeconds persistentVolumeClaimRetentionPolicy ordinals'),
  daemonsets: words('selector template updateStrategy minReadySeconds revisionHistoryLimit'),
  pods: POD_SPEC_FIELDS,
  nodes: words('podCIDR podCIDRs providerID unschedulable taints configSource externalID'),
  leases: words('holderIdentity leaseDurationSeconds acquireTime renewTime leaseTransitions strategy preferredHolder'),
  incidents: words('incidentId target decision'),
  poddisruptionbudgets: words('minAvailable selector maxUnavailable unhealthyPodEvictionPolicy'),
  namespaces: words('finalizers'),
  services: words(`ports selector clusterIP clusterIPs type externalIPs sessionAffinity loadBalancerIP loadBalancerSourceRanges externalName
    externalTrafficPolicy healthCheckNodePort publishNotReadyAddresses sessionAffinityConfig ipFamilies ipFamilyPolicy allocateLoadBalancerNodePorts
    loadBalancerClass internalTrafficPolicy trafficDistribution`),
};

/**
 * Fields of a request body the Kubernetes schema does not have (top level, metadata, spec, pod
 * template and containers), for `fieldValidation=Strict|Warn`; `prune` removes them from the body.
 * `$`-directives of patches are not fields.
 */
export function unknownFields(info: ResourceInfo, body: unknown, options: { prune?: boolean } = {}): string[] {
  const out: string[] = [];
  const check = (o: unknown, known: Set<string>, prefix: string) => {
    if (!isObj(o)) return;
    for (const k of Object.keys(o)) {
      if (known.has(k) || k.startsWith('$')) continue;
      out.push(`${prefix}${k}`);
      // as the API server drops fields its schema does not have
      if (options.prune) delete o[k];
    }
  };
  if (!isObj(body)) return out;
  check(body, TOP_FIELDS[info.name] ?? words('apiVersion kind metadata spec status'), '');
  check(body.metadata, META_FIELDS, 'metadata.');
  const specKnown = SPEC_FIELDS[info.name];
  if (specKnown) check(body.spec, specKnown, 'spec.');
  const podSpecs: Array<[unknown, string]> = [];
  if (info.name === 'pods') podSpecs.push([body.spec, 'spec.']);
  if ((info.name === 'deployments' || info.name === 'replicasets' || info.name === 'statefulsets' || info.name === 'daemonsets') && isObj(body.spec) && isObj(body.spec.template)) {
    check(body.spec.template, words('metadata spec'), 'spec.template.');
    check(body.spec.template.metadata, META_FIELDS, 'spec.template.metadata.');
    check(body.spec.template.spec, POD_SPEC_FIELDS, 'spec.template.spec.');
    podSpecs.push([body.spec.template.spec, 'spec.template.spec.']);
  }
  for (const [spec, prefix] of podSpecs) {
    if (!isObj(spec)) continue;
    for (const list of ['containers', 'initContainers'] as const) {
      const cs = spec[list];
      if (Array.isArray(cs)) cs.forEach((c, i) => check(c, CONTAINER_FIELDS, `${prefix}${list}[${i}].`));
    }
  }
  return out;
}
