import type { Diagnosis } from '../model/diagnosis';
import type { Playbook } from '../model/playbook';

/** Picks the playbook for a diagnosis: the most specific matching scope wins; user playbooks shadow built-ins of the same name. */
export function matchPlaybook(
  playbooks: ReadonlyArray<Playbook>,
  diagnosis: Pick<Diagnosis, 'kind' | 'target'>,
  labels: Readonly<Record<string, string>> = {},
): Playbook | undefined {
  const ns = diagnosis.target.namespace;
  const candidates = playbooks.filter((p) => {
    const t = p.trigger;
    if (t.diagnosis !== diagnosis.kind) return false;
    if (t.namespaces && t.namespaces.length > 0 && (!ns || !t.namespaces.includes(ns))) return false;
    if (t.labels && Object.entries(t.labels).some(([k, v]) => labels[k] !== v)) return false;
    return true;
  });
  const specificity = (p: Playbook) => (p.trigger.namespaces?.length ? 2 : 0) + (p.trigger.labels ? Object.keys(p.trigger.labels).length * 2 : 0) + (p.source?.startsWith('builtin:') ? 0 : 1);
  return [...candidates].sort((a, b) => specificity(b) - specificity(a) || a.name.localeCompare(b.name))[0];
}

/** Merges built-in and user playbooks: a user playbook with a built-in's name replaces it. */
export function mergePlaybooks(builtin: ReadonlyArray<Playbook>, user: ReadonlyArray<Playbook>): Playbook[] {
  const byName = new Map<string, Playbook>();
  for (const p of builtin) byName.set(p.name, p);
  for (const p of user) byName.set(p.name, p);
  return [...byName.values()];
}
