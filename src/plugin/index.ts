import type { NvimPlugin } from 'neovim';
import { App, type Context } from './app';

const COMPLETE = 'customlist,claude_worktrees#complete';

/**
 * Entry point the Node remote-plugin host calls. Every handler is async and reports its own
 * errors: an exception escaping into the shared host would take every Node plugin down.
 */
export = function claudeWorktrees(plugin: NvimPlugin): void {
  plugin.setOptions({ dev: false, alwaysInit: false });
  const fn = (name: string) => `${plugin.filename}:function:${name}`;
  const app = new App(plugin.nvim, fn('ClaudeWorktreesEvent'), fn('ClaudeWorktreesSync'));

  /**
   * Commands are sync only for as long as it takes to read the context (current buffer, cwd):
   * later input cannot change which worktree a command acts on. The work itself then runs
   * detached, so Neovim never waits on a server or a process. Nothing here may throw.
   */
  const command = (what: string, fn: (ctx: Context, ...a: unknown[]) => Promise<void>) => async (...a: unknown[]) => {
    try {
      await app.init();
      // The context comes last (CONTEXT_EVAL); a manifest written before it had none.
      const given = a.length > 0 && App.isContext(a[a.length - 1]) ? a.pop() : undefined;
      const ctx = await app.context(given);
      fn(ctx, ...a).catch((err) => app.report(what, err));
    } catch (err) {
      app.report(what, err);
    }
    return null;
  };
  /**
   * For commands that only print what Node knows: done before Neovim goes on, so the output is
   * part of the command (`:redir`, execute(), a multi-line list that belongs to it).
   */
  const printing = (what: string, fn: (ctx: Context) => Promise<void>) => async (...a: unknown[]) => {
    try {
      await app.init();
      await fn(await app.context(a.find((x) => App.isContext(x))));
    } catch (err) {
      app.report(what, err);
    }
    return null;
  };

  /**
   * Commands carry the context Neovim evaluates as they run (remote#define passes `eval` as the
   * last argument); node-client's registerCommand drops that option, so it is set on the spec.
   */
  const CONTEXT_EVAL = `luaeval("require('claude_worktrees').context()")`;
  const registerCommand = (name: string, fn: (...a: unknown[]) => Promise<null>, opts: Parameters<NvimPlugin['registerCommand']>[2], bang = false) => {
    plugin.registerCommand(name, fn, opts);
    const spec = plugin.commands[name]?.spec as { opts?: Record<string, unknown> } | undefined;
    if (spec?.opts) {
      spec.opts.eval = CONTEXT_EVAL;
      // Dropped too: remote#define then passes `<q-bang> == "!"` before the eval.
      if (bang) spec.opts.bang = '';
    }
  };

  registerCommand('ClaudeCode', command(':ClaudeCode', (c, a, bang) => app.claudeCode(c, a, bang === true || bang === 1)), { nargs: '*', sync: true }, true);
  registerCommand('ClaudeCodeList', printing(':ClaudeCodeList', (c) => app.list(c)), { sync: true });
  registerCommand('ClaudeCodeSwitch', command(':ClaudeCodeSwitch', (c, a) => app.switchTo(c, a)), { nargs: '?', complete: COMPLETE, sync: true });
  registerCommand('ClaudeCodeKill', command(':ClaudeCodeKill', (c, a) => app.kill(c, a)), { nargs: '?', complete: COMPLETE, sync: true });
  registerCommand('ClaudeCodeKillAll', command(':ClaudeCodeKillAll', () => app.killAll()), { sync: true });
  registerCommand('ClaudeCodeSend', command(':ClaudeCodeSend', (c, r) => app.send(c, r)), { range: '', sync: true });
  registerCommand('ClaudeCodeSendTo', command(':ClaudeCodeSendTo', (c, a, r) => app.sendTo(c, a, r)),
    { nargs: '1', range: '', complete: COMPLETE, sync: true });
  registerCommand('ClaudeCodeAdd', command(':ClaudeCodeAdd', (c, a) => app.add(c, a)), { nargs: '+', complete: 'file', sync: true });
  registerCommand('ClaudeCodeDiffAccept', command(':ClaudeCodeDiffAccept', (c) => app.diffDecide(c, 'accept')), { sync: true });
  registerCommand('ClaudeCodeDiffDeny', command(':ClaudeCodeDiffDeny', (c) => app.diffDecide(c, 'reject')), { sync: true });
  registerCommand('ClaudeCodeNext', command(':ClaudeCodeNext', (c) => app.next(c)), { sync: true });
  registerCommand('ClaudeCodeStatus', printing(':ClaudeCodeStatus', (c) => app.status(c)), { sync: true });

  // Events from the Lua side (selection, diff decisions, terminal exits), sent by rpcnotify.
  plugin.registerFunction('ClaudeWorktreesEvent', (args: unknown) => {
    try {
      app.event(Array.isArray(args) ? args[0] : args);
    } catch (err) {
      app.report('event', err);
    }
  }, { sync: false });

  // :ClaudeCodeWorktree is defined in Lua (its completion of subcommands and worktrees is there) and calls
  // this with (args, bang, context). Sync while the context is read, like the commands.
  const worktree = command(':ClaudeCodeWorktree', (c, rawArgs, bang) => app.worktree(c, rawArgs, bang === true || bang === 1));
  plugin.registerFunction('ClaudeWorktreesWorktree', (args: unknown) => worktree(...(Array.isArray(args) ? args : [])), { sync: true });

  // prestart (lua/claude_worktrees/host.lua): attach now, so the first command costs one request.
  plugin.registerFunction('ClaudeWorktreesWarm', () => {
    app.warm().catch((err) => app.report('prestart', err));
  }, { sync: false });

  // A barrier for tests and the bench: returns once every event Lua sent before it is applied
  // (events and this request travel in order on the same channel).
  plugin.registerFunction('ClaudeWorktreesSync', () => app.editorState.batches, { sync: true });

  // Memory and counts of this plugin's side of the host (bench, :checkhealth, bug reports).
  plugin.registerFunction('ClaudeWorktreesStats', (args: unknown) => {
    try {
      return app.stats(Array.isArray(args) && args[0] === 'gc');
    } catch (err) {
      app.report('stats', err);
      return null;
    }
  }, { sync: true });

  // On :qa the host sees 'disconnect' about 1 ms before SIGTERM: clean up synchronously in
  // both, and at exit (idempotent), so no lock file or claude process outlives this Neovim.
  plugin.nvim.on('disconnect', () => app.disposeSync());
  // SIGHUP: the terminal nvim ran in closed (its process group hears it); SIGINT/SIGQUIT alike.
  // Their default is to die on the spot, leaving every lock file behind for a reused pid.
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const) {
    process.once(sig, () => {
      app.disposeSync();
      process.exit(0);
    });
  }
  process.once('exit', () => app.disposeSync());
};
