/**
 * Mocha root-hook plugin (registered in .mocharc via `require`): after all tests, fails the run when anything but
 * stdio still keeps the process alive — a socket, server, UDP socket, child process or timer a test or the product
 * left open — and lists each with its type and where it was created. The leaked handles are then unref'd so mocha
 * can exit (with a non-zero code, the hook having failed) instead of hanging on them.
 *
 * Creation sites come from an async_hooks `init` hook that keeps a short captured stack for the handle types that
 * can keep the loop alive. There is deliberately no `destroy` hook: with one, Node tracks the destruction of every
 * promise, which slows a promise-heavy suite; finished entries are pruned by state instead. Whatever keeps the
 * process alive without a tracked entry (created before this hook, or re-armed after being pruned) is still caught
 * by `process.getActiveResourcesInfo()` and listed by type alone.
 */
import { createHook } from 'node:async_hooks';
import { Server } from 'node:net';

/** Resource types (async_hooks names) that keep the event loop alive while open and ref'd. */
const TRACKED = new Set(['TCPWRAP', 'TCPSERVERWRAP', 'UDPWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'PROCESSWRAP', 'TTYWRAP', 'Timeout', 'FSEVENTWRAP', 'SIGNALWRAP']);
/** How long a run may take to let closing handles finish closing (close callbacks, FIN/RST) before they count. */
const SETTLE_MS = 1000;
/** Enough frames to get past Node's own (net.Server#listen alone takes six) to the caller's. */
const STACK_FRAMES = 16;
const PRUNE_EVERY = 1000;

interface Refable {
  hasRef?: () => boolean;
  unref?: () => unknown;
  _destroyed?: boolean;
}

interface Tracked {
  type: string;
  triggerAsyncId: number;
  resource: Refable;
  /** Captured at creation, formatted only when reported. */
  site: { stack?: string };
}

const tracked = new Set<Tracked>();
/**
 * Creation stacks of the requests a handle is often created from (a DNS lookup before listen/connect), by async id:
 * a handle created in such a callback has only Node's frames on its own stack. Bounded to the newest entries.
 */
const REQUESTS = new Set(['GETADDRINFOREQWRAP', 'TCPCONNECTWRAP', 'PIPECONNECTWRAP']);
const requestSites = new Map<number, { stack?: string }>();
const MAX_REQUEST_SITES = 2000;
let sincePrune = 0;

function isLive(t: Tracked): boolean {
  const r = t.resource;
  if (t.type === 'Timeout' && r._destroyed === true) return false;
  return typeof r.hasRef === 'function' ? r.hasRef() === true : false;
}

function prune(): void {
  for (const t of tracked) if (!isLive(t)) tracked.delete(t);
}

const hook = createHook({
  init(asyncId, type, triggerAsyncId, resource) {
    const request = REQUESTS.has(type);
    if (!request && !TRACKED.has(type)) return;
    const site: { stack?: string } = {};
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_FRAMES;
    Error.captureStackTrace(site);
    Error.stackTraceLimit = limit;
    if (request) {
      requestSites.set(asyncId, site);
      if (requestSites.size > MAX_REQUEST_SITES) requestSites.delete(requestSites.keys().next().value!);
      return;
    }
    tracked.add({ type, triggerAsyncId, resource: resource as Refable, site });
    if (++sincePrune >= PRUNE_EVERY) {
      sincePrune = 0;
      prune();
    }
  },
});

/** Handles that belong to this process's own stdio, which are never a leak. */
function stdioHandles(): Set<unknown> {
  const out = new Set<unknown>();
  for (const s of [process.stdin, process.stdout, process.stderr] as unknown as { _handle?: unknown }[]) {
    // Reading process.stdin would create it; only look at streams that already exist.
    if (s && s._handle) out.add(s._handle);
  }
  return out;
}

/** The first frames outside Node's own modules and this file, innermost first. */
function callerFrames(stack: string | undefined): string | undefined {
  const frames = (stack ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/^at /, ''))
    .filter((l) => !/\(node:|^node:|leak-check\.[jt]s|node_modules[/\\]mocha[/\\]/.test(l));
  return frames.length > 0 ? frames.slice(0, 3).join(' <- ') : undefined;
}

/** Type names from getActiveResourcesInfo that are (or may be) stdio. */
const STDIO_TYPES = new Set(['TTYWrap', 'PipeWrap']);

export interface Leak {
  type: string;
  /** Creation stack (without the hook's own frames), when the creation was seen. */
  createdAt?: string;
}

/** What keeps the process alive now, besides stdio and the caller's own pending wait. */
export function openHandles(): Leak[] {
  prune();
  const stdio = stdioHandles();
  const leaks: Leak[] = [];
  const seenTypes = new Map<string, number>();
  for (const t of tracked) {
    if (stdio.has(t.resource)) continue;
    const createdAt = callerFrames(t.site.stack) ?? callerFrames(requestSites.get(t.triggerAsyncId)?.stack) ?? callerFrames(listenSites.get(ownerOf(t.resource) as Server)?.stack);
    leaks.push({ type: t.type, ...(createdAt !== undefined ? { createdAt } : {}) });
    seenTypes.set(t.type, (seenTypes.get(t.type) ?? 0) + 1);
  }
  // Anything alive that the hook did not see (created before it was installed, or a type it does not track).
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1);
  const trackedAs: Record<string, string> = { TCPSocketWrap: 'TCPWRAP', TCPServerWrap: 'TCPSERVERWRAP', UDPWrap: 'UDPWRAP', ProcessWrap: 'PROCESSWRAP', Timeout: 'Timeout', FSEventWrap: 'FSEVENTWRAP', SignalWrap: 'SIGNALWRAP' };
  for (const [name, n] of counts) {
    if (STDIO_TYPES.has(name)) continue;
    const known = trackedAs[name];
    if (known === undefined) continue; // requests (FSReqCallback, GetAddrInfoReqWrap, …) end by themselves
    const extra = n - (seenTypes.get(known) ?? 0);
    for (let k = 0; k < extra; k++) leaks.push({ type: name });
  }
  return leaks;
}

/** The readable list the run fails with. */
export function describeLeaks(leaks: readonly Leak[]): string {
  const lines = [`${leaks.length} handle(s) left open after all tests (close them in the test, or fix the code that leaks them):`];
  for (const l of leaks) lines.push(`  - ${l.type} created at ${l.createdAt ?? '(unknown: created before the leak check started or not tracked)'}`);
  return lines.join('\n');
}

async function settle(): Promise<Leak[]> {
  const until = Date.now() + SETTLE_MS;
  for (;;) {
    // A ref'd timer: with nothing else left, an unref'd one would let the process exit mid-check, before mocha
    // reports. It has fired by the time handles are counted, so it never counts itself.
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    const leaks = openHandles();
    if (leaks.length === 0 || Date.now() >= until) return leaks;
  }
}

/** Lets mocha exit although the leaked handles are still open; the failed hook makes the exit code non-zero. */
function release(): void {
  for (const t of tracked) t.resource.unref?.();
  // Anything untracked would still hold the loop: give the reporter a moment, then leave.
  setTimeout(() => process.exit(), 2000).unref();
}

/**
 * net.Server#listen creates its handle in a later tick, whose stack shows only Node's frames: remember where listen
 * was called, per server, and find the server from its handle (the handle's owner) when reporting.
 */
const listenSites = new WeakMap<Server, { stack?: string }>();
const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site);
  listenSites.set(this, site);
  return (listen as (...a: unknown[]) => Server).apply(this, args);
} as typeof listen;

function ownerOf(handle: object): unknown {
  const owner = Object.getOwnPropertySymbols(handle).find((s) => s.description === 'owner_symbol');
  return owner === undefined ? undefined : (handle as Record<symbol, unknown>)[owner];
}

hook.enable();

export const mochaHooks = {
  // Callback style: mocha arms this hook's own timeout timer before calling it, so the hook can clear that timer
  // (it would count as an open timer); for a promise-returning hook mocha would arm it afterwards. The wait is
  // bounded by SETTLE_MS anyway.
  afterAll(this: Mocha.Context, done: Mocha.Done): void {
    this.runnable().clearTimeout();
    settle().then(
      (leaks) => {
        if (leaks.length === 0) return done();
        release();
        done(new Error(describeLeaks(leaks)));
      },
      (e: unknown) => done(e),
    );
  },
};
