import { json, type Tool } from '../tool';

export const getOpenEditors: Tool = {
  name: 'getOpenEditors',
  description: 'Get the files open in the editor',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  async call(_args, ctx) {
    return json({ tabs: await ctx.editor.getOpenEditors() });
  },
};
