/**
 * Concert ownership: at most one gateway decides for a concert at a time (its owner), the others
 * forward that concert's commands to it (src/actors/forwarding.ts), so that gateways sharing a
 * hot concert no longer race for its expected sequence.
 *
 * Kept in the KV bucket `guichet_owners` (src/events/owners-bucket.ts), every entry a lease the
 * server drops when it is not renewed in time:
 *   - `gateways.<id>`: a gateway is alive and serves forwarded commands (renewed by it);
 *   - `concerts.<id>`: the gateway that owns the concert (renewed by its owner, compare-and-set
 *     on the revision it wrote, so a renewal after a take-over fails instead of taking it back).
 * Placement (placement.ts) says which live gateway should own each concert; every gateway
 * watches the bucket and moves only its own entries: it takes a free concert placed on it (or
 * any free one nobody took for a while), and hands over one placed elsewhere (a gateway joined).
 *
 * The lease is for liveness only. Two gateways that both believe they own a concert (a lease
 * that ran out during a pause) can both decide for it; every append still carries the
 * concert's expected sequence, so one of them loses a round trip, never a seat.
 */
import { preferredOwner } from './placement.js';

/** An entry of the bucket as a watch reports it (src/events/owners-bucket.ts). */
export interface OwnersEntry {
  key: string;
  /** Undefined: deleted by its writer, or expired. */
  value: string | undefined;
  revision: number;
  /** Gone because it was not renewed in time. */
  expired: boolean;
}

/** The bucket as ownership needs it (OwnersBucket; in memory in tests). */
export interface OwnersStore {
  watch(onEntry: (entry: OwnersEntry) => void, onEnd: (err?: unknown) => void): Promise<() => void>;
  /** Revision written, or undefined when the key has a live entry. */
  create(key: string, value: string): Promise<number | undefined>;
  /** Revision written, or undefined when the key is no longer at `revision`. */
  update(key: string, value: string, revision: number): Promise<number | undefined>;
  release(key: string, revision: number): Promise<boolean>;
  /** The key's live entry's revision, if it has one. */
  revisionOf(key: string): Promise<number | undefined>;
  /** Opens the bucket again (made anew if a NATS restart lost it). */
  reopen?(): Promise<void>;
}

export const GATEWAY_KEY = 'gateways.';
export const CONCERT_KEY = 'concerts.';

/** What a gateway knows when it plans its moves. */
export interface OwnershipView {
  self: string;
  /** Gateways whose presence is live (this one included once it serves). */
  live: ReadonlySet<string>;
  /** Each owned concert's owner, as the bucket says. */
  owners: ReadonlyMap<string, string>;
  /** The concerts this gateway holds the lease of. */
  mine: ReadonlySet<string>;
  /** Since when (ms) each unowned concert has been seen without an owner. */
  freeSince: ReadonlyMap<string, number>;
  now: number;
  /** A free concert whose preferred owner has not taken it for this long is taken by anyone. */
  graceMs: number;
}

/**
 * The leases this gateway should take and hand over, for these concerts. Pure: the same view
 * always gives the same moves (given / when / then in test/actors/ownership.test.ts).
 */
export function planMoves(concerts: readonly string[], view: OwnershipView): { take: string[]; release: string[] } {
  const take: string[] = [];
  const release: string[] = [];
  const live = view.live.has(view.self) ? view.live : new Set([...view.live, view.self]);
  for (const concert of concerts) {
    const preferred = preferredOwner(concert, live);
    if (view.mine.has(concert)) {
      // Another live gateway is now preferred (it joined): hand the concert over to it.
      if (preferred !== view.self) release.push(concert);
      continue;
    }
    if (view.owners.has(concert)) continue;
    const freeFor = view.now - (view.freeSince.get(concert) ?? view.now);
    if (preferred === view.self || freeFor >= view.graceMs) take.push(concert);
  }
  return { take, release };
}

export interface OwnershipOptions {
  self: string;
  concerts: readonly string[];
  store: OwnersStore;
  /** How long an entry lives unrenewed (the bucket's ttl); renewed every third of it. */
  leaseMs: number;
  now?: () => number;
  /** Something failed and will be tried again (said at most once per lease period). */
  onProblem?: (message: string) => void;
  /** A concert's owner changed in this gateway's view (undefined: none). */
  onOwner?: (concert: string, owner: string | undefined) => void;
  /** Another gateway's presence ran out (not renewed in time: it died, froze or lost NATS). */
  onGatewayGone?: (gateway: string) => void;
}

export class Ownership {
  readonly self: string;
  private readonly live = new Set<string>();
  private readonly owners = new Map<string, { gateway: string; revision: number }>();
  /** Concert → the revision of the lease this gateway wrote last. */
  private readonly mine = new Map<string, number>();
  private readonly freeSince = new Map<string, number>();
  /** The concerts whose lease this process has written (taken or released) at least once. */
  private readonly touched = new Set<string>();
  private presence?: number;
  private timer?: NodeJS.Timeout;
  private stopWatch?: () => void;
  private planning?: Promise<void>;
  private replan = false;
  private stopped = false;
  private lastProblemAt = -Infinity;
  private readonly now: () => number;

