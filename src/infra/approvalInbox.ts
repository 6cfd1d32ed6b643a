import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeAtomically } from './store/auditLog';

/** A decision a human took outside the running agent (`vigil approve`), picked up by the agent. */
export interface InboxDecision {
  readonly incidentId: string;
  readonly decision: 'approve' | 'reject';
  readonly by: string;
  readonly note?: string;
  readonly t: number;
  /** The step the human approved, as proposed when they looked; the agent refuses if the proposal changed since. */
  readonly stepId?: string;
}

/** Files in `<stateDir>/inbox/`: the CLI drops one, the agent applies it and removes it. */
export class ApprovalInbox {
  constructor(private readonly stateDir: string) {}

  private get dir(): string {
    return path.join(this.stateDir, 'inbox');
  }

  async submit(d: InboxDecision): Promise<string> {
    const file = path.join(this.dir, `${d.t}-${d.incidentId}-${d.decision}.json`);
    await writeAtomically(file, JSON.stringify(d));
    return file;
  }

  /** Takes every pending decision, oldest first; a malformed file is reported and removed. */
  async take(onBad: (file: string, problem: string) => void): Promise<InboxDecision[]> {
    let names: string[];
    try {
      names = (await fs.readdir(this.dir)).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return [];
    }
    const out: InboxDecision[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      try {
        const d = JSON.parse(await fs.readFile(file, 'utf8')) as InboxDecision;
        if (!d.incidentId || (d.decision !== 'approve' && d.decision !== 'reject')) throw new Error('not a decision');
        out.push(d);
      } catch (err) {
        onBad(file, (err as Error).message);
      }
      await fs.rm(file, { force: true });
    }
    return out;
  }
}
