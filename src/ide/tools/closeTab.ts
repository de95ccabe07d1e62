import { reqString } from '../args';
import { text, type Tool } from '../tool';

/** Called by the CLI after each diff (often twice) and when the user answered in the terminal. */
export const closeTab: Tool = {
  name: 'close_tab',
  description: 'Close a tab opened by this server',
  listed: false,
  inputSchema: {
    type: 'object',
    properties: { tab_name: { type: 'string', description: 'Name of the tab to close' } },
    required: ['tab_name'],
  },
  call(args, ctx) {
    ctx.diffs.close(reqString(args, 'tab_name'));
    return text('TAB_CLOSED');
  },
};
