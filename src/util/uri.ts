import * as path from 'path';
import { pathToFileURL, fileURLToPath } from 'url';

/** file:// URI of an absolute path, percent-encoded the way LSP and the CLI expect. */
export function fileUri(absPath: string): string {
  return pathToFileURL(absPath).href;
}

/** Accept either a file:// URI or a bare path (the CLI sends both) and return an absolute path. */
export function uriOrPathToPath(value: string, base?: string): string {
  if (value.startsWith('file://')) {
    try {
      return fileURLToPath(value);
    } catch {
      return path.resolve(base ?? process.cwd(), value.slice('file://'.length));
    }
  }
  return path.resolve(base ?? process.cwd(), value);
}

/** True when child is root itself or lies below it (string-wise, both absolute and normalized). */
export function isInside(root: string, child: string): boolean {
  // The common case without path.relative (it resolves both; a tool call checks a path or two):
  // child is root + '/' + a rest with no '.', '..' or empty segment to normalize away.
  if (child.length > root.length && child.charCodeAt(root.length) === 47 /* / */ && child.startsWith(root)
    && isPlainAbsolute(root) && !child.includes('/.', root.length) && !child.includes('//', root.length)) {
    return true;
  }
  const rel = path.relative(root, child);
  // '..hidden' is a name inside root; only '..' itself or '../…' leave it.
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

/** '/x/y': absolute, no trailing slash, no '.', '..' or empty segment. */
function isPlainAbsolute(p: string): boolean {
  return p.length > 1 && p.charCodeAt(0) === 47 && !p.endsWith('/') && !p.includes('/.') && !p.includes('//');
}
