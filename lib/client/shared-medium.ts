/**
 * One physical connection shared by several meter configurations: meters behind one TCP gateway (different wrapper
 * destinations) or on one RS-485 bus (different HDLC addresses) must not each open their own socket or port — a
 * serial port can only be opened once, and gateways often accept one TCP client. Each user gets a view that looks
 * like its own Medium; the real medium opens with the first view and closes with the last one.
 *
 * The views do not arbitrate: every view sees every byte, and the frame layers above drop what is not theirs. The
 * per-medium lock of lib/client/pool.ts makes sure only one meter has a request outstanding at a time.
 */
import { createMedium as defaultCreateMedium, type MediumSpec } from '../media';
import { MediumBase, type Medium } from '../media/types';
import type { MediaError } from '../errors';

/** The identity of a medium: one TCP/UDP host:port or one serial path. */
export function mediumKeyOf(spec: MediumSpec): string {
  return spec.kind === 'serial' ? `serial:${spec.path}` : `${spec.kind}:${spec.host.toLowerCase()}:${spec.port}`;
}

class SharedEntry {
  readonly views = new Set<MediumView>();
  private opening: Promise<void> | undefined;

  constructor(
    readonly medium: Medium,
    private readonly onEmpty: () => void,
  ) {
    medium.on('data', (bytes) => {
      for (const v of this.views) v.deliver(bytes);
    });
    medium.on('close', (reason) => {
      this.opening = undefined;
      for (const v of [...this.views]) v.lost(reason);
    });
  }

  open(): Promise<void> {
    if (this.medium.isOpen) return Promise.resolve();
    if (!this.opening) {
      this.opening = this.medium.open().catch((e: unknown) => {
        this.opening = undefined;
        throw e;
      });
    }
    return this.opening;
  }

  async release(view: MediumView): Promise<void> {
    this.views.delete(view);
    if (this.views.size === 0) {
      this.onEmpty();
      await this.medium.close();
    }
  }
}

class MediumView extends MediumBase {
  private opened = false;

  constructor(private readonly entry: SharedEntry) {
    super();
  }

  get description(): string {
    return this.entry.medium.description;
  }

  get isOpen(): boolean {
    return this.opened && this.entry.medium.isOpen;
  }

  async open(): Promise<void> {
    this.entry.views.add(this);
    try {
      await this.entry.open();
    } catch (e) {
      this.entry.views.delete(this);
      throw e;
    }
    this.opened = true;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(this.notOpen('send'));
    return this.entry.medium.write(bytes);
  }

  async close(): Promise<void> {
    if (!this.opened) {
      this.entry.views.delete(this);
      return;
    }
    this.opened = false;
    await this.entry.release(this);
  }

  deliver(bytes: Uint8Array): void {
    if (this.opened) this.emitData(bytes);
  }

  lost(reason: MediaError | undefined): void {
    if (!this.opened) return;
    this.opened = false;
    this.entry.views.delete(this);
    this.emitClose(reason);
  }
}

/** Hands out views of shared media, one real medium per key. */
export class SharedMediumHub {
  private readonly entries = new Map<string, SharedEntry>();

  constructor(private readonly create: (spec: MediumSpec) => Medium = defaultCreateMedium) {}

  /** A view of the medium the spec names; pass this as the transport's `createMedium`. */
  createMedium(spec: MediumSpec): Medium {
    const key = mediumKeyOf(spec);
    let entry = this.entries.get(key);
    if (!entry) {
      const created: SharedEntry = new SharedEntry(this.create(spec), () => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      entry = created;
      this.entries.set(key, entry);
    }
    return new MediumView(entry);
  }

  /** How many views hold the medium open (tests and status use it). */
  users(key: string): number {
    return this.entries.get(key)?.views.size ?? 0;
  }
}
