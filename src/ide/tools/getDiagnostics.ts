import { optString } from '../args';
import { jsonOnce, whenReady, type Tool } from '../tool';
import { uriOrPathToPath } from '../../util/uri';

/**
 * Never an error for a file without a buffer or diagnostics: the CLI takes a failed baseline
 * call to mean "never report new diagnostics for this file".
 */
export const getDiagnostics: Tool = {
  name: 'getDiagnostics',
  description:
    'Get language diagnostics (errors, warnings) from the editor, for one file (uri) or for all files',
  listed: true,
  inputSchema: {
    type: 'object',
    properties: {
      uri: { type: 'string', description: 'Optional file URI (or path) to get diagnostics for; omit for all files' },
    },
    additionalProperties: false,
  },
  call(args, ctx) {
    const uri = optString(args, 'uri');
    const file = uri ? uriOrPathToPath(uri, ctx.workspaceFolder) : undefined;
    return whenReady(ctx.editor.getDiagnostics(file), (d) => jsonOnce(d));
  },
};
