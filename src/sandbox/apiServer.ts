/**
 * The sandbox's Kubernetes API server: real REST paths, JSON shapes, status codes and watch
 * streams over the ObjectStore, so unmodified kubectl and @kubernetes/client-node work against it.
 * Every failure becomes a Kubernetes Status object; no request can crash the process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { decodeProtobuf, isProtobuf } from './apiProtobuf';
import { unknownFields, validateObject } from './apiValidation';
import { tableFor, wantsTable } from './apiTable';
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions, groupVersion, openApiV3GroupVersion, openApiV3Root, subresourceKnown, versionInfo } from './discovery';
import { applyPatch, PATCH_CONTENT_TYPES, strategicMergePatch } from './patch';
import { SANDBOX_USER } from './kubeconfig';
import { formatLabelSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, requirementsFromLabelSelector } from './selectors';
import type { HttpAnswer, HttpRequest } from './sim/shopApi';
import { RESOURCES, StatusError, type ChangeEvent, type KubeObject, type ObjectStore, type ResourceInfo, type ResourceName } from './store';

/** What the API server needs from the simulation (see sim/simulation.ts). */
export interface SimulationApi {
  podMetrics(namespace: string, pod: string): string | undefined;
  /** An HTTP request to a pod's port; undefined when the pod does not exist. */
  serveHttp(namespace: string, pod: string, req: HttpRequest): HttpAnswer | undefined;
  podLogs(namespace: string, pod: string, opts: { tailLines?: number; follow?: boolean; container?: string; previous?: boolean }, onLine: (line: string) => void): { lines: string[]; stop(): void } | undefined;
  handleControl(method: string, path: string, body: unknown): { status: number; body: unknown };
}

export interface ApiServerOptions {
  store: ObjectStore;
  simulation: SimulationApi;
  log?: (line: string) => void;
  /** Request bodies above this get 413 (default 3 MiB, as etcd's request limit). */
  maxBodyBytes?: number;
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK (default 10 s). */
  bookmarkIntervalMs?: number;
}

const DEFAULT_MAX_BODY = 3 * 1024 * 1024;
/** A simulated answer never takes longer than this (a latency fault times the median can be large). */
const MAX_PROXY_DELAY_MS = 30_000;
const MAX_WATCH_SECONDS = 1800;
const WITH_STATUS_SUBRESOURCE = new Set<ResourceName>(['namespaces', 'pods', 'services', 'nodes', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'poddisruptionbudgets', 'incidents']);

interface Target {
  readonly info: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
  readonly sub?: string;
  /** Rest of the path after a proxy subresource. */
  readonly subPath: string;
  readonly legacyWatch: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function notFoundPath(): StatusError {
  return new StatusError('NotFound', 'the server could not find the requested resource', {});
}

function methodNotAllowed(): StatusError {
  return new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

function success(details: Record<string, unknown>, code = 200): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, ...(code !== 200 ? { code } : {}) };
}

class BodyTooLarge extends Error {}

const APPLY_PATCH = 'application/apply-patch+yaml';
const mediaTypeOf = (contentType: string | undefined) => (contentType ?? '').split(';')[0].trim().toLowerCase();

const CONTROL_REASONS: Readonly<Record<number, string>> = { 400: 'BadRequest', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 422: 'Invalid', 429: 'TooManyRequests', 503: 'ServiceUnavailable' };

export class ApiServer {
  private readonly server: http.Server;
  private readonly store: ObjectStore;
  private readonly sim: SimulationApi;
  private readonly log: (line: string) => void;
  private readonly maxBody: number;
  private readonly bookmarkMs: number;
  /** Which ready pod a service proxy request goes to next. */
  private proxyTurn = 0;
  /** Closers of open watch and log-follow streams, so stop() can end them. */
  private readonly streams = new Set<() => void>();

