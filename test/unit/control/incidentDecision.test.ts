/** `vigil approve|reject --kubeconfig`: spec.decision as written, and what the user is told when it cannot be. */
import assert from 'node:assert/strict';
import { writeDecision } from '../../../src/infra/kubernetes/incidentResources';
import type { KubeConnection } from '../../../src/infra/kubernetes/kubeClient';

type Answer = { status: number; body: string };

/** An API server that answers by `METHOD path`, recording every request. */
function server(answers: Record<string, Answer | ((body: string) => Answer)>) {
  const requests: Array<{ method: string; path: string; body?: string; contentType?: string }> = [];
  const conn = {
    server: 'https://10.244.0.1:6443',
    context: 'alice@vigil',
    async request(method: string, path: string, o: { body?: string; contentType?: string } = {}) {
      requests.push({ method, path, body: o.body, contentType: o.contentType });
      const a = answers[`${method} ${path}`];
      if (!a) return { status: 404, body: JSON.stringify({ kind: 'Status', message: 'the server could not find the requested resource' }) };
      return typeof a === 'function' ? a(o.body ?? '') : a;
    },
  } as unknown as KubeConnection;
  return { conn, requests };
}

const INCIDENT = `/apis/vigil.dev/v1alpha1/namespaces/shop/incidents/inc-20261206t120000z-checkout-1`;
const WHO = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const status = (message: string) => JSON.stringify({ kind: 'Status', message });
const incident = (state: string, stepId?: string) => ({
  status: 200,
  body: JSON.stringify({ metadata: { name: 'inc-20261206t120000z-checkout-1', namespace: 'shop', resourceVersion: '4711' }, spec: { incidentId: 'inc-20261206T120000Z-checkout-1' }, status: { state, ...(stepId ? { proposedStep: { stepId, action: 'rollback deployment shop/checkout' } } : {}) } }),
});
const me = { status: 201, body: JSON.stringify({ status: { userInfo: { username: 'system:serviceaccount:oncall:alice' } } }) };

describe('decisions written to Incident resources', () => {
  it('approve: the step proposed now, by the user the API server names, with the resourceVersion read', async () => {
    const { conn, requests } = server({ [`GET ${INCIDENT}`]: incident('awaiting-approval', 'rollback'), [`POST ${WHO}`]: me, [`PATCH ${INCIDENT}`]: { status: 200, body: '{}' } });
    const d = await writeDecision(conn, { incident: 'inc-20261206T120000Z-checkout-1', action: 'approve', namespace: 'shop' });
    assert.deepEqual(d, { namespace: 'shop', name: 'inc-20261206t120000z-checkout-1', incidentId: 'inc-20261206T120000Z-checkout-1', stepId: 'rollback', action: 'approve', by: 'system:serviceaccount:oncall:alice' });
    const patch = requests.find((r) => r.method === 'PATCH');
    assert.equal(patch?.contentType, 'application/merge-patch+json');
    assert.deepEqual(JSON.parse(patch?.body ?? ''), { metadata: { resourceVersion: '4711' }, spec: { decision: { action: 'approve', stepId: 'rollback', by: 'system:serviceaccount:oncall:alice' } } });
  });

  it('finds the incident in all namespaces by Vigil\'s id when no namespace is named', async () => {
    const list = { status: 200, body: JSON.stringify({ items: [JSON.parse(incident('awaiting-approval', 'rollback').body)] }) };
    const { conn } = server({ 'GET /apis/vigil.dev/v1alpha1/incidents': list, [`POST ${WHO}`]: me, [`PATCH ${INCIDENT}`]: { status: 200, body: '{}' } });
    assert.equal((await writeDecision(conn, { incident: 'inc-20261206T120000Z-checkout-1', action: 'reject' })).namespace, 'shop');
  });

  it('says what is wrong and how to fix it: 403, no CRD, no proposal, a stale step, a conflict', async () => {
    const forbidden = server({ [`GET ${INCIDENT}`]: incident('awaiting-approval', 'rollback'), [`POST ${WHO}`]: me, [`PATCH ${INCIDENT}`]: { status: 403, body: status('incidents.vigil.dev "x" is forbidden') } });
    await assert.rejects(writeDecision(forbidden.conn, { incident: 'inc-20261206t120000z-checkout-1', action: 'approve', namespace: 'shop' }), /system:serviceaccount:oncall:alice may not update incidents in namespace shop \(HTTP 403.*kubectl create rolebinding vigil-approvers -n shop --clusterrole=vigil-approver --user=system:serviceaccount:oncall:alice/);

    const noCrd = server({});
    await assert.rejects(writeDecision(noCrd.conn, { incident: 'inc-1', action: 'approve' }), /no Incident resources on this cluster .*kubectl apply -f deploy\/helm\/vigil\/crds\/incidents\.vigil\.dev\.yaml/);
    await assert.rejects(writeDecision(noCrd.conn, { incident: 'inc-1', action: 'approve', namespace: 'shop' }), /no Incident resources on this cluster/);
    assert.equal(noCrd.requests.filter((r) => r.method !== 'GET').length, 0, 'nothing written');

    const missing = server({ 'GET /apis/vigil.dev/v1alpha1': { status: 200, body: '{}' } });
    await assert.rejects(writeDecision(missing.conn, { incident: 'inc-1', action: 'approve', namespace: 'shop' }), /no Incident inc-1 in namespace shop; list them with kubectl get incidents -n shop/);

    const recovered = server({ [`GET ${INCIDENT}`]: incident('recovered', 'rollback') });
    await assert.rejects(writeDecision(recovered.conn, { incident: 'inc-20261206t120000z-checkout-1', action: 'approve', namespace: 'shop' }), /has no step waiting for a decision \(state recovered, last proposed step "rollback"\); nothing was written/);

    const stale = server({ [`GET ${INCIDENT}`]: incident('awaiting-approval', 'scale-out') });
    await assert.rejects(writeDecision(stale.conn, { incident: 'inc-20261206t120000z-checkout-1', action: 'approve', namespace: 'shop', expectedStepId: 'rollback' }), /now proposes step "scale-out" \(rollback deployment shop\/checkout\), not "rollback"; nothing was written/);
    assert.equal(stale.requests.length, 1);

    const raced = server({ [`GET ${INCIDENT}`]: incident('awaiting-approval', 'rollback'), [`POST ${WHO}`]: me, [`PATCH ${INCIDENT}`]: { status: 409, body: status('the object has been modified') } });
    await assert.rejects(writeDecision(raced.conn, { incident: 'inc-20261206t120000z-checkout-1', action: 'approve', namespace: 'shop' }), /changed while you decided \(HTTP 409\); nothing was written/);
  });
});
