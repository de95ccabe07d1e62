import * as path from 'path';
import { json, type Tool } from '../tool';
import { fileUri } from '../../util/uri';

/** One instance, one worktree: the folder is this server's worktree root, nothing else. */
export const getWorkspaceFolders: Tool = {
  name: 'getWorkspaceFolders',
  description: 'Get the workspace folders (the git worktree this Claude instance belongs to)',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  call(_args, ctx) {
    const root = ctx.workspaceFolder;
    return json({
      success: true,
      folders: [{ name: path.basename(root), uri: fileUri(root), path: root }],
      rootPath: root,
    });
  },
};
