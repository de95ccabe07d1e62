const LOOPBACK = ['localhost', '127.0.0.1', '::1'];

/** Add loopback to a no_proxy list so the CLI never sends its IDE socket through a proxy. */
export function withLoopbackNoProxy(value: string | undefined): string {
  const items = new Set((value ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  for (const h of LOOPBACK) items.add(h);
  return [...items].join(',');
}

/** The environment a claude started for an instance needs (PROTOCOL.md §6), on top of base. */
export function claudeEnv(
  port: number,
  base: NodeJS.ProcessEnv = process.env,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  Object.assign(env, extra);
  env.CLAUDE_CODE_SSE_PORT = String(port);
  env.ENABLE_IDE_INTEGRATION = 'true';
  // Connect to this instance's IDE at start, also where the user's config would not.
  env.CLAUDE_CODE_AUTO_CONNECT_IDE = 'true';
  env.FORCE_CODE_TERMINAL = 'true';
  // Keep the entries of both spellings: either may be the one a user set.
  const noProxy = withLoopbackNoProxy([env.no_proxy, env.NO_PROXY].filter(Boolean).join(','));
  env.no_proxy = noProxy;
  env.NO_PROXY = noProxy;
  return env;
}

/** The command as an argv list: a string is split on whitespace (never given to a shell). */
export function claudeArgv(cmd: string | string[], extraArgs: string[] = []): string[] {
  const base = Array.isArray(cmd) ? cmd : cmd.trim().split(/\s+/).filter(Boolean);
  if (base.length === 0) throw new Error('claude command is empty');
  return [...base, ...extraArgs];
}