  constructor(private readonly options: OwnershipOptions) {
    this.self = options.self;
    this.now = options.now ?? Date.now;
    for (const c of options.concerts) this.freeSince.set(c, this.now());
  }

  /** Watches the bucket, says this gateway is alive, takes what is placed on it; then renews. */
  async start(): Promise<void> {
    await this.watch();
    await this.renewPresence();
    await this.plan();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.timer.unref();
  }

  /**
   * The gateway that decides for the concert: this one, another, or undefined (nobody known, or
   * an owner whose presence ran out: decide here). An owner that stopped renewing is not waited
   * for until its concert's lease runs out too: commands sent to a frozen owner in that moment
   * waited until it woke (3 s in the freeze fault test).
   */
  ownerOf(concert: string): string | undefined {
    if (this.mine.has(concert)) return this.self;
    const owner = this.owners.get(concert)?.gateway;
    return owner !== undefined && (owner === this.self || this.live.has(owner)) ? owner : undefined;
  }

  /** Whether this gateway should do the concert's unasked work (expiry releases): it owns it, or nobody does. */
  decidesFor(concert: string): boolean {
    const owner = this.ownerOf(concert);
    return owner === undefined || owner === this.self;
  }

  /** The concerts this gateway holds the lease of. */
  get owned(): string[] {
    return [...this.mine.keys()];
  }

  /** Hands every concert over (releases its leases) and says this gateway is gone. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.planning?.catch(() => undefined);
    const { store } = this.options;
    await Promise.all(
      [...this.mine].map(([concert, revision]) => store.release(CONCERT_KEY + concert, revision).catch(() => false)),
    );
    this.mine.clear();
    if (this.presence !== undefined) await store.release(GATEWAY_KEY + this.self, this.presence).catch(() => false);
    this.stopWatch?.();
  }

  /** Watches the bucket from its current entries; what was known before is forgotten (it may be another bucket now). */
  private async watch(): Promise<void> {
    this.live.clear();
    this.owners.clear();
    this.stopWatch = await this.options.store.watch(
      (entry) => this.heard(entry),
      (err) => {
        this.problem(`the watch on guichet_owners ended${err ? ` (${(err as Error).message})` : ''}; watching again`);
        this.watchAgain();
      },
    );
  }

  /** In a second, and again until it works (a NATS restarted without the bucket: renewals make it anew). */
  private watchAgain(): void {
    if (this.stopped) return;
    setTimeout(() => {
      this.watch().catch((err: Error) => {
        this.problem(`cannot watch guichet_owners: ${err.message}`);
        this.watchAgain();
      });
    }, 1_000).unref();
  }

  /**
   * Takes an entry the watch reported into this gateway's view, and plans again if the view
   * changed in a way a plan reads (who is live; which concerts are owned, this gateway's, free).
   * Most entries are renewals that change nothing: every owner renews each of its concerts
   * every third of a lease, and planning after each (a hash per concert and gateway) was 3 % of
   * a busy gateway's CPU with 100 concerts (bench throughput --profile). The periodic tick
   * plans anyway, for the grace periods that run out with time alone.
   */
  private heard(entry: OwnersEntry): void {
    const before = this.planShape(entry.key);
    this.note(entry);
    if (this.planShape(entry.key) !== before) void this.plan();
  }

  /** What of the view a plan reads about this key, as one comparable string. */
  private planShape(key: string): string {
    if (key.startsWith(GATEWAY_KEY)) return this.live.has(key.slice(GATEWAY_KEY.length)) ? 'live' : '';
    if (!key.startsWith(CONCERT_KEY)) return '';
    const concert = key.slice(CONCERT_KEY.length);
    return `${this.owners.has(concert)} ${this.mine.has(concert)} ${this.freeSince.has(concert)}`;
  }

