// The slice of the Node-RED runtime API this pack uses, typed strictly so node files need no `any`.
import type { EventEmitter } from 'node:events';

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export type SendFn = (msg: NodeMessage | null | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
}

export interface NodeInstance<TCreds extends object = Record<string, never>> extends EventEmitter {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials: Partial<TCreds>;
  send: SendFn;
  status(status: NodeStatus): void;
  log(msg: unknown): void;
  warn(msg: unknown): void;
  error(err: unknown, msg?: NodeMessage): void;
  debug(msg: unknown): void;
  trace(msg: unknown): void;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): this;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): this;
  on(event: string, listener: (...args: never[]) => void): this;
}

export interface CredentialSpec {
  [key: string]: { type: 'text' | 'password' };
}

export interface HttpRequest {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface HttpResponse {
  status(code: number): HttpResponse;
  json(body: unknown): void;
  send(body: unknown): void;
}

export type HttpHandler = (req: HttpRequest, res: HttpResponse, next: () => void) => void;

export interface HttpRouter {
  get(path: string, ...handlers: HttpHandler[]): void;
  post(path: string, ...handlers: HttpHandler[]): void;
}

export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    // Node-RED calls the constructor with `this` bound to the new node; the shape of `this` is the node's own.
    registerType(
      type: string,
      ctor: (this: never, def: never) => void,
      opts?: { credentials?: CredentialSpec; settings?: Record<string, { value: unknown; exportable?: boolean }> },
    ): void;
    getNode(id: string): object | null;
  };
  log: {
    info(msg: unknown): void;
    warn(msg: unknown): void;
    error(msg: unknown): void;
    debug(msg: unknown): void;
    trace(msg: unknown): void;
  };
  _(key: string, substitutions?: Record<string, string | number>): string;
  util: {
    /** Resolves a typed input's value (str, num, env, ...), as Node-RED's own nodes do. */
    evaluateNodeProperty(value: string, type: string, node: NodeInstance, msg?: NodeMessage): unknown;
  };
  settings: { userDir?: string; [key: string]: unknown };
  httpAdmin: HttpRouter;
  auth: { needsPermission(permission: string): HttpHandler };
}
