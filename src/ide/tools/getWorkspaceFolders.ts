import * as path from 'path';
import { json, SerializedResult, type Tool } from '../tool';
import { fileUri } from '../../util/uri';

// The answer never changes for a worktree: build it once (it is the hottest, smallest call).
const answers = new Map<string, SerializedResult>();

/** One instance, one worktree: the folder is this server's worktree root, nothing else. */
export const getWorkspaceFolders: Tool = {
  name: 'getWorkspaceFolders',
  description: 'Get the workspace folders (the git worktree this Claude instance belongs to)',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  call(_args, ctx) {
    const root = ctx.workspaceFolder;
    let answer = answers.get(root);
    if (!answer) {
      if (answers.size > 256) answers.clear();
      answer = new SerializedResult(JSON.stringify(json({
        success: true,
        folders: [{ name: path.basename(root), uri: fileUri(root), path: root }],
        rootPath: root,
      })));
      answers.set(root, answer);
    }
    return answer;
  },
};
