import { jsonOnce, whenReady, type Tool } from '../tool';

export const getOpenEditors: Tool = {
  name: 'getOpenEditors',
  description: 'Get the files open in the editor',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  call(_args, ctx) {
    return whenReady(ctx.editor.getOpenEditors(), (tabs) => jsonOnce(tabs, (t) => ({ tabs: t })));
  },
};
