import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  EZID_REVOCATION_LIST_MAX,
  EzidInMemoryRevocationList,
  EzidRevocationList,
  REVOCATION_ID_MAX_LENGTH,
} from '../auth/ezid-revocation-list';
import { EzidStore } from './ezid-store';

/** The store's expiring set of revoked ids, and the channel that announces each new one. */
const REVOKED = 'revoked';
/** How often pending revocations are written again while the store refuses them. */
const RETRY_MS = 1_000;
/** Longest revocation id accepted from the store (`accessTokenRevocationId` never makes a longer one). */
const MAX_ID_LENGTH = REVOCATION_ID_MAX_LENGTH;

/**
 * The `EzidRevocationList` of a shared store (`store: { redis }`). `isRevoked()` reads a local copy
 * (the same bounded map as `EzidInMemoryRevocationList`: no I/O on the request path); `revoke()`
 * records the id locally, writes it to the store's expiring set and publishes it, and every instance
 * adds what it receives to its copy. On start and after every reconnect each instance reloads the
 * whole set (messages sent while it was disconnected are not lost) and writes what it could not.
 *
 * Store down (or refusing writes): this instance still refuses the id at once, keeps it and writes it
 * again every second and on reconnect, and `revoke()` and `flush()` reject until it is written, so a
 * logout (and its retries) answers 503 `revocation_unavailable` while the other instances cannot know
 * (docs/scaling.md).
 */
export class EzidSharedRevocationList extends EzidRevocationList implements OnApplicationShutdown {
  private readonly logger = new Logger('EzidStore');
  private readonly local: EzidInMemoryRevocationList;
  /** Revocations not written to the store yet (written on the next reconnect). */
  private readonly unshared = new Map<string, number>();
  private retry?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: EzidStore,
    private readonly maxEntries = EZID_REVOCATION_LIST_MAX,
    now: () => number = Date.now,
  ) {
    super();
    this.local = new EzidInMemoryRevocationList(maxEntries, now);
    store.subscribe(REVOKED, (message) => this.receive(message));
    store.onAvailable(() => void this.resync());
  }

  /** Entries in this instance's copy. */
  get size(): number {
    return this.local.size;
  }

  isRevoked(id: string): boolean {
    return this.local.isRevoked(id);
  }

  async revoke(id: string, expiresAtMs: number): Promise<void> {
    this.local.revoke(id, expiresAtMs); // throws when full: fail closed, nothing half-recorded
    try {
      await this.share(id, expiresAtMs);
    } catch (err) {
      this.keepUnshared(id, expiresAtMs);
      this.logger.warn({ event: 'revocation_not_shared', pending: this.unshared.size });
      throw err;
    }
  }

  override async check(id: string): Promise<boolean> {
    if (this.local.isRevoked(id)) return true;
    try {
      return await this.store.hasExpiring(REVOKED, id);
    } catch {
      return false; // the store is unavailable: this instance's copy is all there is
    }
  }

  /** Writes every revocation not shared yet; rejects while some cannot be (they stay pending). */
  override async flush(): Promise<void> {
    let failed: unknown;
    for (const [id, exp] of [...this.unshared]) {
      if (!(exp > Date.now())) {
        this.unshared.delete(id);
        continue;
      }
      try {
        await this.share(id, exp);
        this.unshared.delete(id);
      } catch (err) {
        failed = err;
        break;
      }
    }
    if (failed !== undefined) {
      this.scheduleRetry();
      throw failed;
    }
  }

  private async share(id: string, expiresAtMs: number): Promise<void> {
    await this.store.addExpiring(REVOKED, id, expiresAtMs);
    await this.store.publish(REVOKED, `${Math.ceil(expiresAtMs)} ${id}`);
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
  }

  private keepUnshared(id: string, expiresAtMs: number): void {
    this.unshared.delete(id);
    this.unshared.set(id, expiresAtMs);
    while (this.unshared.size > this.maxEntries)
      this.unshared.delete(this.unshared.keys().next().value as string);
    this.scheduleRetry();
  }

  /**
   * Retries the pending writes every `RETRY_MS` until they land: a Redis that answers with errors while
   * connected (read-only, out of memory) never triggers the reconnect resync.
   */
  private scheduleRetry(): void {
    if (this.retry || this.closed || this.unshared.size === 0) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.flush().then(
        () => this.logger.log({ event: 'revocations_shared' }),
        () => undefined,
      );
    }, RETRY_MS);
    this.retry.unref();
  }

  /** `<expiresAtMs> <id>` from any instance. Malformed messages are ignored. */
  private receive(message: string): void {
    const sp = message.indexOf(' ');
    const exp = Number(message.slice(0, sp));
    const id = message.slice(sp + 1);
    if (sp <= 0 || !Number.isFinite(exp) || id.length === 0 || id.length > MAX_ID_LENGTH) return;
    this.add(id, exp);
  }

  private add(id: string, expiresAtMs: number): void {
    try {
      this.local.revoke(id, expiresAtMs);
    } catch {
      this.logger.error({ event: 'revocation_failed', reason: 'full' });
    }
  }

  /**
   * (Re)connected: reload every live revocation (messages sent while disconnected are not lost), then
   * write back what the store lacks (a Redis restarted empty gets this instance's copy) with what could
   * not be written before; writes that fail are retried every second.
   */
  private async resync(): Promise<void> {
    let inStore: Set<string> | undefined;
    try {
      const all = await this.store.readExpiring(REVOKED);
      inStore = new Set<string>();
      for (const [id, exp] of all) {
        inStore.add(id);
        if (id.length <= MAX_ID_LENGTH) this.add(id, exp);
      }
    } catch {
      this.logger.warn({ event: 'revocations_sync_failed', phase: 'read' });
    }
    let restored = 0;
    if (inStore) {
      for (const [id, exp] of [...this.local.liveEntries()]) {
        if (inStore.has(id) || this.unshared.has(id)) continue;
        this.unshared.set(id, exp);
        restored++;
      }
    }
    try {
      await this.flush();
      this.logger.log({ event: 'revocations_synced', entries: inStore?.size ?? 0, restored });
    } catch {
      this.logger.warn({ event: 'revocations_sync_failed', phase: 'write', pending: this.unshared.size });
    }
  }
}
