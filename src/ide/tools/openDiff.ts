import { reqString } from '../args';
import { INVALID_PARAMS, RpcError } from '../jsonrpc';
import { requireRegularFile } from '../scope';
import { text, type Tool } from '../tool';
import * as path from 'path';

/**
 * Shows the proposed edit and BLOCKS until the user decides. The CLI writes the file itself;
 * we only report the decision (and the user's edited text, which the CLI then writes).
 */
export const openDiff: Tool = {
  name: 'openDiff',
  description:
    'Open a diff view comparing a file with proposed new contents, and wait for the user to accept or reject it',
  listed: true,
  inputSchema: {
    type: 'object',
    properties: {
      old_file_path: { type: 'string', description: 'Path of the file to compare against (may not exist yet)' },
      new_file_path: { type: 'string', description: 'Path the new contents are for' },
      new_file_contents: { type: 'string', description: 'The proposed full contents of the file' },
      tab_name: { type: 'string', description: 'Name of the diff tab' },
    },
    required: ['old_file_path', 'new_file_path', 'new_file_contents', 'tab_name'],
    additionalProperties: false,
  },
  async call(args, ctx) {
    const oldRaw = reqString(args, 'old_file_path');
    const newRaw = reqString(args, 'new_file_path');
    const newContents = reqString(args, 'new_file_contents');
    const tabName = reqString(args, 'tab_name');
    if (!path.isAbsolute(oldRaw) || !path.isAbsolute(newRaw)) {
      throw new RpcError(INVALID_PARAMS, 'old_file_path and new_file_path must be absolute');
    }
    const oldFilePath = ctx.scope.resolve(oldRaw, 'old_file_path');
    const newFilePath = ctx.scope.resolve(newRaw, 'new_file_path');
    // Both may be new files; what exists must be a regular file Neovim can read without blocking.
    requireRegularFile(oldFilePath, 'old_file_path', true);
    requireRegularFile(newFilePath, 'new_file_path', true);
    const handle = ctx.editor.openDiff({ tabName, oldFilePath, newFilePath, newContents });
    ctx.diffs.add(tabName, handle, ctx.clientId, ctx.requestId);
    try {
      const outcome = await handle.outcome;
      if (outcome.kind === 'accepted') return text('FILE_SAVED', outcome.contents);
      return text('DIFF_REJECTED', tabName);
    } finally {
      ctx.diffs.forget(tabName, handle);
    }
  },
};