  private note({ key, value, revision, expired }: OwnersEntry): void {
    if (key.startsWith(GATEWAY_KEY)) {
      const gateway = key.slice(GATEWAY_KEY.length);
      if (value !== undefined) this.live.add(gateway);
      else {
        // Expired, not withdrawn: it stopped answering (a gateway that stops in good order still
        // answers what it was sent).
        if (this.live.delete(gateway) && expired && gateway !== this.self) this.options.onGatewayGone?.(gateway);
        // This gateway's own presence ran out (it was paused): written anew on the next renewal.
        if (gateway === this.self && this.presence !== undefined && revision > this.presence) this.presence = undefined;
      }
    } else if (key.startsWith(CONCERT_KEY)) {
      const concert = key.slice(CONCERT_KEY.length);
      const before = this.ownerOf(concert);
      if (value !== undefined) {
        this.owners.set(concert, { gateway: value, revision });
        this.freeSince.delete(concert);
        // Its own id on a lease it never wrote: its previous run's (a restart with the same
        // --gateway-id within a lease). Kept and renewed, so the concert does not wait for it to expire.
        if (value === this.self && !this.touched.has(concert) && !this.mine.has(concert) && this.presence !== undefined) {
          this.touched.add(concert);
          this.mine.set(concert, revision);
        }
        const mine = this.mine.get(concert);
        // Someone else wrote after this gateway's last renewal: it took the concert over.
        if (mine !== undefined && value !== this.self && revision > mine) this.mine.delete(concert);
      } else {
        const known = this.owners.get(concert);
        if (!known || revision > known.revision) this.owners.delete(concert);
        const mine = this.mine.get(concert);
        // Expired on the server (this gateway was paused past its lease): no longer its own.
        if (mine !== undefined && revision > mine) this.mine.delete(concert);
        if (!this.owners.has(concert) && !this.freeSince.has(concert)) this.freeSince.set(concert, this.now());
      }
      const after = this.ownerOf(concert);
      if (after !== before) this.options.onOwner?.(concert, after);
    }
  }

  /** One plan at a time; a change heard during one plans again after it. */
  private plan(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.planning) {
      this.replan = true;
      return this.planning;
    }
    this.planning = this.applyPlan()
      .catch((err: Error) => this.problem(`cannot move concert leases: ${err.message}`))
      .finally(() => {
        this.planning = undefined;
        if (this.replan) {
          this.replan = false;
          void this.plan();
        }
      });
    return this.planning;
  }

  private async applyPlan(): Promise<void> {
    if (this.presence === undefined) return; // not serving: take nothing
    const { take, release } = planMoves(this.options.concerts, {
      self: this.self,
      live: this.live,
      owners: new Map([...this.owners].map(([c, o]) => [c, o.gateway])),
      mine: new Set(this.mine.keys()),
      freeSince: this.freeSince,
      now: this.now(),
      graceMs: this.options.leaseMs,
    });
    const { store } = this.options;
    await Promise.all([
      ...take.map(async (concert) => {
        this.touched.add(concert);
        const revision = await store.create(CONCERT_KEY + concert, this.self);
        if (revision === undefined || this.stopped) return;
        const before = this.ownerOf(concert);
        this.mine.set(concert, revision);
        this.owners.set(concert, { gateway: this.self, revision });
        this.freeSince.delete(concert);
        if (before !== this.self) this.options.onOwner?.(concert, this.self);
      }),
      ...release.map(async (concert) => {
        const revision = this.mine.get(concert);
        if (revision === undefined) return;
        this.touched.add(concert);
        this.mine.delete(concert);
        await store.release(CONCERT_KEY + concert, revision);
      }),
    ]);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.renewPresence();
      await this.renewLeases();
    } catch (err) {
      this.problem(`cannot renew this gateway's leases: ${(err as Error).message}`);
      await this.options.store.reopen?.().catch(() => undefined);
    }
    await this.plan();
  }

  private async renewPresence(): Promise<void> {
    const { store } = this.options;
    const key = GATEWAY_KEY + this.self;
    const value = new Date(this.now()).toISOString();
    let revision = this.presence === undefined ? undefined : await store.update(key, value, this.presence);
    revision ??= await store.create(key, value);
    if (revision === undefined && this.presence === undefined) {
      // A live entry under this id that this process did not write: its previous run's (gateway
      // ids are unique among running gateways). Taken over at once rather than waited out.
      const previous = await store.revisionOf(key);
      if (previous !== undefined) revision = await store.update(key, value, previous);
    }
    const first = this.presence === undefined && revision !== undefined;
    this.presence = revision;
    if (first) this.adoptPrevious();
  }

  /** The leases under this id that the watch reported before this process could say it was alive. */
  private adoptPrevious(): void {
    for (const [concert, { gateway, revision }] of this.owners) {
      if (gateway === this.self && !this.touched.has(concert) && !this.mine.has(concert)) {
        this.touched.add(concert);
        this.mine.set(concert, revision);
      }
    }
  }

  private async renewLeases(): Promise<void> {
    const { store } = this.options;
    await Promise.all(
      [...this.mine].map(async ([concert, revision]) => {
        const next = await store.update(CONCERT_KEY + concert, this.self, revision);
        if (this.mine.get(concert) !== revision) return; // released or lost meanwhile
        if (next === undefined) {
          this.mine.delete(concert); // taken over (this gateway was paused past its lease)
          this.options.onOwner?.(concert, this.owners.get(concert)?.gateway);
        } else {
          this.mine.set(concert, next);
          this.owners.set(concert, { gateway: this.self, revision: next });
        }
      }),
    );
  }

  private problem(message: string): void {
    const now = this.now();
    if (now - this.lastProblemAt < this.options.leaseMs) return;
    this.lastProblemAt = now;
    this.options.onProblem?.(message);
  }
}
