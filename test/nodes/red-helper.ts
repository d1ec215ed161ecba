/** Typed access to node-red-node-test-helper (it ships no types) and small flow-building helpers. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EventEmitter } from 'node:events';

export interface TestNode extends EventEmitter {
  id: string;
  receive(msg: Record<string, unknown>): void;
  credentials: Record<string, string>;
  [key: string]: unknown;
}

export interface Helper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  settings(s: Record<string, unknown>): Record<string, unknown>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(nodes: unknown, flow: Record<string, unknown>[], credentials?: Record<string, Record<string, string>>): Promise<void>;
  unload(): Promise<void>;
  /** Deploys a new flow to the running runtime (a redeploy: nodes are closed and created again). */
  setFlows(flow: unknown[], type: 'full' | 'nodes' | 'flows', credentials?: Record<string, unknown>): Promise<void>;
  getNode(id: string): TestNode;
  request(): {
    get(path: string): { expect(code: number): Promise<{ body: unknown }> };
    post(path: string): { send(body: unknown): { expect(code: number): Promise<{ body: unknown }> } };
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper') as Helper;

/**
 * The Node-RED the tests run against: NODE_RED_MODULE (a node-red package folder, as scripts/test-node-red-5.sh
 * sets for Node-RED 5), else the devDependency.
 */
export function redModule(): string {
  return require.resolve(redPackageDir());
}

/** The folder of that node-red package (red.js, the command, is at its top). */
export function redPackageDir(): string {
  const dir = process.env['NODE_RED_MODULE'];
  return dir ? path.resolve(dir) : path.dirname(require.resolve('node-red/package.json'));
}

let initialised = false;
export const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-nodes-'));

export function initHelper(): Helper {
  if (!initialised) {
    helper.init(redModule());
    initialised = true;
  }
  helper.settings({ userDir });
  return helper;
}

// The compiled node modules (runtime side only: the test helper does not need the editor files).
export const meterNode = require('../../nodes/dlms-meter') as unknown;
export const readNode = require('../../nodes/dlms-read') as unknown;
export const writeNode = require('../../nodes/dlms-write') as unknown;
export const actionNode = require('../../nodes/dlms-action') as unknown;
export const imageTransferNode = require('../../nodes/dlms-image-transfer') as unknown;
export const allNodes = [meterNode, readNode, writeNode, actionNode, imageTransferNode];

export interface StatusRecord {
  fill?: string;
  shape?: string;
  text?: string;
}

/** Collects every status a node shows. */
export function recordStatus(node: TestNode): StatusRecord[] {
  const seen: StatusRecord[] = [];
  const original = node['status'] as (s: StatusRecord) => void;
  node['status'] = (s: StatusRecord) => {
    seen.push(s);
    original.call(node, s);
  };
  return seen;
}

/** Resolves with the next message a helper node receives (rejects after ms). */
export function nextMessage(node: TestNode, ms = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${node.id} within ${ms} ms`)), ms);
    node.once('input', (msg: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

export function messages(node: TestNode, n: number, ms = 5000): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const got: Record<string, unknown>[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages on ${node.id} within ${ms} ms`)), ms);
    const on = (msg: Record<string, unknown>): void => {
      got.push(msg);
      if (got.length === n) {
        clearTimeout(timer);
        node.off('input', on);
        resolve(got);
      }
    };
    node.on('input', on);
  });
}

export function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** The repository root (the compiled tests may live in dist/ or in a build directory elsewhere). */
export function projectRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'node-red-contrib-dlms') return dir;
  }
  return process.cwd();
}
