import { optBool, optInt, optString, reqString } from '../args';
import { requireRegularFile } from '../scope';
import { json, text, type Tool } from '../tool';

export const openFile: Tool = {
  name: 'openFile',
  description: 'Open a file in the editor, optionally selecting a range of text',
  listed: true,
  inputSchema: {
    type: 'object',
    properties: {
      filePath: { type: 'string', description: 'Path of the file to open' },
      preview: { type: 'boolean', description: 'Open as a preview', default: false },
      startLine: { type: 'integer', description: 'First line (1-based) to select' },
      endLine: { type: 'integer', description: 'Last line (1-based) to select' },
      startText: { type: 'string', description: 'Text that starts the selection' },
      endText: { type: 'string', description: 'Text that ends the selection' },
      selectToEndOfLine: { type: 'boolean', description: 'Extend the selection to the end of the line', default: false },
      makeFrontmost: { type: 'boolean', description: 'Focus the file (otherwise answer with its details)', default: true },
    },
    required: ['filePath'],
    additionalProperties: false,
  },
  async call(args, ctx) {
    const filePath = ctx.scope.resolve(reqString(args, 'filePath'), 'filePath');
    requireRegularFile(filePath, 'filePath');
    const makeFrontmost = optBool(args, 'makeFrontmost', true);
    await ctx.editor.openFile({
      filePath,
      preview: optBool(args, 'preview', false),
      startLine: optInt(args, 'startLine'),
      endLine: optInt(args, 'endLine'),
      startText: optString(args, 'startText'),
      endText: optString(args, 'endText'),
      selectToEndOfLine: optBool(args, 'selectToEndOfLine', false),
      makeFrontmost,
    });
    if (makeFrontmost) return text(`Opened file: ${filePath}`);
    return json({ success: true, filePath });
  },
};
