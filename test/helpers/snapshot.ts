import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** mtime, size and hash of every regular file below dir (links not followed): the "nothing changed" witness. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = fs.statSync(p);
        out.set(p, `${st.mtimeMs}:${st.size}:${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
      }
    }
  };
  walk(dir);
  return out;
}