  constructor(options: ApiServerOptions) {
    this.store = options.store;
    this.sim = options.simulation;
    this.log = options.log ?? (() => undefined);
    this.maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.bookmarkMs = options.bookmarkIntervalMs ?? 10_000;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => this.fail(res, err));
    });
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n' + JSON.stringify(new StatusError('BadRequest', 'malformed HTTP request').toStatus()));
      else socket.destroy();
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Ends every watch and log stream, then stops listening. */
  close(): Promise<void> {
    for (const end of [...this.streams]) end();
    this.streams.clear();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), 1000).unref();
    });
  }

  // ---------------------------------------------------------------- plumbing

  private fail(res: http.ServerResponse, err: unknown): void {
    const status =
      err instanceof StatusError
        ? err
        : err instanceof BodyTooLarge
          ? new StatusError('RequestEntityTooLarge', `the request body is larger than the limit of ${this.maxBody} bytes`)
          : new StatusError('InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
    if (status.code >= 500) this.log(`api: ${status.message}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (err instanceof BodyTooLarge) res.setHeader('Connection', 'close');
    this.json(res, status.code, status.toStatus());
  }

  private json(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    res.end(text);
  }

  private readBody(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > this.maxBody) {
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (c: Buffer) => {
        if (failed) return;
        size += c.length;
        if (size > this.maxBody) {
          failed = true;
          reject(new BodyTooLarge());
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        if (!failed) resolve(Buffer.concat(chunks));
      });
      req.on('error', (e) => {
        if (!failed) reject(e);
      });
    });
  }

  /** A request body as JSON, or decoded from the protobuf kubectl's typed clients send. */
  private decodeBody(req: http.IncomingMessage, body: Buffer, what: string): unknown {
    if (isProtobuf(req.headers['content-type'], body)) return decodeProtobuf(body);
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (mediaType === 'application/yaml') {
      try {
        return parseYaml(body.toString('utf8'));
      } catch (err) {
        throw new StatusError('BadRequest', `${what}: couldn't decode the request body as YAML: ${(err as Error).message}`);
      }
    }
    if (mediaType !== '' && mediaType !== 'application/json' && mediaType !== '*/*') {
      throw new StatusError('UnsupportedMediaType', `${what}: the body of the request was in an unknown format (${mediaType}) - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
    }
    return this.parseJson(body.toString('utf8'), what);
  }

  private parseJson(text: string, what: string): unknown {
    if (text.trim() === '') throw new StatusError('BadRequest', `${what}: the request body is empty; send a JSON object`);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new StatusError('BadRequest', `${what}: couldn't decode the request body as JSON: ${(err as Error).message}`);
    }
  }

  // ---------------------------------------------------------------- routing

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    } catch {
      throw new StatusError('BadRequest', `malformed request URL: ${String(req.url).slice(0, 200)}`);
    }
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      throw new StatusError('BadRequest', `malformed request path: ${url.pathname.slice(0, 200)}`);
    }
    const q = url.searchParams;
    const [root, ...rest] = segments;

    if (root === 'sandbox') return this.control(req, res, method, url.pathname);
    const isResourcePath = (root === 'api' && segments.length >= 3) || (root === 'apis' && segments.length >= 4);
    if (!isResourcePath) {
      req.resume();
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    }
    switch (root) {
      case undefined:
        return this.json(res, 200, { paths: ['/api', '/api/v1', '/apis', '/apis/apps/v1', '/apis/authentication.k8s.io/v1', '/apis/coordination.k8s.io/v1', '/apis/policy/v1', '/apis/vigil.dev/v1alpha1', '/healthz', '/livez', '/readyz', '/version', '/sandbox/v1'] });
      case 'version':
        if (rest.length) throw notFoundPath();
        return this.json(res, 200, versionInfo());
      case 'openapi': {
        // v3 only: its root and per-group-version documents; kubectl falls back without v2.
        if (rest[0] !== 'v3') throw notFoundPath();
        const doc = rest.length === 1 ? openApiV3Root() : openApiV3GroupVersion(rest.slice(1).join('/'));
        if (!doc) throw notFoundPath();
        return this.json(res, 200, doc);
      }
      case 'healthz':
      case 'livez':
      case 'readyz':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
        return;
      case 'api':
        if (rest.length === 0) return this.json(res, 200, apiVersions(req.headers.host ?? '127.0.0.1'));
        if (rest[0] !== 'v1') throw notFoundPath();
        if (rest.length === 1) return this.json(res, 200, apiResourceList('', 'v1'));
        return this.resource(req, res, method, this.target('', 'v1', rest.slice(1)), q);
      case 'apis': {
        if (rest.length === 0) return this.json(res, 200, apiGroupList());
        if (rest.length === 1) {
          const doc = apiGroupDocument(rest[0]);
          if (!doc) throw notFoundPath();
          return this.json(res, 200, doc);
        }
        if (rest.length === 2) {
          const list = apiResourceList(rest[0], rest[1]);
          if (!list) throw notFoundPath();
          return this.json(res, 200, list);
        }
        return this.resource(req, res, method, this.target(rest[0], rest[1], rest.slice(2)), q);
      }
      default:
        throw notFoundPath();
    }
  }

  private target(group: string, version: string, rest: string[]): Target {
    const served = RESOURCES.filter((r) => r.group === group && r.version === version);
    if (served.length === 0) throw notFoundPath();
    let legacyWatch = false;
    if (rest[0] === 'watch') {
      legacyWatch = true;
      rest = rest.slice(1);
    }
    const find = (name: string | undefined) => served.find((r) => r.name === name);
    let namespace: string | undefined;
    let tail = rest;
    if (rest[0] === 'namespaces' && rest.length >= 3 && find(rest[2])?.namespaced) {
      namespace = rest[1];
      tail = rest.slice(2);
    }
    const info = find(tail[0]);
    if (!info) throw notFoundPath();
    if (namespace !== undefined && !info.namespaced) throw notFoundPath();
    const [, name, sub, ...more] = tail;
    if (info.namespaced && namespace === undefined && name !== undefined) throw notFoundPath();
    if (sub !== undefined && !subresourceKnown(info.name, sub)) throw notFoundPath();
    if (sub !== 'proxy' && more.length > 0) throw notFoundPath();
    return { info, namespace, name, sub, subPath: more.join('/'), legacyWatch };
  }

  private async control(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string): Promise<void> {
    let body: unknown;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const text = (await this.readBody(req)).toString('utf8');
      body = text.trim() === '' ? undefined : this.parseJson(text, 'sandbox control request');
    } else {
      req.resume();
    }
    const r = this.sim.handleControl(method, path, body);
    if (r.status >= 400 && !(isObj(r.body) && r.body.kind === 'Status')) {
      // Control errors look like every other API error, so clients need one error path.
      const message = isObj(r.body) && typeof r.body.message === 'string' ? r.body.message : `sandbox control request failed with HTTP ${r.status}`;
      const reason = CONTROL_REASONS[r.status] ?? (r.status >= 500 ? 'InternalError' : 'BadRequest');
      return this.json(res, r.status, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: r.status });
    }
    this.json(res, r.status, r.body ?? {});
  }

  private async resource(req: http.IncomingMessage, res: http.ServerResponse, method: string, t: Target, q: URLSearchParams): Promise<void> {
    const watchParam = q.get('watch');
    const isWatch = t.legacyWatch || watchParam === 'true' || watchParam === '1';
    if (t.sub) return this.subresource(req, res, method, t, q);
    if (t.info.name === 'selfsubjectreviews') return this.selfSubjectReview(req, res, method, t);
    const readBody = async (what: string) => this.decodeBody(req, await this.readBody(req), what);
    const dryRun = this.dryRun(q);
    if (t.name === undefined) {
      switch (method) {
        case 'GET':
          req.resume();
          return isWatch ? this.watch(req, res, t, q) : this.list(req, res, t, q);
        case 'POST': {
          if (t.info.namespaced && t.namespace === undefined) throw methodNotAllowed();
          const body = await readBody(`create ${t.info.name}`);
          this.fieldValidation(res, t, q, body);
          return this.json(res, 201, this.create(t, body, dryRun));
        }
        case 'DELETE':
          req.resume();
          if (!t.info.verbs.includes('deletecollection')) throw methodNotAllowed();
          return this.json(res, 200, this.deleteCollection(t, q, dryRun));
        default:
          req.resume();
          throw methodNotAllowed();
      }
    }
    switch (method) {
      case 'GET':
        req.resume();
        if (isWatch) return this.watch(req, res, t, q);
        return this.json(res, 200, this.get(req, t, q));
      case 'PUT': {
        const body = await readBody(`update ${t.info.name}`);
        this.fieldValidation(res, t, q, body);
        return this.json(res, 200, this.update(t, body, dryRun));
      }
      case 'PATCH': {
        let text = (await this.readBody(req)).toString('utf8');
        if (mediaTypeOf(req.headers['content-type']) === APPLY_PATCH) {
          const { code, object } = this.apply(res, t, q, text, dryRun);
          return this.json(res, code, object);
        }
        // JSON patches name paths, not fields, and are not checked; undecodable bodies fail in patch()
        if (this.patchType(req.headers['content-type']) !== 'json') {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          if (body !== undefined) {
            this.fieldValidation(res, t, q, body);
            text = JSON.stringify(body);
          }
        }
        return this.json(res, 200, this.patch(t, req.headers['content-type'], text, dryRun));
      }
      case 'DELETE': {
        const raw = await this.readBody(req);
        const options = raw.toString('utf8').trim() === '' ? {} : this.decodeBody(req, raw, 'DeleteOptions');
        return this.json(res, 200, this.delete(t, q, isObj(options) ? options : {}, dryRun));
      }
      default:
        req.resume();
        throw methodNotAllowed();
    }
  }

  /**
   * fieldValidation=Strict refuses unknown fields (400, as the API server does); Warn (the default)
   * answers with a Warning header kubectl prints; Ignore does nothing.
   */
  private fieldValidation(res: http.ServerResponse, t: Target, q: URLSearchParams, body: unknown): void {
    const mode = q.get('fieldValidation') ?? 'Warn';
    if (!['Strict', 'Warn', 'Ignore'].includes(mode)) throw new StatusError('BadRequest', `fieldValidation "${mode}" is not valid; use Strict, Warn or Ignore`);
    if (mode === 'Ignore') {
      unknownFields(t.info, body, { prune: true });
      return;
    }
    const unknown = unknownFields(t.info, body, { prune: mode !== 'Strict' });
    if (unknown.length === 0) return;
    if (mode === 'Strict') throw new StatusError('BadRequest', `strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
    res.setHeader('Warning', unknown.map((f) => `299 - "unknown field \\"${f}\\""`));
  }

  private dryRun(q: URLSearchParams): boolean {
    const values = q.getAll('dryRun');
    for (const v of values) if (v !== 'All') throw new StatusError('BadRequest', `Invalid dryRun value "${v}": the only supported value is "All"`);
    return values.length > 0;
  }

  // ---------------------------------------------------------------- reads

  private selectors(t: Target, q: URLSearchParams) {
    const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
    const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, t.info.name);
    if (t.name !== undefined) fields.push({ field: 'metadata.name', equals: true, value: t.name });
    return (o: KubeObject) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o);
  }

  private get(req: http.IncomingMessage, t: Target, q: URLSearchParams): unknown {
    const o = this.store.mustGet(t.info.name, t.namespace, t.name as string);
    return wantsTable(req.headers.accept) ? tableFor(t.info, [o], o.metadata.resourceVersion ?? '', q.get('includeObject')) : o;
  }

  private list(req: http.IncomingMessage, res: http.ServerResponse, t: Target, q: URLSearchParams): void {
    const match = this.selectors(t, q);
    const rv = q.get('resourceVersion');
    if (rv !== null && rv !== '' && !/^\d+$/.test(rv)) throw new StatusError('BadRequest', `invalid resource version "${rv}": must be a decimal number`);
    const { items, resourceVersion } = this.store.list(t.info.name, t.namespace);
    const listKind = `${t.info.kind}List`;
    const apiVersion = groupVersion(t.info);
    const list = { kind: listKind, apiVersion, metadata: { resourceVersion }, items: items.filter(match) };
    if (wantsTable(req.headers.accept)) return this.json(res, 200, tableFor(t.info, list.items, resourceVersion, q.get('includeObject')));
    this.json(res, 200, list);
  }

  private watch(req: http.IncomingMessage, res: http.ServerResponse, t: Target, q: URLSearchParams): void {
    const match = this.selectors(t, q);
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw new StatusError('BadRequest', `invalid resource version "${rvParam}": must be a decimal number`);
    const timeoutParam = q.get('timeoutSeconds');
    let timeoutSeconds = MAX_WATCH_SECONDS;
    if (timeoutParam !== null) {
      const n = Number(timeoutParam);
      if (!Number.isInteger(n) || n < 0) throw new StatusError('BadRequest', `invalid timeoutSeconds "${timeoutParam}": must be a whole number of seconds`);
      if (n > 0) timeoutSeconds = Math.min(n, MAX_WATCH_SECONDS);
    }
    const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
    const apiVersion = groupVersion(t.info);
    const resource = t.info.name;

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const asTable = wantsTable(req.headers.accept);
    let firstTable = true;
    const send = (type: string, object: unknown) => {
      if (res.writableEnded) return;
      if (asTable && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
        const o = object as KubeObject;
        object = tableFor(t.info, [o], o.metadata.resourceVersion ?? '', q.get('includeObject'), firstTable);
        firstTable = false;
      }
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    // Objects this watch has told the client about, so changes that stop matching the selector are DELETED.
    const known = new Set<string>();
    let from: number;
    const current = this.store.list(resource, t.namespace);
    const sendInitialEvents = q.get('sendInitialEvents') === 'true';
    if (rvParam === '' || rvParam === '0' || sendInitialEvents) {
      for (const o of current.items) {
        if (!match(o)) continue;
        known.add(key(o));
        send('ADDED', o);
      }
      from = Number(current.resourceVersion);
      if (sendInitialEvents) {
        // the streaming-list protocol (WatchList): a bookmark marks the end of the initial state
        send('BOOKMARK', { kind: t.info.kind, apiVersion, metadata: { resourceVersion: current.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } } });
      }
    } else {
      from = Number(rvParam);
      for (const o of current.items) if (match(o)) known.add(key(o));
    }
    const onChange = (e: ChangeEvent) => {
      const k = key(e.object);
      if (e.type === 'DELETED') {
        if (known.delete(k) || match(e.object)) send('DELETED', e.object);
        return;
      }
      if (match(e.object)) {
        const type = e.type === 'ADDED' || !known.has(k) ? 'ADDED' : 'MODIFIED';
        known.add(k);
        send(type, e.object);
      } else if (known.delete(k)) {
        send('DELETED', e.object);
      }
    };
    let subscription: { dispose(): void } | undefined;
    try {
      subscription = this.store.watch(resource, t.namespace, from, onChange);
    } catch (err) {
      if (err instanceof StatusError && err.code === 410) {
        // As the watch cache does: HTTP 200, one ERROR event carrying the 410 Status, then the end.
        send('ERROR', err.toStatus());
        res.end();
        return;
      }
      throw err;
    }
    const timers: NodeJS.Timeout[] = [];
    const end = () => {
      subscription?.dispose();
      subscription = undefined;
      for (const tm of timers) clearTimeout(tm);
      this.streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    this.streams.add(end);
    timers.push(setTimeout(end, timeoutSeconds * 1000));
    if (bookmarks) {
      const tick = setInterval(() => send('BOOKMARK', { kind: t.info.kind, apiVersion, metadata: { resourceVersion: String(this.store.resourceVersion) } }), this.bookmarkMs);
      timers.push(tick);
    }
    res.on('close', end);
    res.on('error', end);
  }

  // ---------------------------------------------------------------- writes

  private checkTypeMeta(t: Target, body: Record<string, unknown>): void {
    const expected = groupVersion(t.info);
    if (body.apiVersion !== undefined && body.apiVersion !== expected) {
      throw new StatusError('BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (body.kind !== undefined && body.kind !== t.info.kind) {
      throw new StatusError('BadRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (${t.info.kind})`);
    }
  }

  private asObject(t: Target, body: unknown): KubeObject {
    if (!isObj(body)) throw new StatusError('BadRequest', `the body of a ${t.info.kind} request must be a JSON object`);
    this.checkTypeMeta(t, body);
    if (body.metadata !== undefined && !isObj(body.metadata)) throw new StatusError('BadRequest', `${t.info.kind}.metadata must be an object`);
    const o = { ...body, apiVersion: groupVersion(t.info), kind: t.info.kind, metadata: { ...((body.metadata as Record<string, unknown>) ?? {}) } } as KubeObject;
    if (t.info.namespaced) {
      if (o.metadata.namespace !== undefined && o.metadata.namespace !== '' && o.metadata.namespace !== t.namespace) {
        throw new StatusError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      o.metadata.namespace = t.namespace;
    } else {
      delete o.metadata.namespace;
    }
    return o;
  }

  private requireNamespace(t: Target): void {
    if (t.info.namespaced && t.namespace !== undefined && !this.store.get('namespaces', undefined, t.namespace)) {
      throw new StatusError('NotFound', `namespaces "${t.namespace}" not found`, { name: t.namespace, kind: 'namespaces' });
    }
  }

  private create(t: Target, body: unknown, dryRun: boolean): KubeObject {
    const o = this.asObject(t, body);
    this.requireNamespace(t);
    delete o.metadata.resourceVersion;
    delete o.metadata.uid;
    delete o.metadata.creationTimestamp;
    delete o.metadata.deletionTimestamp;
    applyDefaults(t.info.name, o);
    validateObject(t.info, o);
    return this.store.create(t.info.name, o, { dryRun });
  }

  private update(t: Target, body: unknown, dryRun: boolean): KubeObject {
    const o = this.asObject(t, body);
    if (o.metadata.name !== undefined && o.metadata.name !== t.name) {
      throw new StatusError('BadRequest', `the name of the object (${String(o.metadata.name)}) does not match the name on the URL (${t.name})`);
    }
    o.metadata.name = t.name as string;
    const current = this.store.mustGet(t.info.name, t.namespace, t.name as string);
    if (WITH_STATUS_SUBRESOURCE.has(t.info.name)) o.status = current.status;
    applyDefaults(t.info.name, o);
    validateObject(t.info, o);
    return this.store.update(t.info.name, o, { dryRun });
  }

  private patchType(contentType: string | undefined) {
    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    const type = PATCH_CONTENT_TYPES[mediaType];
    if (!type) {
      throw new StatusError(
        'UnsupportedMediaType',
        `the body of the request was in an unknown format${mediaType ? ` (${mediaType})` : ''} - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
    }
    return type;
  }

  /** Applies a patch to an object and checks the result is still the same object. */
  private patched(t: Target, current: KubeObject, contentType: string | undefined, text: string): KubeObject {
    const type = this.patchType(contentType);
    const next = applyPatch(type, current, this.parseJson(text, `${type} patch`));
    if (!isObj(next) || !isObj(next.metadata)) throw new StatusError('Invalid', `${t.info.kind} "${t.name}" is invalid: metadata: Required value`);
    const o = next as KubeObject;
    if (o.metadata.name !== current.metadata.name) throw new StatusError('Invalid', `${t.info.kind} "${t.name}" is invalid: metadata.name: Invalid value: ${JSON.stringify(o.metadata.name)}: field is immutable`);
    if ((o.metadata.namespace ?? undefined) !== (current.metadata.namespace ?? undefined)) throw new StatusError('Invalid', `${t.info.kind} "${t.name}" is invalid: metadata.namespace: field is immutable`);
    o.metadata.uid = current.metadata.uid;
    o.apiVersion = current.apiVersion;
    o.kind = current.kind;
    return o;
  }

  private patch(t: Target, contentType: string | undefined, text: string, dryRun: boolean): KubeObject {
    const current = this.store.mustGet(t.info.name, t.namespace, t.name as string);
    const o = this.patched(t, current, contentType, text);
    if (WITH_STATUS_SUBRESOURCE.has(t.info.name)) o.status = current.status;
    validateObject(t.info, o);
    return this.store.update(t.info.name, o, { dryRun });
  }

  /**
   * Server-side apply, simplified: the applied configuration is created, or strategic-merged into
   * the live object. Unlike a real API server it keeps no managedFields, so fields dropped from the
   * applied configuration stay, and there are no field-manager conflicts.
   */
  private apply(res: http.ServerResponse, t: Target, q: URLSearchParams, text: string, dryRun: boolean): { code: number; object: KubeObject } {
    const manager = q.get('fieldManager');
    if (!manager) throw new StatusError('Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    let body: unknown;
    try {
      body = parseYaml(text);
    } catch (err) {
      throw new StatusError('BadRequest', `error decoding YAML of the apply patch: ${(err as Error).message}`);
    }
    if (!isObj(body)) throw new StatusError('BadRequest', 'an apply patch must be a YAML or JSON object');
    if (body.apiVersion === undefined || body.kind === undefined) throw new StatusError('BadRequest', 'an apply patch must name its apiVersion and kind');
    this.checkTypeMeta(t, body);
    const meta = isObj(body.metadata) ? body.metadata : {};
    if (meta.name !== undefined && meta.name !== t.name) throw new StatusError('BadRequest', `the name of the object (${String(meta.name)}) does not match the name on the URL (${t.name})`);
    this.fieldValidation(res, t, q, body);
    const current = this.store.get(t.info.name, t.namespace, t.name as string);
    if (!current) return { code: 201, object: this.create(t, { ...body, metadata: { ...meta, name: t.name } }, dryRun) };
    const merged = strategicMergePatch(current, { ...body, metadata: { ...meta, resourceVersion: undefined } }) as KubeObject;
    merged.metadata.resourceVersion = current.metadata.resourceVersion;
    merged.metadata.uid = current.metadata.uid;
    if (WITH_STATUS_SUBRESOURCE.has(t.info.name)) merged.status = current.status;
    validateObject(t.info, merged);
    return { code: 200, object: this.store.update(t.info.name, merged, { dryRun }) };
  }

  private deleteOptions(q: URLSearchParams, body: Record<string, unknown>) {
    const policy = (body.propagationPolicy as string | undefined) ?? q.get('propagationPolicy') ?? undefined;
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw new StatusError('BadRequest', `invalid propagationPolicy "${policy}": use Orphan, Background or Foreground`);
    }
    const orphan = policy === 'Orphan' || body.orphanDependents === true || q.get('orphanDependents') === 'true';
    const pre = isObj(body.preconditions) ? body.preconditions : {};
    const bodyDryRun = Array.isArray(body.dryRun) && body.dryRun.includes('All');
    return { orphan, uid: pre.uid as string | undefined, resourceVersion: pre.resourceVersion as string | undefined, bodyDryRun };
  }

  private delete(t: Target, q: URLSearchParams, body: Record<string, unknown>, dryRun: boolean): unknown {
    const opts = this.deleteOptions(q, body);
    const current = this.store.mustGet(t.info.name, t.namespace, t.name as string);
    if (opts.uid !== undefined && opts.uid !== current.metadata.uid) {
      throw new StatusError('Conflict', `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${current.metadata.uid}`, { name: t.name, group: t.info.group, kind: t.info.name });
    }
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== current.metadata.resourceVersion) {
      throw new StatusError('Conflict', `Precondition failed: ResourceVersion in precondition: ${opts.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`, { name: t.name, group: t.info.group, kind: t.info.name });
    }
    const removed = this.removeCascading(t.info.name, current, dryRun || opts.bodyDryRun, opts.orphan);
    if (t.info.name === 'pods' || t.info.name === 'namespaces') {
      removed.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      return removed;
    }
    return success({ name: t.name, group: t.info.group, kind: t.info.name, uid: current.metadata.uid });
  }

  /** Deletes an object and, unless orphaning, what it owns (the garbage collector's job), and a namespace's contents. */
  private removeCascading(resource: ResourceName, obj: KubeObject, dryRun: boolean, orphan: boolean): KubeObject {
    const removed = this.store.delete(resource, obj.metadata.namespace, obj.metadata.name, { dryRun });
    if (dryRun) return removed;
    if (resource === 'namespaces') {
      for (const r of RESOURCES) {
        if (!r.namespaced) continue;
        for (const o of this.store.list(r.name, obj.metadata.name).items) this.tryDelete(r.name, o);
      }
    } else if (!orphan) {
      const uid = obj.metadata.uid;
      for (const r of RESOURCES) {
        if (!r.namespaced) continue;
        for (const o of this.store.list(r.name, obj.metadata.namespace).items) {
          if (o.metadata.ownerReferences?.some((ref) => ref.uid === uid)) {
            try {
              this.removeCascading(r.name, o, false, false);
            } catch {
              // already gone (a controller raced us)
            }
          }
        }
      }
    } else {
      const uid = obj.metadata.uid;
      for (const r of RESOURCES) {
        for (const o of this.store.list(r.name, obj.metadata.namespace).items) {
          if (!o.metadata.ownerReferences?.some((ref) => ref.uid === uid)) continue;
          try {
            this.store.mutate(r.name, o.metadata.namespace, o.metadata.name, (x) => {
              x.metadata.ownerReferences = x.metadata.ownerReferences?.filter((ref) => ref.uid !== uid);
            });
          } catch {
            // gone meanwhile
          }
        }
      }
    }
    return removed;
  }

  private tryDelete(resource: ResourceName, o: KubeObject): void {
    try {
      this.store.delete(resource, o.metadata.namespace, o.metadata.name);
    } catch {
      // already gone
    }
  }

  private deleteCollection(t: Target, q: URLSearchParams, dryRun: boolean): unknown {
    if (t.info.namespaced && t.namespace === undefined) throw methodNotAllowed();
    const match = this.selectors(t, q);
    const { items, resourceVersion } = this.store.list(t.info.name, t.namespace);
    const deleted = items.filter(match);
    for (const o of deleted) if (!dryRun) this.removeCascading(t.info.name, o, false, false);
    return { kind: `${t.info.kind}List`, apiVersion: groupVersion(t.info), metadata: { resourceVersion }, items: deleted };
  }

  /**
   * `kubectl auth whoami` and clients filling `by` of a decision: the sandbox authenticates nobody, so every caller
   * is its one user, SANDBOX_USER (the kubeconfig's token only keeps clients that insist on credentials happy).
   */
  private async selfSubjectReview(req: http.IncomingMessage, res: http.ServerResponse, method: string, t: Target): Promise<void> {
    if (method !== 'POST' || t.name !== undefined) {
      req.resume();
      throw methodNotAllowed();
    }
    // a SelfSubjectReview's request says nothing (kubectl auth whoami sends it as protobuf): only the caller counts
    await this.readBody(req);
    const userInfo = { username: SANDBOX_USER, groups: ['system:masters', 'system:authenticated'] };
    this.json(res, 201, { kind: 'SelfSubjectReview', apiVersion: groupVersion(t.info), metadata: { creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }, status: { userInfo } });
  }

  // ---------------------------------------------------------------- subresources

  private async subresource(req: http.IncomingMessage, res: http.ServerResponse, method: string, t: Target, q: URLSearchParams): Promise<void> {
    const dryRun = this.dryRun(q);
    switch (t.sub) {
      case 'status':
        return this.status(req, res, method, t, dryRun);
      case 'scale':
        return this.scale(req, res, method, t, dryRun);
      case 'log':
        if (method !== 'GET') throw methodNotAllowed();
        req.resume();
        return this.logs(res, t, q);
      case 'eviction':
        if (method !== 'POST') throw methodNotAllowed();
        return this.evict(res, t, this.decodeBody(req, await this.readBody(req), 'Eviction'), dryRun);
      case 'proxy':
        return this.proxy(req, res, method, t);
      default:
        throw notFoundPath();
    }
  }

  private async status(req: http.IncomingMessage, res: http.ServerResponse, method: string, t: Target, dryRun: boolean): Promise<void> {
    const name = t.name as string;
    if (method === 'GET') {
      req.resume();
      return this.json(res, 200, this.store.mustGet(t.info.name, t.namespace, name));
    }
    if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
    const raw = await this.readBody(req);
    const current = this.store.mustGet(t.info.name, t.namespace, name);
    const next = method === 'PUT' ? this.asObject(t, this.decodeBody(req, raw, `update ${t.info.name}/status`)) : this.patched(t, current, req.headers['content-type'], raw.toString('utf8'));
    if (method === 'PUT' && next.metadata.name !== undefined && next.metadata.name !== name) {
      throw new StatusError('BadRequest', `the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${name})`);
    }
    const o: KubeObject = { ...current, status: next.status };
    o.metadata = { ...current.metadata, resourceVersion: next.metadata.resourceVersion ?? current.metadata.resourceVersion };
    this.json(res, 200, this.store.update(t.info.name, o, { dryRun }));
  }

  private toScale(o: KubeObject): Record<string, unknown> {
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    const status = (o.status ?? {}) as Record<string, unknown>;
    const m = o.metadata;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: spec.replicas ?? 1 },
      status: { replicas: status.replicas ?? 0, selector: formatLabelSelector(spec.selector) },
    };
  }

  private async scale(req: http.IncomingMessage, res: http.ServerResponse, method: string, t: Target, dryRun: boolean): Promise<void> {
    const name = t.name as string;
    const current = this.store.mustGet(t.info.name, t.namespace, name);
    if (method === 'GET') {
      req.resume();
      return this.json(res, 200, this.toScale(current));
    }
    if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
    const text = (await this.readBody(req)).toString('utf8');
    const scale = this.toScale(current);
    let next: unknown;
    if (method === 'PUT') {
      next = this.parseJson(text, 'Scale');
      if (!isObj(next)) throw new StatusError('BadRequest', 'the body of a Scale request must be a JSON object');
      if (next.kind !== undefined && next.kind !== 'Scale') throw new StatusError('BadRequest', `the kind in the data (${String(next.kind)}) does not match the expected kind (Scale)`);
    } else {
      next = applyPatch(this.patchType(req.headers['content-type']), scale, this.parseJson(text, 'Scale patch'));
    }
    const n = next as { metadata?: { resourceVersion?: string; name?: string }; spec?: { replicas?: unknown } };
    if (n.metadata?.name !== undefined && n.metadata.name !== name) {
      throw new StatusError('BadRequest', `the name of the object (${n.metadata.name}) does not match the name on the URL (${name})`);
    }
    const replicas = n.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new StatusError('Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas ?? null)}: must be a whole number greater than or equal to 0`, {
        name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`, field: 'spec.replicas' }],
      });
    }
    const o: KubeObject = { ...current, spec: { ...((current.spec as Record<string, unknown>) ?? {}), replicas } };
    o.metadata = { ...current.metadata, resourceVersion: n.metadata?.resourceVersion || current.metadata.resourceVersion };
    this.json(res, 200, this.toScale(this.store.update(t.info.name, o, { dryRun })));
  }

  private logs(res: http.ServerResponse, t: Target, q: URLSearchParams): void {
    const name = t.name as string;
    const pod = this.store.mustGet('pods', t.namespace, name);
    const containers = (((pod.spec as Record<string, unknown>)?.containers as Array<{ name: string }>) ?? []).map((c) => c.name);
    const container = q.get('container') ?? undefined;
    if (container !== undefined && !containers.includes(container)) {
      throw new StatusError('BadRequest', `container ${container} is not valid for pod ${name}`);
    }
    if (container === undefined && containers.length > 1) {
      throw new StatusError('BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
    }
    const tail = q.get('tailLines');
    let tailLines: number | undefined;
    if (tail !== null) {
      tailLines = Number(tail);
      if (!Number.isInteger(tailLines) || tailLines < 0) throw new StatusError('BadRequest', `invalid tailLines "${tail}": must be a whole number`);
    }
    const follow = q.get('follow') === 'true' || q.get('follow') === '1';
    const open: { stream?: { lines: string[]; stop(): void }; podWatch?: { dispose(): void } } = {};
    const end = () => {
      open.stream?.stop();
      open.podWatch?.dispose();
      this.streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    const pending: string[] = [];
    let started = false;
    const previous = q.get('previous') === 'true' || q.get('previous') === '1';
    const stream = this.sim.podLogs(t.namespace as string, name, { tailLines, follow, previous, container: container ?? containers[0] }, (line) => {
      if (!started) pending.push(line);
      else if (!res.writableEnded) res.write(`${line}\n`);
    });
    if (!stream) throw new StatusError('NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    open.stream = stream;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', ...(follow ? { 'Transfer-Encoding': 'chunked' } : {}) });
    const backlog = tailLines !== undefined ? stream.lines.slice(Math.max(0, stream.lines.length - tailLines)) : stream.lines;
    if (backlog.length) res.write(backlog.map((l) => `${l}\n`).join(''));
    started = true;
    for (const l of pending) res.write(`${l}\n`);
    if (!follow) {
      stream.stop();
      res.end();
      return;
    }
    this.streams.add(end);
    // The stream ends when the pod goes away, as kubectl logs -f does when the container stops.
    open.podWatch = this.store.onChange((e) => {
      if (e.resource === 'pods' && e.type === 'DELETED' && e.object.metadata.name === name && e.object.metadata.namespace === t.namespace) end();
    });
    res.on('close', end);
  }

  private evict(res: http.ServerResponse, t: Target, body: unknown, dryRun: boolean): void {
    const name = t.name as string;
    if (!isObj(body)) throw new StatusError('BadRequest', 'the body of an eviction must be a policy/v1 Eviction object');
    if (body.kind !== undefined && body.kind !== 'Eviction') throw new StatusError('BadRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (Eviction)`);
    const meta = isObj(body.metadata) ? body.metadata : {};
    if (meta.name !== undefined && meta.name !== name) throw new StatusError('BadRequest', `name in URL does not match name in Eviction object`);
    const pod = this.store.mustGet('pods', t.namespace, name);
    const bodyDryRun = isObj(body.deleteOptions) && Array.isArray(body.deleteOptions.dryRun) && body.deleteOptions.dryRun.includes('All');
    const labels = pod.metadata.labels ?? {};
    const pdbs = this.store.list('poddisruptionbudgets', t.namespace).items.filter((p) => {
      const reqs = requirementsFromLabelSelector((p.spec as Record<string, unknown> | undefined)?.selector);
      return reqs !== undefined && reqs.length > 0 && matchesLabels(reqs, labels);
    });
    if (pdbs.length > 1) throw new StatusError('InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    if (pdbs.length === 1 && isHealthy(pod)) {
      const pdb = pdbs[0];
      const spec = (pdb.spec ?? {}) as Record<string, unknown>;
      const reqs = requirementsFromLabelSelector(spec.selector) ?? [];
      const covered = this.store.list('pods', t.namespace).items.filter((p) => matchesLabels(reqs, p.metadata.labels) && !p.metadata.deletionTimestamp);
      const expected = covered.length;
      const healthy = covered.filter(isHealthy).length;
      let desired = 0;
      if (spec.minAvailable !== undefined) desired = scaled(spec.minAvailable, expected);
      else if (spec.maxUnavailable !== undefined) desired = Math.max(0, expected - scaled(spec.maxUnavailable, expected));
      if (healthy - 1 < desired) {
        throw new StatusError('TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
          causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${desired} healthy pods and has ${healthy} currently` }],
        });
      }
    }
    if (!dryRun && !bodyDryRun) this.removeCascading('pods', pod, false, false);
    this.json(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }

  /**
   * The pod and service proxies: `/metrics` of a pod, and what the simulated service in the pod answers
   * (the shop's API, `/healthz`), after the time the pod takes. A service picks a ready pod matching its
   * selector in turn; with none it answers 503 as kube-proxy's API server path does.
   */
  private async proxy(req: http.IncomingMessage, res: http.ServerResponse, method: string, t: Target): Promise<void> {
    if (t.info.name !== 'pods' && t.info.name !== 'services') throw notFoundPath();
    const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? (await this.readBody(req)).toString('utf8') : '';
    if (!body) req.resume();
    // NAME, NAME:PORT or SCHEME:NAME:PORT, as kubectl and Prometheus address a pod or a service through the proxy.
    const parts = (t.name as string).split(':');
    const name = parts.length === 3 ? parts[1] : parts[0];
    const port = parts.length === 3 ? parts[2] : parts[1];
    const namespace = t.namespace as string;
    const pod = t.info.name === 'services' ? this.endpointOf(namespace, name, port) : this.store.mustGet('pods', namespace, name).metadata.name;
    if (t.info.name === 'pods' && t.subPath === 'metrics') {
      if (method !== 'GET') throw methodNotAllowed();
      const text = this.sim.podMetrics(namespace, pod);
      if (text === undefined) throw new StatusError('ServiceUnavailable', `pod ${pod} has no metrics endpoint (is it running?)`);
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const answer = this.sim.serveHttp(namespace, pod, { method, path: `/${t.subPath}`, body });
    if (!answer) throw new StatusError('NotFound', `pods "${pod}" not found`, { name: pod, kind: 'pods' });
    await new Promise((r) => setTimeout(r, Math.min(answer.delayMs, MAX_PROXY_DELAY_MS)));
    res.writeHead(answer.status, { 'Content-Type': answer.contentType, 'Content-Length': Buffer.byteLength(answer.body) });
    res.end(method === 'HEAD' ? undefined : answer.body);
  }

  /** A ready pod behind the service's port, in turn. */
  private endpointOf(namespace: string, name: string, port: string | undefined): string {
    const svc = this.store.mustGet('services', namespace, name);
    const spec = (svc.spec ?? {}) as { selector?: Record<string, string>; ports?: Array<{ name?: string; port: number }> };
    const ports = spec.ports ?? [];
    if (!(port === undefined ? ports.length > 0 : ports.some((p) => p.name === port || String(p.port) === port))) {
      throw new StatusError('ServiceUnavailable', `no endpoints available for service "${port === undefined ? name : `${name}:${port}`}"`);
    }
    const reqs = spec.selector ? (requirementsFromLabelSelector({ matchLabels: spec.selector }) ?? []) : undefined;
    const ready = reqs ? this.store.list('pods', namespace).items.filter((p) => matchesLabels(reqs, p.metadata.labels) && isHealthy(p)) : [];
    if (ready.length === 0) throw new StatusError('ServiceUnavailable', `no endpoints available for service "${name}"`);
    return ready[this.proxyTurn++ % ready.length].metadata.name;
  }
}

function isHealthy(pod: KubeObject): boolean {
  const status = (pod.status ?? {}) as { phase?: string; conditions?: Array<{ type: string; status: string }> };
  if (status.phase !== 'Running' || pod.metadata.deletionTimestamp) return false;
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  return ready ? ready.status === 'True' : true;
}

/** An IntOrString of a PDB (3 or "50%") against the expected pod count, rounding up as Kubernetes does. */
function scaled(v: unknown, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v));
  if (m) return Math.ceil((Number(m[1]) * total) / 100);
  const n = Number(v);
  if (Number.isInteger(n)) return n;
  throw new StatusError('Invalid', `invalid value "${String(v)}" in PodDisruptionBudget: must be an integer or a percentage`);
}

/** Server-side defaults that kubectl relies on being present. */
function applyDefaults(resource: ResourceName, o: KubeObject): void {
  if (resource === 'deployments' && isObj(o.spec)) {
    const spec = o.spec as Record<string, unknown>;
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    const strategy = isObj(spec.strategy) ? spec.strategy : {};
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') strategy.rollingUpdate = { maxSurge: '25%', maxUnavailable: '25%', ...(isObj(strategy.rollingUpdate) ? strategy.rollingUpdate : {}) };
    spec.strategy = strategy;
  }
  if (resource === 'replicasets' && isObj(o.spec)) (o.spec as Record<string, unknown>).replicas ??= 1;
  if (resource === 'statefulsets' && isObj(o.spec)) {
    const spec = o.spec as Record<string, unknown>;
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    spec.podManagementPolicy ??= 'OrderedReady';
    const strategy = isObj(spec.updateStrategy) ? spec.updateStrategy : {};
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') strategy.rollingUpdate = { partition: 0, ...(isObj(strategy.rollingUpdate) ? strategy.rollingUpdate : {}) };
    spec.updateStrategy = strategy;
  }
  if (resource === 'daemonsets' && isObj(o.spec)) {
    const spec = o.spec as Record<string, unknown>;
    spec.revisionHistoryLimit ??= 10;
    const strategy = isObj(spec.updateStrategy) ? spec.updateStrategy : {};
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') strategy.rollingUpdate = { maxUnavailable: 1, maxSurge: 0, ...(isObj(strategy.rollingUpdate) ? strategy.rollingUpdate : {}) };
    spec.updateStrategy = strategy;
  }
  if (resource === 'namespaces') {
    o.spec ??= { finalizers: ['kubernetes'] };
    o.status ??= { phase: 'Active' };
    o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
  }
  if (resource === 'events') {
    const e = o as Record<string, unknown>;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    e.count ??= 1;
    e.firstTimestamp ??= now;
    e.lastTimestamp ??= e.firstTimestamp;
    e.type ??= 'Normal';
  }
  if (resource === 'pods' && isObj(o.spec)) o.status ??= { phase: 'Pending' };
  if (resource === 'services' && isObj(o.spec)) {
    const spec = o.spec as Record<string, unknown>;
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    // a stable address from the name, in the default service CIDR
    const h = [...`${o.metadata.namespace}/${o.metadata.name}`].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7);
    spec.clusterIP ??= `10.96.${(h >>> 8) & 255}.${(h & 253) + 1}`;
    spec.clusterIPs ??= [spec.clusterIP];
    if (Array.isArray(spec.ports)) spec.ports = spec.ports.map((p: unknown) => (isObj(p) ? { protocol: 'TCP', targetPort: p.port, ...p } : p));
    o.status ??= { loadBalancer: {} };
  }
}
