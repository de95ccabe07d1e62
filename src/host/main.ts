/**
 * The plugin's own remote-plugin host, bundled into dist/host.bundle.js by `npm run build`.
 * lua/claude_worktrees/host.lua starts `node dist/host/loader.js <plugin path>` (the loader
 * compiles the bundle from V8's code cache and calls start()); RPC on stdio. It answers what Neovim's remote#host asks (poll, specs, `<path>:<type>:<name>`) for this
 * one plugin, so nothing is resolved or required at start: one file to parse, no shared host.
 */
import { attach, NvimPlugin } from 'neovim';
import claudeWorktrees = require('../plugin/index');
import { sharedHostLogger } from './logger';

interface Response { send(value: unknown, isError?: boolean): void }
type ClientLogger = NonNullable<NonNullable<Parameters<typeof attach>[0]['options']>['logger']>;

/** Serve the plugin registered at `filename` (the path in Neovim's method names) on stdio. */
export function start(filename: string): void {
  // stdin/stdout are the RPC channel (reversed: Neovim writes our stdin).
  const logger = sharedHostLogger();
  const nvim = attach({ reader: process.stdin, writer: process.stdout, options: { logger: logger as unknown as ClientLogger } });
  const plugin = new NvimPlugin(filename, claudeWorktrees, nvim);
  const prefix = `${filename}:`;

  /** `<path>:command:Name` -> ['command', 'Name'] for this plugin's path, else null. */
  const route = (method: string): [string, string] | null => {
    if (!method.startsWith(prefix)) return null;
    const rest = method.slice(prefix.length);
    const at = rest.indexOf(':');
    return at > 0 ? [rest.slice(0, at), rest.slice(at + 1)] : null;
  };

  /** Run the handler `route` found; requests and notifications alike. */
  const handle = (r: [string, string], args: unknown): Promise<unknown> =>
    plugin.handleRequest(r[1], r[0], Array.isArray(args) ? args : []);

  nvim.on('request', (method: string, args: unknown[], res: Response) => {
    if (method === 'poll') return res.send('ok');
    if (method === 'specs') return res.send(plugin.specs);
    const r = route(method);
    if (!r) return res.send(`claude-worktrees host: unknown method ${method}`, true);
    handle(r, args).then(
      (v) => res.send(v === undefined ? null : v),
      (err) => res.send(String(err instanceof Error ? err.message : err), true));
  });

  nvim.on('notification', (method: string, args: unknown[]) => {
    const r = route(method);
    if (!r) return;
    handle(r, args).catch((err) => {
      process.stderr.write(`claude-worktrees host: ${method}: ${String(err)}\n`);
    });
  });

  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`claude-worktrees host: unhandled rejection: ${String(reason)}\n`);
  });
}
