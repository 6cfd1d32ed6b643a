import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import * as vscode from 'vscode';
import type { AutomationMode } from '../core/model/automation';
import type { Incident } from '../core/model/incident';
import { targetLabel } from '../core/model/target';
import type { LoggerPort } from '../core/ports';
import { withSettings, type VigilSettings } from '../core/settings';
import type { ClusterConsole } from './clusterConsole';
import { kubeconfigContexts } from './connectionHelp';
import { COMMAND, SECRET, SETTING } from './ids';
import { makeNonce } from './copilotView';
import { IncidentPanel, type RoomActions } from './incidentPanel';
import { WINDOW_IDENTITY, type VigilSession } from './session';
import { currentVigilSettings } from './settingsReader';

/** The `vigil.automation.mode` setting, validated (a bad value is the default). */
export function automationMode(): AutomationMode {
  return currentVigilSettings().settings.automation.mode;
}

export function humanIdentity(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry in some containers
  }
  return `user:${user} (vscode)`;
}

/** Every command of the extension. Heavy modules load inside the handlers, never at activation. */
export function registerCommands(context: vscode.ExtensionContext, session: VigilSession, logger: LoggerPort, activatedAt: number, clusterConsole: ClusterConsole): void {
  const storage = (name: string): string => {
    const base = context.globalStorageUri?.fsPath ?? path.join(os.tmpdir(), 'vigil-vscode');
    return path.join(base, name);
  };
  const requireCore = () => {
    if (!session.core || !session.connected) throw new UserError('Vigil is not connected. Run "Vigil: Start Sandbox Cluster" or "Vigil: Connect to Cluster" first.');
    return session.core;
  };
  const pickIncident = async (arg: unknown, placeHolder: string, filter: (i: Incident) => boolean = () => true): Promise<Incident | undefined> => {
    if (arg && typeof arg === 'object' && 'id' in arg && 'timeline' in arg) return session.incidents().find((i) => i.id === (arg as Incident).id) ?? (arg as Incident);
    // an incident id (a notification's Show, the sidebar card's Open)
    if (typeof arg === 'string') {
      const known = session.incidents().find((i) => i.id === arg);
      if (!known) throw new UserError(`No incident ${arg} is known to this window.`);
      return known;
    }
    const candidates = session.incidents().filter(filter).sort((a, b) => b.openedAt - a.openedAt);
    if (!candidates.length) {
      void vscode.window.showInformationMessage(`Vigil: no incidents to choose from${session.connected ? '' : ' (not connected)'}.`);
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      candidates.map((i) => ({ label: `${i.diagnosis ? i.diagnosis.kind : 'anomaly'} — ${targetLabel(i.target)}`, description: `${i.outcome?.kind ?? i.state}`, detail: i.id, incident: i })),
      // the sidebar and the room redraw at every scrape: the pick stays open until the on-call chooses or presses Escape
      { placeHolder, ignoreFocusOut: true },
    );
    return picked?.incident;
  };
  const showDocument = async (content: string, language: string) => {
    const doc = await vscode.workspace.openTextDocument({ content, language });
    await vscode.window.showTextDocument(doc, { preview: false });
  };

  const room: RoomActions = {
    room: (id, mode) => session.room(id, mode),
    approve: (id, stepId) => session.approve(id, humanIdentity(), stepId),
    reject: (id) => session.reject(id, humanIdentity()),
    snooze: (id, minutes) => session.snooze(id, humanIdentity(), minutes),
  };

  let heapSnapshotWritten = false;
  const handlers: Record<string, (...args: unknown[]) => Promise<unknown>> = {
    [COMMAND.startSandbox]: async () => {
      await clusterConsole.stop();
      const dir = storage('sandbox');
      await fs.mkdir(dir, { recursive: true });
      // the bundled CLI next to this extension's own bundle: `node dist/cli.js sandbox …`
      const command = { program: process.execPath, args: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath] };
      const sandbox = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Vigil: starting the sandbox cluster…' }, () => session.startSandbox(dir, command));
      void vscode.window.showInformationMessage(`Vigil: sandbox cluster started at ${sandbox.apiServer} and connected (${automationMode()} mode). Kubeconfig: ${sandbox.kubeconfig}`);
    },
    [COMMAND.connectCluster]: async () => {
      const config = vscode.workspace.getConfiguration(SETTING.section);
      const configured = config.get<string>(SETTING.kubernetesKubeconfig, '');
      const file = configured || (process.env.KUBECONFIG ?? '').split(path.delimiter).find((p) => p) || path.join(os.homedir(), '.kube', 'config');
      if (!existsSync(file)) throw new UserError(`No kubeconfig at ${file}. Set "vigil.kubernetes.kubeconfig" or KUBECONFIG, or run "Vigil: Start Sandbox Cluster".`);
      const YAML = await import('yaml');
      let parsed: unknown;
      try {
        parsed = YAML.parse(await fs.readFile(file, 'utf8'));
      } catch (err) {
        throw new UserError(`${file} is not a readable kubeconfig: ${(err as Error).message}`);
      }
      const { contexts, current } = kubeconfigContexts(parsed);
      if (!contexts.length) throw new UserError(`${file} has no contexts. Add one with \`kubectl config set-context\`.`);
      const picked = await vscode.window.showQuickPick(
        contexts.map((c) => ({ label: c, description: c === current ? 'current context' : undefined })),
        { placeHolder: `Kubeconfig context to connect to (from ${file})` },
      );
      if (!picked) return;
      // remembered for next time; a settings file VS Code cannot write (it says why) does not stop the connection
      await Promise.resolve(config.update(SETTING.kubernetesContext, picked.label, vscode.ConfigurationTarget.Global)).catch((e: Error) => logger.log('warn', `could not remember context ${picked.label} in vigil.kubernetes.context: ${e.message}`));
      // an agent in the cluster: watch it (no local loop) or run one here; the window's own loop (vscode@host) is not an agent
      const inCluster = { leaseName: currentVigilSettings().settings.safety.leaseName, ownIdentity: WINDOW_IDENTITY, stopLocal: () => session.disconnect() };
      const offered = await clusterConsole.offer({ kubeconfig: file, context: picked.label }, inCluster);
      if (offered === 'handled') return;
      if (offered === 'no-agent' && clusterConsole.active) {
        // a local loop replaces the console: say so, as the SRE watching other clusters may not want that
        const watched = clusterConsole.contexts().join(', ');
        const choice = await vscode.window.showWarningMessage(`Vigil: no in-cluster agent to watch in ${picked.label} (${clusterConsole.lastDetail}). Run a local loop there instead? It stops watching ${watched}.`, 'Run a local loop');
        if (!choice) return;
      }
      await clusterConsole.stop();
      const prometheusToken = (await context.secrets.get(SECRET.prometheusToken)) || undefined;
      const dir = storage(`cluster-${picked.label.replace(/[^\w.-]+/g, '_')}`);
      await fs.mkdir(dir, { recursive: true });
      const forCluster = (s: VigilSettings) => withSettings(s, { kubernetes: { kubeconfig: file, context: picked.label }, agent: { stateDir: dir } });
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Vigil: connecting to ${picked.label}…` }, () =>
        session.connect({ forConnection: forCluster, prometheusToken, label: `context ${picked.label}` }),
      );
      void vscode.window.showInformationMessage(`Vigil: connected to ${picked.label}.`);
    },
    [COMMAND.setPrometheusUrl]: async () => {
      const config = vscode.workspace.getConfiguration(SETTING.section);
      const url = await vscode.window.showInputBox({
        prompt: 'Base URL of the Prometheus HTTP API (empty: scrape annotated pods directly)',
        value: config.get<string>(SETTING.prometheusUrl, ''),
        placeHolder: 'http://prometheus.monitoring:9090',
        validateInput: (v) => (v === '' || /^https?:\/\/[^\s]+$/.test(v) ? undefined : 'Enter an http:// or https:// URL, or leave it empty.'),
      });
      if (url === undefined) return;
      const token = await vscode.window.showInputBox({ prompt: 'Bearer token for Prometheus (optional; kept in SecretStorage). Leave empty for none.', password: true });
      if (token === undefined) return;
      await config.update(SETTING.prometheusUrl, url.replace(/\/+$/, ''), vscode.ConfigurationTarget.Global);
      if (token) await context.secrets.store(SECRET.prometheusToken, token);
      else await context.secrets.delete(SECRET.prometheusToken);
      void vscode.window.showInformationMessage(`Vigil: Prometheus ${url ? `set to ${url}${token ? ' (token saved in SecretStorage)' : ''}` : 'cleared; pods are scraped directly'}.${session.connected ? ' Reconnect to use it.' : ''}`);
    },
    [COMMAND.disconnect]: async (arg) => {
      // one cluster of the console: its node's inline action, or picked when several are watched
      const contexts = clusterConsole.contexts();
      const node = arg && typeof arg === 'object' && 'cluster' in arg && 'incidents' in arg ? String((arg as { cluster: unknown }).cluster) : undefined;
      let one = node;
      if (!one && contexts.length > 1) {
        const all = `All ${contexts.length} clusters`;
        const picked = await vscode.window.showQuickPick([...contexts, all], { placeHolder: 'Stop watching the in-cluster agent of' });
        if (!picked) return;
        if (picked !== all) one = picked;
      }
      if (one) {
        await clusterConsole.stop(one);
        void vscode.window.showInformationMessage(`Vigil: stopped watching ${one}${clusterConsole.active ? `; still watching ${clusterConsole.contexts().join(', ')}` : ''}.`);
        return;
      }
      await clusterConsole.stop();
      await session.shutdown();
      await session.disconnect();
    },
    [COMMAND.pauseAutomation]: async () => {
      requireCore();
      await session.setPaused(true, humanIdentity());
      void vscode.window.showInformationMessage('Vigil: automation paused. Detection continues; nothing is proposed or run until you resume.');
    },
    [COMMAND.resumeAutomation]: async () => {
      requireCore();
      await session.setPaused(false, humanIdentity());
      void vscode.window.showInformationMessage('Vigil: automation resumed.');
    },
    [COMMAND.runChaosExperiment]: async () => {
      const sandbox = session.sandbox;
      if (!sandbox) throw new UserError('Chaos experiments run on the sandbox only. Run "Vigil: Start Sandbox Cluster" first.');
      const fault = await vscode.window.showQuickPick(await sandbox.faultKinds(), { placeHolder: 'Fault to inject into the sandbox', ignoreFocusOut: true });
      if (!fault) return;
      const inv = await requireCore().call('inventory');
      const targets = fault === 'node-failure' ? inv.nodes.map((n) => n.name) : inv.services.map((s) => `${s.target.namespace}/${s.target.name}`);
      const target = await vscode.window.showQuickPick(targets.sort(), { placeHolder: `Target of ${fault}`, ignoreFocusOut: true });
      if (!target) return;
      await sandbox.injectFault(fault, target, 600).catch((err: Error) => {
        throw new UserError(err.message);
      });
      logger.log('info', `chaos: ${fault} injected on ${target}`);
      void vscode.window.showInformationMessage(`Vigil: ${fault} injected on ${target} for 10 minutes. Watch the Copilot view.`);
    },
    [COMMAND.showAuditLog]: async () => {
      const entries = await requireCore().call('readAudit');
      await showDocument(entries.map((e) => JSON.stringify(e)).join('\n') || '// the audit log is empty', 'jsonl');
    },
    [COMMAND.verifyAuditLog]: async () => {
      const v = await requireCore().call('verifyAudit');
      if (v.ok) void vscode.window.showInformationMessage(`Vigil: the audit log verifies: ${v.entries} entries, hash chain intact.`);
      else void vscode.window.showErrorMessage(`Vigil: the audit log does NOT verify at line ${v.firstBadLine}: ${v.problem}`);
    },
    [COMMAND.retrainModel]: async () => {
      const core = requireCore();
      const { records, skipped } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Vigil: retraining the per-service models' }, () => core.call('retrainModel'));
      for (const r of records) logger.log('info', `retrain ${r.service}: kept the ${r.kept} model; ${r.reason}`);
      const kept = records.filter((r) => r.kept === 'new').length;
      void vscode.window.showInformationMessage(
        records.length
          ? `Vigil: retrained ${records.length} service model(s): ${kept} replaced by a better one, ${records.length - kept} kept (the new one was worse on held-out recent data)${skipped.length ? `; ${skipped.length} skipped, too little normal data yet` : ''}. Details in the audit log.`
          : `Vigil: nothing retrained; ${skipped.length ? `${skipped.length} service(s) have too little normal data yet` : 'no service has a model yet'} (a model needs a few hundred normal windows first).`,
      );
    },
    [COMMAND.openIncident]: async (arg) => {
      const inCluster = clusterConsole.active ? clusterConsole.find(arg) : undefined;
      if (inCluster) return clusterConsole.showResource(inCluster);
      const picked = await pickIncident(arg, 'Incident to open');
      if (picked) IncidentPanel.show(context.extensionUri, picked.id, 'live', room, logger);
    },
    [COMMAND.replayIncident]: async (arg) => {
      // replay is the incident room with a time scrubber and the what-if
      const picked = await pickIncident(arg, 'Incident to replay');
      if (picked) IncidentPanel.show(context.extensionUri, picked.id, 'recorded', room, logger);
    },
    [COMMAND.showReliabilityReport]: async () => {
      const core = requireCore();
      const { reportHtml } = await import('../core/learn/reportRendering');
      const now = Date.now();
      // computed where the loop runs: it reads every incident file of the state directory
      const report = await core.call('report', now - 30 * 86_400_000, now);
      // the same self-contained HTML as `vigil report --format html`: no script, one nonce'd style
      const panel = vscode.window.createWebviewPanel('vigil.report', 'Vigil reliability report', vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
      panel.webview.html = reportHtml(report, { nonce: makeNonce() });
      logger.log('info', `reliability report: ${report.incidents.length} incidents, MTTR median ${report.mttr.median ?? '—'} ms`);
    },
    [COMMAND.approveRemediation]: async (arg) => {
      if (clusterConsole.active) return clusterConsole.decideFromCommand(arg, 'approve');
      const i = await pickIncident(arg, 'Remediation to approve', (x) => x.state === 'awaiting-approval');
      if (i) await session.approve(i.id, humanIdentity());
    },
    [COMMAND.rejectRemediation]: async (arg) => {
      if (clusterConsole.active) return clusterConsole.decideFromCommand(arg, 'reject');
      const i = await pickIncident(arg, 'Remediation to reject', (x) => x.state === 'awaiting-approval');
      if (!i) return;
      await session.reject(i.id, humanIdentity());
      void vscode.window.showInformationMessage(`Vigil: rejected; ${i.id} is labelled and nothing was changed.`);
    },
    [COMMAND.markFalseAlarm]: async (arg) => {
      const i = await pickIncident(arg, 'Incident to label a false alarm');
      if (!i) return;
      await requireCore().call('label', i.id, 'false-alarm', humanIdentity());
      void vscode.window.showInformationMessage(`Vigil: ${i.id} labelled a false alarm; detectors learn from it.`);
    },
    [COMMAND.markReal]: async (arg) => {
      const i = await pickIncident(arg, 'Incident to label real');
      if (!i) return;
      await requireCore().call('label', i.id, 'real', humanIdentity());
      void vscode.window.showInformationMessage(`Vigil: ${i.id} labelled real.`);
    },
    [COMMAND.exportIncident]: async (arg) => {
      const picked = await pickIncident(arg, 'Incident to export');
      const i = picked && ((await session.fullIncident(picked.id)) ?? picked);
      if (!i) return;
      const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(os.homedir(), `${i.id}.json`)), filters: { JSON: ['json'] } });
      if (!target) return;
      await fs.writeFile(target.fsPath, `${JSON.stringify(i, null, 1)}\n`);
      void vscode.window.showInformationMessage(`Vigil: exported ${i.id} to ${target.fsPath}; replay it anywhere with \`vigil replay ${target.fsPath}\`.`);
    },
    [COMMAND.openAuditEntries]: async (arg) => {
      const i = await pickIncident(arg, 'Incident whose audit entries to show');
      if (!i) return;
      const entries = await requireCore().call('readAudit', i.id);
      await showDocument(entries.map((e) => JSON.stringify(e)).join('\n') || `// no audit entries for ${i.id}`, 'jsonl');
    },
    [COMMAND.debugStats]: async () => {
      const m = process.memoryUsage();
      const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
      const sandboxRss = session.sandbox?.pid ? await processRssBytes(session.sandbox.pid) : undefined;
      // what the rss is made of: V8's heap (with its compiled code), anonymous memory outside it (wasm, malloc), mapped files
      const own = await fs.readFile('/proc/self/status', 'utf8').catch(() => '');
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(own)?.[1] ?? NaN) * 1024;
      const spaces = getHeapSpaceStatistics();
      const code = spaces.find((sp) => sp.space_name === 'code_space')?.space_used_size ?? 0;
      // the young generation grows its semi-spaces with the allocation rate: committed heap the host keeps, mostly empty
      const young = spaces.find((sp) => sp.space_name === 'new_space');
      const parts = own ? ` (anonymous ${mb(kb('RssAnon'))}, files ${mb(kb('RssFile'))})` : '';
      // the healing loop and the model run in processes of their own: their rss is stated beside the host's, never hidden
      const loop = session.connected ? await session.core?.call('stats').catch((e: Error) => e) : undefined;
      const modelRss = loop && !(loop instanceof Error) && loop.modelPid ? await processRssBytes(loop.modelPid) : undefined;
      const loopText = !loop
        ? 'healing loop not running'
        : loop instanceof Error
          ? `healing loop not answering (${loop.message})`
          : `healing loop process (pid ${loop.pid}) rss ${mb(loop.rssBytes)}, heap used ${mb(loop.heapUsedBytes)} of ${mb(loop.heapTotalBytes)}, ${loop.model}${modelRss !== undefined ? ` rss ${mb(modelRss)}` : ''}`;
      const consolePid = clusterConsole.pid;
      const consoleRss = consolePid ? await processRssBytes(consolePid) : undefined;
      const consoleText = consoleRss !== undefined ? `; console process (pid ${consolePid}, ${clusterConsole.contexts().length} cluster(s) watched) rss ${mb(consoleRss)}` : '';
      const text = `Vigil stats: rss ${mb(m.rss)}${parts}, heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)} (code ${mb(code)}${young ? `, young generation ${mb(young.space_used_size)} used of ${mb(young.space_size)}` : ''}), external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)}), up ${Math.round((Date.now() - activatedAt) / 1000)} s, ${session.history.size()} services, ${session.incidents().length} incidents; ${loopText}${sandboxRss !== undefined ? `; sandbox process rss ${mb(sandboxRss)}` : ''}${consoleText}`;
      logger.log('info', text);
      void vscode.window.showInformationMessage(text);
      // where the memory goes: one heap snapshot of the extension host, on request only, after the figures above were
      // read (writing it blocks the host for seconds and leaves its rss inflated): VIGIL_HEAP_SNAPSHOT_DIR, and
      // VIGIL_HEAP_SNAPSHOT_AFTER_S to take it at the first Debug Stats that late after activation (issue 18)
      const snapshotDir = process.env.VIGIL_HEAP_SNAPSHOT_DIR;
      if (snapshotDir && !heapSnapshotWritten && Date.now() - activatedAt >= Number(process.env.VIGIL_HEAP_SNAPSHOT_AFTER_S ?? 0) * 1000) {
        heapSnapshotWritten = true;
        const { writeHeapSnapshot } = await import('node:v8');
        logger.log('info', `heap snapshot written to ${writeHeapSnapshot(path.join(snapshotDir, `vigil-exthost-${Date.now()}.heapsnapshot`))}`);
      }
      return { ...m, uptimeMs: Date.now() - activatedAt, ...(loop && !(loop instanceof Error) ? { loopRss: loop.rssBytes } : {}) };
    },
  };

  for (const [id, handler] of Object.entries(handlers)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (err) {
          const message = (err as Error).message;
          logger.log(err instanceof UserError ? 'warn' : 'error', `${id} failed: ${message}`);
          void vscode.window.showErrorMessage(`Vigil: ${message}`);
          return undefined;
        }
      }),
    );
  }
}

/** Resident memory of another process (Linux /proc); undefined elsewhere. */
async function processRssBytes(pid: number): Promise<number | undefined> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : undefined;
}

/** A failure the user can fix; shown as-is. */
class UserError extends Error {}
