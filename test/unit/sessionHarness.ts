import { randomBytes } from 'crypto';
import * as path from 'path';
import { McpSession } from '../../src/ide/mcpSession';
import { DiffRegistry } from '../../src/ide/diffRegistry';
import { nullLogger } from '../../src/util/log';
import { PathScope } from '../../src/ide/scope';
import { FakeEditor } from '../helpers/fakeEditor';
import { runRoot } from '../helpers/tmp';

/** A JSON-RPC frame as the session sent it (parsed). */
export interface Frame {
  jsonrpc: string;
  id?: string | number | null;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
  method?: string;
  params?: any;
}

/** Let pending promise chains (microtasks and one macrotask turn) run. */
export function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export async function flushMany(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await flush();
}

/**
 * The fake worktree root: a path of its own in the run's temp dir (not created here; a test
 * that puts files there makes it and removes it), so concurrent runs never share it.
 */
export const WORKSPACE = path.join(runRoot(), 'tmp', `cw-unit-workspace-${randomBytes(4).toString('hex')}`);

export interface Harness {
  editor: FakeEditor;
  diffs: DiffRegistry;
  session: McpSession;
  sent: Frame[];
  raw: string[];
  pids: number[];
  initializedCount: () => number;
  /** Send a request; resolves with its reply (polls; fails after ~2 s). */
  request(method: string, params?: unknown, id?: string | number): Promise<Frame>;
  /** Send a request and return its id without waiting. */
  send(method: string, params?: unknown, id?: string | number): string | number;
  notify(method: string, params?: unknown): void;
  /** tools/call and wait for the reply. */
  call(name: string, args?: unknown): Promise<Frame>;
  replyTo(id: string | number | null): Frame | undefined;
  waitReply(id: string | number): Promise<Frame>;
}

let autoId = 1000;

export function makeHarness(opts: { clientId?: number; diffs?: DiffRegistry; editor?: FakeEditor; workspaceFolder?: string } = {}): Harness {
  const editor = opts.editor ?? new FakeEditor();
  const diffs = opts.diffs ?? new DiffRegistry();
  const sent: Frame[] = [];
  const raw: string[] = [];
  const pids: number[] = [];
  let initialized = 0;
  const session = new McpSession({
    clientId: opts.clientId ?? 1,
    editor,
    workspaceFolder: opts.workspaceFolder ?? WORKSPACE,
    scope: new PathScope([opts.workspaceFolder ?? WORKSPACE]),
    diffs,
    send: (frame) => {
      raw.push(frame);
      sent.push(JSON.parse(frame));
    },
    onIdeConnected: (pid) => pids.push(pid),
    onInitialized: () => { initialized++; },
    log: nullLogger,
  });

  const replyTo = (id: string | number | null) => sent.find((f) => f.id === id && ('result' in f || 'error' in f));
  const waitReply = async (id: string | number) => {
    for (let i = 0; i < 200; i++) {
      const f = replyTo(id);
      if (f) return f;
      await flush();
    }
    throw new Error(`no reply to request ${String(id)}`);
  };
  const send = (method: string, params?: unknown, id: string | number = autoId++) => {
    const msg: Record<string, unknown> = { jsonrpc: '2.0', id, method };
    if (params !== undefined) msg.params = params;
    session.handle(JSON.stringify(msg));
    return id;
  };
  return {
    editor, diffs, session, sent, raw, pids,
    initializedCount: () => initialized,
    send,
    request: (method, params, id) => waitReply(send(method, params, id)),
    notify: (method, params) => {
      const msg: Record<string, unknown> = { jsonrpc: '2.0', method };
      if (params !== undefined) msg.params = params;
      session.handle(JSON.stringify(msg));
    },
    call: (name, args) => waitReply(send('tools/call', { name, arguments: args })),
    replyTo,
    waitReply,
  };
}

/** The text items of a successful tools/call reply. */
export function texts(f: Frame): string[] {
  if (f.error) throw new Error(`expected a result, got error ${f.error.code}: ${f.error.message}`);
  expect(Array.isArray(f.result.content)).toBe(true);
  for (const c of f.result.content) expect(c.type).toBe('text');
  return f.result.content.map((c: { text: string }) => c.text);
}

/** The JSON payload of a single-text-item reply. */
export function jsonOf(f: Frame): any {
  const t = texts(f);
  expect(t).toHaveLength(1);
  return JSON.parse(t[0]);
}
