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
  const rel = path.relative(root, child);
  // '..hidden' is a name inside root; only '..' itself or '../…' leave it.
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}
