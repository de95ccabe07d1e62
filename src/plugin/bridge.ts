import type { NvimPlugin } from 'neovim';

type Nvim = NvimPlugin['nvim'];

/**
 * The one door from Node into the Lua side: `require(mod)[fn](args...)` in a single
 * nvim_exec_lua round trip. Every Lua entry point the Node side uses goes through here.
 */
export class Bridge {
  constructor(readonly nvim: Nvim) {}

  call(mod: string, fn: string, ...args: unknown[]): Promise<unknown> {
    const code = `return require(${JSON.stringify(mod)})[${JSON.stringify(fn)}](...)`;
    return this.nvim.request('nvim_exec_lua', [code, args]) as Promise<unknown>;
  }

  /**
   * util.notify on the Neovim side (one line, never a hit-enter prompt); never throws. Sent on the next turn: a notice raised while a
   * sync command is still being answered would otherwise land inside that command, where an
   * error-level notify aborts it with a stack of remote#define frames around the message.
   */
  notify(msg: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    const lvl = level === 'error' ? 4 : level === 'warn' ? 3 : 2;
    setImmediate(() => {
      this.nvim
        .request('nvim_exec_lua', ["require('claude_worktrees.util').notify(...)", [msg, lvl]])
        .catch(() => undefined);
    });
  }

  /** Echo lines (each a list of [text, hl] chunks) without the hit-enter dance for one line. */
  echo(lines: Array<Array<[string, string]>>): Promise<unknown> {
    const chunks: Array<[string, string]> = [];
    lines.forEach((l, i) => {
      if (i > 0) chunks.push(['\n', 'Normal']);
      chunks.push(...l);
    });
    return this.nvim.request('nvim_echo', [chunks, true, {}]);
  }
}
