import { text, type Tool } from '../tool';

export const closeAllDiffTabs: Tool = {
  name: 'closeAllDiffTabs',
  description: 'Close every diff tab this server opened',
  listed: true,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  call(_args, ctx) {
    return text(`CLOSED_${ctx.diffs.closeAll()}_DIFF_TABS`);
  },
};
