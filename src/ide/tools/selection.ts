import { json, type Tool } from '../tool';

export const getCurrentSelection: Tool = {
  name: 'getCurrentSelection',
  description: 'Get the current text selection in the active editor',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  async call(_args, ctx) {
    const sel = await ctx.editor.getCurrentSelection();
    return json(sel ? { success: true, ...sel } : { success: false, message: 'No active editor found' });
  },
};

export const getLatestSelection: Tool = {
  name: 'getLatestSelection',
  description: 'Get the most recent text selection (even if the editor that had it is no longer active)',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  async call(_args, ctx) {
    const sel = await ctx.editor.getLatestSelection();
    return json(sel ? { success: true, ...sel } : { success: false, message: 'No selection available' });
  },
};
