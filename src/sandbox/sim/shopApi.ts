/**
 * What the shop's pods answer over HTTP (through the API server's pod and service proxies), so a
 * synthetic user journey — list products, add to cart, check out — has something real to walk. A pod
 * fails a request as often as its faults make its traffic fail; a call to a dependency goes to one of
 * the dependency's ready pods and fails with 502 when that one fails.
 */
import { PROBE_STEP_DEFAULTS } from '../../core/observe/probeSpec';
import type { ProbeSettings } from '../../core/settings';

export interface HttpRequest {
  readonly method: string;
  /** Path on the pod, with a leading slash. */
  readonly path: string;
  readonly body: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** How long the pod takes to answer, dependencies included. */
  readonly delayMs: number;
}

/** What a route needs from the simulation about the pod serving it. */
export interface PodServing {
  readonly pod: string;
  /** Share of this pod's requests that fail now because of its faults (0 when healthy). */
  readonly failureShare: number;
  /** Status of a failed request: 503 for an outage or shedding, 500 for a bug. */
  readonly failureStatus: number;
  /** Why requests fail, as the pod would log it. */
  readonly failureCause: string;
  /** Median latency of the pod's requests now, in ms. */
  readonly latencyMs: number;
  /** A uniform draw in [0, 1) for this request. */
  draw(): number;
  /** Calls a dependency (`namespace/name`) on one of its ready pods. */
  call(service: string, request: HttpRequest): HttpAnswer;
}

interface Route {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  /** Dependencies called in order before answering. */
  readonly calls?: ReadonlyArray<{ readonly service: string; readonly request: HttpRequest }>;
  readonly status?: number;
  readonly answer: (req: HttpRequest, serving: PodServing) => unknown;
}

export const PRODUCTS = [
  { id: 'sku-1001', name: 'Espresso beans, 1 kg', price: { amount: 24.5, currency: 'EUR' } },
  { id: 'sku-1002', name: 'Burr grinder', price: { amount: 129, currency: 'EUR' } },
  { id: 'sku-1003', name: 'Milk jug', price: { amount: 14.9, currency: 'EUR' } },
];

/** The shop's API: the journey the demo and the tests probe. */
export const SHOP_ROUTES: ReadonlyArray<Route> = [
  { service: 'shop/frontend', method: 'GET', path: '/products', answer: () => ({ products: PRODUCTS }) },
  {
    service: 'shop/cart',
    method: 'POST',
    path: '/cart',
    status: 201,
    answer: (req) => {
      const item = parseJson(req.body) as { productId?: unknown; quantity?: unknown } | undefined;
      const product = PRODUCTS.find((p) => p.id === item?.productId) ?? PRODUCTS[0];
      const quantity = Number.isInteger(item?.quantity) && (item?.quantity as number) > 0 ? (item?.quantity as number) : 1;
      return { items: [{ productId: product.id, quantity }], total: { amount: Math.round(product.price.amount * quantity * 100) / 100, currency: 'EUR' } };
    },
  },
  { service: 'shop/cart', method: 'GET', path: '/cart', answer: () => ({ items: [] }) },
  {
    service: 'shop/checkout',
    method: 'POST',
    path: '/checkout',
    calls: [{ service: 'payments/payments-api', request: { method: 'POST', path: '/payments', body: '{"amount":24.5,"currency":"EUR"}' } }],
    answer: (_req, serving) => ({ orderId: `order-${idOf(serving)}`, status: 'confirmed' }),
  },
  { service: 'payments/payments-api', method: 'POST', path: '/payments', answer: (_req, serving) => ({ paymentId: `pay-${idOf(serving)}`, status: 'authorized' }) },
];

const idOf = (serving: PodServing) => Math.floor(serving.draw() * 36 ** 6).toString(36).padStart(6, '0');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const json = (status: number, body: unknown, delayMs: number): HttpAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(body), delayMs });

/** What pod `serving` of `service` answers to `req`: 404/405 for what the service does not serve. */
export function serveShopRequest(service: string, req: HttpRequest, serving: PodServing): HttpAnswer {
  const own = Math.max(1, Math.round(serving.latencyMs));
  if (req.method === 'GET' && (req.path === '/healthz' || req.path === '/readyz')) return { status: 200, contentType: 'text/plain', body: 'ok', delayMs: 1 };
  const routes = SHOP_ROUTES.filter((r) => r.service === service && r.path === req.path);
  if (routes.length === 0) return json(404, { error: `no route ${req.path} on ${service}`, routes: SHOP_ROUTES.filter((r) => r.service === service).map((r) => `${r.method} ${r.path}`) }, own);
  const route = routes.find((r) => r.method === req.method);
  if (!route) return json(405, { error: `${req.method} is not allowed on ${req.path}; use ${routes.map((r) => r.method).join(' or ')}` }, own);
  if (serving.draw() < serving.failureShare) return json(serving.failureStatus, { error: serving.failureCause, pod: serving.pod }, own);
  let delayMs = own;
  for (const c of route.calls ?? []) {
    const answer = serving.call(c.service, c.request);
    delayMs += answer.delayMs;
    if (answer.status >= 500) return json(502, { error: `call to ${c.service} failed: ${answer.status} ${excerpt(answer.body)}`, pod: serving.pod }, delayMs);
  }
  return json(route.status ?? 200, route.answer(req, serving), delayMs);
}

function excerpt(body: string): string {
  const m = /"error":"([^"]*)"/.exec(body);
  return (m ? m[1] : body).slice(0, 200);
}

/**
 * The shop's user journey as a probe (the `probes` setting the demo and the tests use): list products on
 * the frontend, add one to the cart, check out (which pays through payments-api), all through the API
 * server's service proxy. It reports on shop/frontend, where the shop's users arrive.
 */
export const SHOP_JOURNEY: ProbeSettings = {
  name: 'shop checkout journey',
  target: 'shop/frontend',
  intervalSeconds: 15,
  timeoutMs: 5_000,
  steps: [
    { ...PROBE_STEP_DEFAULTS, name: 'list products', service: 'shop/frontend:8080', path: '/products', expectBody: '"products"' },
    { ...PROBE_STEP_DEFAULTS, name: 'add to cart', service: 'shop/cart:8080', path: '/cart', method: 'POST', body: '{"productId":"sku-1001","quantity":1}', expectStatus: [201], expectBody: '"items"' },
    { ...PROBE_STEP_DEFAULTS, name: 'check out', service: 'shop/checkout:8080', path: '/checkout', method: 'POST', body: '{}', expectBody: '"orderId"', latencyBudgetMs: 2_000 },
  ],
};
