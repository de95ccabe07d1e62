/**
 * `node hookRelay.js <url>`: claude's SessionStart command hook (the CLI runs no http hooks for
 * SessionStart). Forwards the hook input on stdin to the instance's /hook endpoint with the token
 * from CLAUDE_WORKTREES_HOOK_TOKEN. Standalone on purpose (only node's http: starts fast). It
 * prints nothing, since a SessionStart hook's stdout becomes context for the model, and always
 * exits 0, since a status report must never get in claude's way.
 */
import * as http from 'http';

const MAX_INPUT = 1024 * 1024;
const TIMEOUT_MS = 5000;

function main(): void {
  const url = process.argv[2] ?? '';
  // Only ever our own loopback endpoint, whatever the argument says.
  if (!/^http:\/\/127\.0\.0\.1:\d{1,5}\/hook$/.test(url)) process.exit(0);
  const token = process.env.CLAUDE_WORKTREES_HOOK_TOKEN ?? '';
  setTimeout(() => process.exit(0), TIMEOUT_MS).unref();
  const parts: Buffer[] = [];
  let size = 0;
  process.stdin.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_INPUT) process.exit(0);
    parts.push(c);
  });
  process.stdin.on('error', () => process.exit(0));
  process.stdin.on('end', () => {
    const body = Buffer.concat(parts);
    const req = http.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Authorization: `Bearer ${token}` },
    }, (res) => {
      res.resume();
      res.on('end', () => process.exit(0));
    });
    req.on('error', () => process.exit(0));
    req.end(body);
  });
}

main();
