import axios, { type AxiosInstance } from 'axios';
import { describeAction } from '../../core/model/action';
import { DIAGNOSIS_TITLES } from '../../core/model/diagnosis';
import type { EscalationContext, Incident } from '../../core/model/incident';
import { targetLabel } from '../../core/model/target';
import { describeProbeRun, type ProbeRun } from '../../core/observe/probeSpec';
import type { LoggerPort, NotifierPort } from '../../core/ports';

export interface WebhookSettings {
  /** Slack incoming-webhook URL (a secret: from env or SecretStorage, never logged). */
  readonly slackWebhookUrl?: string;
  /** PagerDuty Events v2 routing key (a secret). */
  readonly pagerDutyRoutingKey?: string;
  /** Events v2 endpoint; overridable for tests and EU accounts. */
  readonly pagerDutyUrl?: string;
  readonly timeoutMs?: number;
}

const DEFAULT_PD_URL = 'https://events.pagerduty.com/v2/enqueue';

/**
 * Escalations to Slack and PagerDuty Events v2. A webhook that fails is logged (without its URL or key)
 * and never breaks the loop; the UI still has the escalation.
 */
export class WebhookNotifier implements NotifierPort {
  private readonly http: AxiosInstance;

  constructor(
    private readonly settings: WebhookSettings,
    private readonly logger: LoggerPort,
  ) {
    this.http = axios.create({ timeout: settings.timeoutMs ?? 10_000, headers: { 'Content-Type': 'application/json' } });
  }

  get enabled(): boolean {
    return Boolean(this.settings.slackWebhookUrl || this.settings.pagerDutyRoutingKey);
  }

  async escalate(c: EscalationContext): Promise<void> {
    const title = `${c.diagnosis ? DIAGNOSIS_TITLES[c.diagnosis.kind] : 'incident'} on ${targetLabel(c.target)} needs a human`;
    const tried = c.actionsTried.map((a) => `• ${describeAction(a.action)} → ${a.error ? `failed: ${a.error}` : (a.verdict?.summary ?? a.result?.summary ?? 'no verdict')}`);
    const probes = latestPerProbe(c.recentProbes).map(describeProbeRun);
    const text = [`:rotating_light: *Vigil: ${title}*`, c.reason, c.diagnosis ? `Diagnosis: ${c.diagnosis.summary} (confidence ${Math.round(c.diagnosis.confidence * 100)}%)` : '', tried.length ? `Tried:\n${tried.join('\n')}` : 'Nothing was tried automatically.', probes.length ? `Probes: ${probes.join('; ')}` : '', `Incident: ${c.incidentId}`].filter(Boolean).join('\n');
    await Promise.all([
      this.slack(text),
      this.pagerDuty({
        event_action: 'trigger',
        dedup_key: c.incidentId,
        payload: {
          summary: `Vigil: ${title}: ${c.reason}`.slice(0, 1024),
          source: targetLabel(c.target),
          severity: 'critical',
          component: c.target.name,
          group: c.target.namespace,
          class: c.diagnosis?.kind ?? 'unknown',
          custom_details: { reason: c.reason, diagnosis: c.diagnosis?.summary, actions_tried: tried, recent_events: c.recentFacts.slice(-10).map((f) => `${new Date(f.t).toISOString()} ${f.reason ?? f.kind}: ${f.message}`), recent_logs: c.recentLogs.slice(-10).map((l) => l.text), recent_probes: c.recentProbes.slice(-10).map((r) => `${new Date(r.t).toISOString()} ${describeProbeRun(r)}`) },
        },
      }),
    ]);
  }

  async approvalNeeded(incident: Incident, stepId: string, summary: string): Promise<void> {
    await this.slack(`:hand: *Vigil needs an approval* (${incident.id}, step ${stepId})\n${summary}\nApprove in the Vigil sidebar or with \`vigil approve ${incident.id}\`.`);
  }

  async resolved(incident: Incident): Promise<void> {
    await Promise.all([
      this.slack(`:white_check_mark: *Vigil recovered ${targetLabel(incident.target)}* (${incident.id})${incident.outcome?.recoveredBy ? ` by step ${incident.outcome.recoveredBy}` : ''}`),
      this.pagerDuty({ event_action: 'resolve', dedup_key: incident.id }),
    ]);
  }

  private async slack(text: string): Promise<void> {
    if (!this.settings.slackWebhookUrl) return;
    try {
      await this.http.post(this.settings.slackWebhookUrl, { text });
    } catch (err) {
      this.logger.log('warn', `Slack webhook failed: ${describeHttpError(err)} (check the incoming-webhook URL)`);
    }
  }

  private async pagerDuty(body: Record<string, unknown>): Promise<void> {
    if (!this.settings.pagerDutyRoutingKey) return;
    try {
      await this.http.post(this.settings.pagerDutyUrl ?? DEFAULT_PD_URL, { routing_key: this.settings.pagerDutyRoutingKey, ...body });
    } catch (err) {
      this.logger.log('warn', `PagerDuty Events v2 failed: ${describeHttpError(err)} (check the routing key)`);
    }
  }
}

/** Fans out to several notifiers; one failing does not stop the others. */
/** Status and a short reason, never the URL (it holds the secret). */
function describeHttpError(err: unknown): string {
  const e = err as { response?: { status?: number }; code?: string; message?: string };
  if (e.response?.status) return `HTTP ${e.response.status}`;
  return e.code ?? 'request failed';
}

/** The newest run of each probe, in the order the probes last ran. */
function latestPerProbe(runs: ReadonlyArray<ProbeRun>): ProbeRun[] {
  const byName = new Map<string, ProbeRun>();
  for (const r of runs) {
    byName.delete(r.name);
    byName.set(r.name, r);
  }
  return [...byName.values()];
}
