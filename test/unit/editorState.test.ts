/** EditorState answers checkDocumentDirty and getOpenEditors from the records Lua pushes (issue 12). */
import { EditorState } from '../../src/plugin/editorState';

const rec = (buf: number, p: string, extra: Record<string, unknown> = {}) =>
  ({ buf, path: p, real: p, dirty: false, filetype: 'text', lines: 1, listed: true, ...extra });

describe('EditorState document states', () => {
  it('matches by name first, then by resolved name; unlisted buffers are documents but not tabs', () => {
    const s = new EditorState();
    s.apply({ full: true, cur: 1, gone: [], diags: [], bufs: [
      rec(1, '/w/a.txt', { dirty: true }),
      rec(2, '/w/link.txt', { real: '/w/target.txt' }),
      rec(3, '/w/hidden.txt', { listed: false, dirty: true }),
    ] });
    expect(s.docState('/w/a.txt')).toEqual({ isDirty: true, isUntitled: false, realPath: '/w/a.txt' });
    expect(s.docState('/w/target.txt')).toEqual({ isDirty: false, isUntitled: false, realPath: '/w/target.txt' });
    expect(s.docState('/w/link.txt')?.realPath).toBe('/w/target.txt');
    expect(s.docState('/w/hidden.txt')).toEqual({ isDirty: true, isUntitled: false, realPath: '/w/hidden.txt' });
    expect(s.docState('/w/none.txt')).toBeNull();
    expect(s.openEditors().map((t) => t.fileName)).toEqual(['/w/a.txt', '/w/link.txt']);
  });

  it('a delta updates the answer; a buffer gone is not open; the lowest buffer wins a shared name', () => {
    const s = new EditorState();
    s.apply({ full: true, cur: 1, gone: [], diags: [], bufs: [rec(4, '/w/a.txt', { dirty: true }), rec(2, '/w/b.txt', { real: '/w/a.txt' })] });
    expect(s.docState('/w/a.txt')?.isDirty).toBe(true); // exact name beats a resolved one
    s.apply({ full: false, cur: 1, gone: [4], diags: [], bufs: [] });
    expect(s.docState('/w/a.txt')?.isDirty).toBe(false); // now only b.txt resolves there
    s.apply({ full: false, cur: 1, gone: [], diags: [], bufs: [rec(2, '/w/b.txt', { real: '/w/a.txt', dirty: true })] });
    expect(s.docState('/w/a.txt')?.isDirty).toBe(true);
  });

  it('hands out one frozen state per buffer record until a batch replaces the record', () => {
    const s = new EditorState();
    s.apply({ full: true, cur: 1, gone: [], diags: [], bufs: [rec(1, '/w/a.txt'), rec(2, '/w/b.txt')] });
    const first = s.docState('/w/a.txt');
    expect(Object.isFrozen(first)).toBe(true);
    expect(s.docState('/w/a.txt')).toBe(first);
    // Another buffer's change: a.txt's record stays, and so does its state.
    s.apply({ full: false, cur: 1, gone: [], diags: [], bufs: [rec(2, '/w/b.txt', { dirty: true })] });
    expect(s.docState('/w/a.txt')).toBe(first);
    s.apply({ full: false, cur: 1, gone: [], diags: [], bufs: [rec(1, '/w/a.txt', { dirty: true })] });
    const second = s.docState('/w/a.txt');
    expect(second).not.toBe(first);
    expect(second).toEqual({ isDirty: true, isUntitled: false, realPath: '/w/a.txt' });
    expect(first).toEqual({ isDirty: false, isUntitled: false, realPath: '/w/a.txt' });
  });

  it('a malformed record changes nothing', () => {
    const s = new EditorState();
    s.apply({ full: true, cur: 1, gone: [], diags: [], bufs: [rec(1, '/w/a.txt')] });
    expect(() => s.apply({ full: false, cur: 1, gone: [], diags: [], bufs: [rec(1, '/w/a.txt', { dirty: 'yes' })] })).toThrow();
    expect(s.docState('/w/a.txt')).toEqual({ isDirty: false, isUntitled: false, realPath: '/w/a.txt' });
  });
});
