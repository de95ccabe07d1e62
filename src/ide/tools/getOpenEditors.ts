import type { OpenEditorTab } from '../editor';
import { jsonOnce, whenReady, type Tool } from '../tool';
import { scopedFilter } from './scoped';

/** This worktree's buffers only: Neovim's buffer list holds every worktree's files. */
const inScope = scopedFilter<OpenEditorTab>((t) => t.fileName);

export const getOpenEditors: Tool = {
  name: 'getOpenEditors',
  description: 'Get the files open in the editor',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  call(_args, ctx) {
    return whenReady(ctx.editor.getOpenEditors(), (tabs) => jsonOnce(inScope(tabs, ctx.scope), (t) => ({ tabs: t })));
  },
};
