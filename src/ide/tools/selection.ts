import { json, whenReady, type Tool } from '../tool';

export const getCurrentSelection: Tool = {
  name: 'getCurrentSelection',
  description: 'Get the current text selection in the active editor',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  call(_args, ctx) {
    return whenReady(ctx.editor.getCurrentSelection(),
      (sel) => json(sel ? { success: true, ...sel } : { success: false, message: 'No active editor found' }));
  },
};

export const getLatestSelection: Tool = {
  name: 'getLatestSelection',
  description: 'Get the most recent text selection (even if the editor that had it is no longer active)',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  call(_args, ctx) {
    return whenReady(ctx.editor.getLatestSelection(),
      (sel) => json(sel ? { success: true, ...sel } : { success: false, message: 'No selection available' }));
  },
};
