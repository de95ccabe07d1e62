import { reqString } from '../args';
import { requireRegularFile } from '../scope';
import type { DocumentState } from '../editor';
import { json, jsonOnce, whenReady, type Tool } from '../tool';

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
  call(args, ctx) {
    const raw = reqString(args, 'filePath');
    const abs = ctx.scope.absolute(raw, 'filePath');
    return whenReady(ctx.editor.checkDocumentDirty(abs), (state) => {
      // A buffer the editor resolved to a file inside the scope answers as is; any other path
      // is judged on its real path now (outside: the scope's error, not "not open").
      const filePath = state?.realPath !== undefined && ctx.scope.containsReal(state.realPath)
        ? abs : ctx.scope.resolve(raw, 'filePath');
      return state
        ? jsonOnce(state, dirtyAnswer, filePath)
        : json({ success: false, message: `Document not open: ${filePath}` });
    });
  },
};

/** The answer for a buffer's state and the path asked (serialized once per both: jsonOnce). */
function dirtyAnswer(state: DocumentState, filePath: string): unknown {
  return { success: true, filePath, isDirty: state.isDirty, isUntitled: state.isUntitled };
}

export const saveDocument: Tool = {
  name: 'saveDocument',
  description: 'Save a document that has unsaved changes',
  listed: true,
  inputSchema: filePathSchema,
  async call(args, ctx) {
    const filePath = ctx.scope.resolve(reqString(args, 'filePath'), 'filePath');
    requireRegularFile(filePath, 'filePath', true);
    const r = await ctx.editor.saveDocument(filePath);
    switch (r.status) {
      case 'saved':
        return json({ success: true, filePath, saved: true, message: 'Document saved successfully' });
      case 'not_modified':
        return json({ success: true, filePath, saved: false, message: 'Document has no unsaved changes: nothing written' });
      case 'not_open':
        return json({ success: false, message: `Document not open: ${filePath}` });
      case 'conflict':
        return json({
          success: false, filePath, saved: false, conflict: true,
          message: `Not saved: the file ${r.message}; the editor keeps its unsaved changes for the user to resolve`,
        });
      case 'failed':
        return json({ success: false, filePath, saved: false, message: `Could not save: ${r.message}` });
    }
  },
};
