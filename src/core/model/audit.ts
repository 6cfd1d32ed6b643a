/** One line of the hash-chained audit log (JSONL). */
export interface AuditEntry {
  /** 1-based position in the log. */
  readonly seq: number;
  readonly t: number;
  /** Who: 'vigil-agent@host', 'user:alice (vscode)'. */
  readonly actor: string;
  readonly kind: 'action' | 'dry-run' | 'approval' | 'rejection' | 'escalation' | 'threshold-change' | 'lease' | 'automation' | 'feedback' | 'model-retrain' | 'resolution' | 'decision';
  readonly incidentId?: string;
  /** kind/namespace/name the entry is about. */
  readonly object?: string;
  readonly summary: string;
  readonly detail?: unknown;
  /** sha256 of the previous entry's canonical form; 64 zeros for the first. */
  readonly prevHash: string;
  /** sha256 over the canonical JSON of every field above plus prevHash. */
  readonly hash: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  /** 1-based line of the first entry that does not verify. */
  readonly firstBadLine?: number;
  readonly problem?: string;
}
