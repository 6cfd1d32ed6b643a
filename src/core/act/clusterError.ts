/**
 * A failed cluster call, classified so the executor knows whether a retry is safe and useful.
 * Adapters throw it; core decides.
 */
export class ClusterError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 for a network failure / timeout. */
    readonly status: number,
    /** Kubernetes Status reason where there is one (Conflict, NotFound, TooManyRequests, Forbidden). */
    readonly reason?: string,
  ) {
    super(message);
  }

  /** Conflicts, throttling, server errors and network failures are worth retrying; the rest are not. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 409 || this.status === 429 || this.status >= 500;
  }

  /** What the on-call engineer should do about it. */
  get hint(): string {
    if (this.status === 401) return 'the credentials were rejected: refresh the kubeconfig (expired token?)';
    if (this.status === 403) return 'forbidden by RBAC: grant Vigil\'s service account this verb on this resource';
    if (this.status === 404) return 'the object does not exist (any more)';
    if (this.status === 0) return 'the API server did not answer: check the cluster address and network';
    return '';
  }
}
