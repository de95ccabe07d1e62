import { json, jsonOnce, SerializedResult } from '../../src/ide/tool';
import { resultFrame } from '../../src/ide/jsonrpc';

describe('serialized tool results', () => {
  const frameOf = (id: string | number, r: unknown) =>
    r instanceof SerializedResult ? resultFrame(id, null, r) : resultFrame(id, r);

  it('a pre-serialized frame is byte for byte the frame JSON.stringify would build', () => {
    const value = Object.freeze([{ uri: 'file:///a "quoted"\\path', n: 1, s: 'é\u2028\n' }]);
    for (const id of [7, 'req-"x"', 0]) {
      expect(frameOf(id, jsonOnce(value))).toBe(JSON.stringify({ jsonrpc: '2.0', id, result: json(value) }));
    }
  });

  it('serializes a frozen answer once, and a mutable one on every call', () => {
    const frozen = Object.freeze({ tabs: Object.freeze([]) });
    expect(jsonOnce(frozen)).toBe(jsonOnce(frozen));
    const mutable: number[] = [1];
    const first = jsonOnce(mutable);
    mutable.push(2);
    expect(first).not.toBeInstanceOf(SerializedResult);
    expect(JSON.parse((jsonOnce(mutable) as { content: Array<{ text: string }> }).content[0].text)).toEqual([1, 2]);
  });

  it('keeps one serialization per variant of a frozen value, and a bounded number of them', () => {
    const state = Object.freeze({ dirty: true });
    const wrap = (v: { dirty: boolean }, variant: string) => ({ path: variant, dirty: v.dirty });
    const a = jsonOnce(state, wrap, '/w/a') as SerializedResult;
    const link = jsonOnce(state, wrap, '/w/link') as SerializedResult;
    expect(JSON.parse(JSON.parse(a.json).content[0].text)).toEqual({ path: '/w/a', dirty: true });
    expect(JSON.parse(JSON.parse(link.json).content[0].text)).toEqual({ path: '/w/link', dirty: true });
    expect(jsonOnce(state, wrap, '/w/a')).toBe(a);
    for (let i = 0; i < 20; i++) jsonOnce(state, wrap, `/w/${i}`);
    // Still right after the variants were dropped and made again.
    expect(JSON.parse(JSON.parse((jsonOnce(state, wrap, '/w/a') as SerializedResult).json).content[0].text)).toEqual({ path: '/w/a', dirty: true });
  });

  it('wraps the value as the tool asks', () => {
    const tabs = Object.freeze([Object.freeze({ a: 1 })]);
    const r = jsonOnce(tabs, (t) => ({ tabs: t })) as SerializedResult;
    expect(JSON.parse(JSON.parse(r.json).content[0].text)).toEqual({ tabs: [{ a: 1 }] });
  });
});
