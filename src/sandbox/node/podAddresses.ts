/**
 * A node's pod addresses, handed out the way the CNI `host-local` IPAM plugin does: the next free address after the
 * last one given, wrapping at the end of the range, so an address freed by a deleted pod is the last to be given
 * again. Handing out the lowest free one instead gives a new pod the address of the pod deleted a moment before, while
 * Prometheus's service discovery (refreshed every 5 s) still scrapes that address as the old pod's target: the new
 * pod's counters are then read under the old pod's name too (a rollout's requests counted twice for a scrape, and its
 * new pods' errors charged to the old ReplicaSet). Real clusters rarely reuse an address that fast; neither does this.
 */
export class PodAddresses {
  private readonly used = new Set<number>();
  private last: number;

  /** Host numbers `first..last` of the node's /24 (`.1` is the node itself). */
  constructor(
    private readonly prefix: string,
    private readonly first = 2,
    private readonly lastHost = 254,
  ) {
    this.last = lastHost;
  }

  /** The address the pod already has (a node agent restarted) when it is in the range and free, else the next free one. */
  allocate(existing?: string): string {
    const had = existing !== undefined && existing.startsWith(this.prefix) ? Number(existing.slice(this.prefix.length)) : NaN;
    if (Number.isInteger(had) && had >= this.first && had <= this.lastHost && !this.used.has(had)) {
      this.used.add(had);
      return existing!;
    }
    const size = this.lastHost - this.first + 1;
    for (let k = 1; k <= size; k++) {
      const host = this.first + ((this.last - this.first + k) % size);
      if (this.used.has(host)) continue;
      this.used.add(host);
      this.last = host;
      return `${this.prefix}${host}`;
    }
    throw new Error(`no free pod address in ${this.prefix}${this.first}-${this.lastHost}`);
  }

  /** Frees an address of this range; others are ignored. */
  release(ip: string | undefined): void {
    if (!ip?.startsWith(this.prefix)) return;
    this.used.delete(Number(ip.slice(this.prefix.length)));
  }
}
