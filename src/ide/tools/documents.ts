import * as path from 'path';
import { reqString } from '../args';
import { json, type Tool } from '../tool';

const filePathSchema = {
  type: 'object' as const,
  properties: { filePath: { type: 'string', description: 'Path of the file' } },
  required: ['filePath'],
  additionalProperties: false,
};

export const checkDocumentDirty: Tool = {
  name: 'checkDocumentDirty',
  description: 'Check whether a document has unsaved changes',
  listed: true,
  inputSchema: filePathSchema,
  async call(args, ctx) {
    const filePath = path.resolve(ctx.workspaceFolder, reqString(args, 'filePath'));
    const state = await ctx.editor.checkDocumentDirty(filePath);
    if (!state) return json({ success: false, message: `Document not open: ${filePath}` });
    return json({ success: true, filePath, isDirty: state.isDirty, isUntitled: state.isUntitled });
  },
};

export const saveDocument: Tool = {
  name: 'saveDocument',
  description: 'Save a document that has unsaved changes',
  listed: true,
  inputSchema: filePathSchema,
  async call(args, ctx) {
    const filePath = path.resolve(ctx.workspaceFolder, reqString(args, 'filePath'));
    const saved = await ctx.editor.saveDocument(filePath);
    if (!saved) return json({ success: false, message: `Document not open: ${filePath}` });
    return json({ success: true, filePath, saved: true, message: 'Document saved successfully' });
  },
};
