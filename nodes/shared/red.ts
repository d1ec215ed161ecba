/**
 * The small part of the Node-RED runtime API these nodes use, typed here because @types/node-red is not a
 * dependency (and describes Node-RED 1.3). Matches Node-RED 3.x, 4.x and 5.x.
 */
import type { EventEmitter } from 'node:events';

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type SendFunction = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[] | null) => void;
export type DoneFunction = (err?: Error) => void;

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface Node<Creds = Record<string, string>> extends EventEmitter {
  id: string;
  type: string;
  name?: string;
  credentials: Creds;
  status(s: NodeStatus): void;
  send(msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[] | null): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(text: unknown): void;
  log(text: unknown): void;
  debug(text: unknown): void;
  trace(text: unknown): void;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFunction, done: DoneFunction) => void): this;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): this;
  on(event: string, listener: (...args: never[]) => void): this;
}

export interface HttpRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** A JSON request body (Node-RED's admin API parses it). */
  body?: unknown;
}
export interface HttpResponse {
  json(body: unknown): void;
  status(code: number): HttpResponse;
}
type Handler = (req: HttpRequest, res: HttpResponse, next?: () => void) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    getNode(id: string): object | null;
    registerType(type: string, ctor: (this: never, def: NodeDef) => void, opts?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, unknown> }): void;
  };
  settings: { userDir?: string; [key: string]: unknown };
  util: { cloneMessage<T>(msg: T): T };
  /** Node-RED's i18n for this node file's catalog (absent in some test doubles). */
  _?(key: string, values?: Record<string, string | number>): string;
  httpAdmin?: { get(path: string, ...handlers: Handler[]): void; post(path: string, ...handlers: Handler[]): void };
  auth?: { needsPermission(permission: string): Handler };
}
