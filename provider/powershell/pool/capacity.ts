/**
 * The cap on pwsh processes: a place under it is a Slot, held from the moment it is granted until
 * the new pwsh is counted among the pool's live sessions, so concurrent starts cannot all see the
 * same free place. One job: counting places and waking whoever waits for one.
 */

export interface Slot {
  release(): void;
}

/** What the capacity needs to know about the pool: its live processes, its cap, how to make room. */
export interface CapacityHooks {
  alive(): number;
  maxSessions(): number;
  /** Closes least recently used idle sessions until at most `limit` are warm. */
  evictTo(limit: number): void;
}

export class Capacity {
  private reserved = 0;
  /** Woken whenever a place may have freed: a pwsh exited or a session went idle (evictable). */
  private waiters: (() => void)[] = [];

  constructor(private readonly hooks: CapacityHooks) {}

  /** Places reserved by starts in progress (they count as sessions). */
  get reservedSlots(): number {
    return this.reserved;
  }

  /** pwsh processes that could start now without evicting anything. */
  freePlaces(): number {
    return this.hooks.maxSessions() - this.hooks.alive() - this.reserved;
  }

  wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  /**
   * Waits until a new pwsh fits under the cap: fewer than `maxSessions` processes alive (starting,
   * warm, busy or still closing all count), evicting least recently used idle sessions to make room.
   * When every session is busy it waits for one to go idle, so the number of pwsh processes never
   * exceeds the cap (an operation never holds a session while it waits for another, so this cannot
   * deadlock). Resolves undefined once `cancelled()` (the pool was closed meanwhile).
   */
  async acquire(cancelled: () => boolean): Promise<Slot | undefined> {
    for (;;) {
      if (cancelled()) return undefined;
      const max = this.hooks.maxSessions();
      this.hooks.evictTo(max - 1 - this.reserved);
      if (this.hooks.alive() + this.reserved < max) {
        this.reserved++;
        let held = true;
        return {
          release: () => {
            if (!held) return;
            held = false;
            this.reserved--;
            this.wake();
          },
        };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
