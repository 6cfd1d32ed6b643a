/**
 * While Vigil remediates an incident, the alerts attached to it as evidence are silenced in Alertmanager, so the
 * on-call is not paged for what is already being fixed. One silence per alert, with exact matchers on its labels,
 * author `vigil`, a comment naming the incident, ending at now + the step's verify timeout + 5 min and renewed while
 * the step runs, so the silence of an agent that died lapses by itself. Expired when the incident is verified,
 * escalated or closed. Only silences made here are ever touched. Failures are logged and reported, never thrown.
 */
import { silenceMatchers, type FiringAlert } from '../model/alert';
import { type Incident } from '../model/incident';
import type { Playbook } from '../model/playbook';
import { targetLabel } from '../model/target';
import type { ClockPort, Disposable, LoggerPort, SilencesPort } from '../ports';

export const SILENCE_MARGIN_MS = 5 * 60_000;
const DEFAULT_VERIFY_TIMEOUT_MS = 5 * 60_000;

export interface RemediationSilencesDeps {
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  readonly silences: SilencesPort;
  readonly playbooks: () => ReadonlyArray<Playbook>;
  /** How often the silences of running steps are extended (default 1 min). */
  readonly renewEveryMs?: number;
}

interface Held {
  incident: Incident;
  /** Alert fingerprint → silence id. */
  readonly ids: Map<string, string>;
}

export class RemediationSilences implements Disposable {
  private readonly held = new Map<string, Held>();
  private timer: Disposable | undefined;
  private chain: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(private readonly deps: RemediationSilencesDeps) {}

  /** Silence ids Vigil holds per incident (the sidebar and tests). */
  silencesOf(incidentId: string): ReadonlyArray<string> {
    return [...(this.held.get(incidentId)?.ids.values() ?? [])];
  }

  /** Feed every incident change; work is serialised so two changes of one incident never race. */
  onIncident(i: Incident): Promise<void> {
    this.chain = this.chain.then(() => this.apply(i)).catch((err: Error) => this.deps.logger.log('warn', `silences of ${i.id}: ${err.message}`));
    return this.chain;
  }

  /** Resolves when every change fed so far has been applied. */
  settled(): Promise<void> {
    return this.chain;
  }

  dispose(): void {
    this.disposed = true;
    this.timer?.dispose();
  }

  private async apply(i: Incident): Promise<void> {
    if (this.disposed) return;
    const remediating = i.state === 'acting' || i.state === 'verifying';
    const held = this.held.get(i.id);
    if (!remediating) {
      if (held && i.state !== 'awaiting-approval' && i.state !== 'diagnosed') await this.expireAll(i, held);
      return;
    }
    const alerts = alertsOf(i);
    if (!alerts.length && !held) return;
    const h = held ?? { incident: i, ids: new Map<string, string>() };
    h.incident = i;
    this.held.set(i.id, h);
    for (const a of alerts) if (!h.ids.has(a.fingerprint)) await this.upsert(h, a);
    this.armRenewal();
  }

  private async upsert(h: Held, alert: FiringAlert): Promise<void> {
    const now = this.deps.clock.now();
    const i = h.incident;
    const endsAt = now + verifyTimeoutMs(i, this.deps.playbooks()) + SILENCE_MARGIN_MS;
    const prev = h.ids.get(alert.fingerprint);
    try {
      const id = await this.deps.silences.upsert({
        ...(prev ? { id: prev } : {}),
        matchers: silenceMatchers(alert),
        startsAt: now,
        endsAt,
        comment: `Vigil is remediating incident ${i.id} (${i.diagnosis?.summary ?? targetLabel(i.target)}); expires when it is verified or escalated`,
      });
      h.ids.set(alert.fingerprint, id);
      if (!prev) this.deps.logger.log('info', `SILENCED alert ${alert.name} while remediating ${i.id} (silence ${id}, until ${new Date(endsAt).toISOString()})`, { incident: i.id, silence: id });
    } catch (err) {
      this.deps.logger.log('warn', `could not ${prev ? 'extend' : 'create'} a silence for alert ${alert.name} of ${i.id}: ${(err as Error).message}`, { incident: i.id });
    }
  }

  private async expireAll(i: Incident, h: Held): Promise<void> {
    this.held.delete(i.id);
    for (const id of h.ids.values()) {
      try {
        const expired = await this.deps.silences.expire(id);
        this.deps.logger.log('info', `${expired ? 'EXPIRED' : 'left alone'} silence ${id} of ${i.id} (${i.state})`, { incident: i.id, silence: id });
      } catch (err) {
        this.deps.logger.log('warn', `could not expire silence ${id} of ${i.id}: ${(err as Error).message}; it lapses by itself`, { incident: i.id, silence: id });
      }
    }
  }

  private armRenewal(): void {
    if (this.timer || this.disposed) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.disposed || this.held.size === 0) return;
      this.chain = this.chain.then(async () => {
        for (const h of [...this.held.values()]) if (h.incident.state === 'acting' || h.incident.state === 'verifying') for (const a of alertsOf(h.incident)) if (h.ids.has(a.fingerprint)) await this.upsert(h, a);
      });
      void this.chain.finally(() => this.armRenewal());
    }, this.deps.renewEveryMs ?? 60_000);
  }
}

/** The alerts attached to an incident as evidence, one per fingerprint. */
export function alertsOf(i: Incident): FiringAlert[] {
  const out = new Map<string, FiringAlert>();
  for (const e of i.diagnosis?.evidence ?? []) if (e.kind === 'alert') out.set(e.alert.fingerprint, e.alert);
  return [...out.values()];
}

/** The verify timeout of the step in progress; 5 min when the playbook is not known. */
function verifyTimeoutMs(i: Incident, playbooks: ReadonlyArray<Playbook>): number {
  const step = playbooks.find((p) => p.name === i.playbook)?.steps[i.stepIndex];
  return step ? step.verify.timeoutSeconds * 1000 : DEFAULT_VERIFY_TIMEOUT_MS;
}
