import { describe, expect, it } from 'vitest';
import { CsvError, CsvParser, parseCsv } from '../../src/modules/import/csv.ts';
import { fit, slowdownRatio } from '../support/linearity.ts';

describe('the importer’s CSV state machine', () => {
  const table: [string, string, string[][]][] = [
    ['plain rows, LF', 'a,b\nc,d\n', [['a', 'b'], ['c', 'd']]],
    ['CRLF and no final line end', 'a,b\r\nc,d', [['a', 'b'], ['c', 'd']]],
    ['quoted comma, quote and line break', '"x,y","say ""hi""","two\nlines"\n', [['x,y', 'say "hi"', 'two\nlines']]],
    ['empty fields', ',,\n', [['', '', '']]],
    ['blank lines skipped', 'a\n\n\nb\n', [['a'], ['b']]],
    ['byte-order mark dropped', '\ufeffname\nx\n', [['name'], ['x']]],
    ['a quote inside an unquoted field is text', 'ab"c,d\n', [['ab"c', 'd']]],
    ['empty quoted field', '"",x\n', [['', 'x']]],
  ];
  it.each(table)('%s', (_name, input, expected) => {
    expect(parseCsv(input).map((r) => r.fields)).toEqual(expected);
  });

  it('gives the line each record starts on, across quoted line breaks', () => {
    expect(parseCsv('h\n"a\nb"\nc\n').map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('streams: the same records whatever the chunk boundaries', () => {
    const text = 'a,"b\r\n""c"""\r\nd,e\r\n';
    for (let size = 1; size <= text.length; size++) {
      const out: string[][] = [];
      const p = new CsvParser((f) => out.push(f));
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      p.end();
      expect(out, `chunk size ${size}`).toEqual([['a', 'b\r\n"c"'], ['d', 'e']]);
    }
  });

  it('refuses text after a closing quote, an unclosed quote, and oversized fields or rows', () => {
    expect(() => parseCsv('"a"b\n')).toThrow(CsvError);
    expect(() => parseCsv('x\n"open')).toThrow(/not closed/);
    expect(() => parseCsv('x'.repeat(20), { maxFieldChars: 10 })).toThrow(/longer than 10/);
    expect(() => parseCsv('a,b,c\n', { maxFields: 2 })).toThrow(/more than 2 columns/);
  });

  it('runs in linear time on crafted input (quotes, separators, line breaks)', async () => {
    const n = 200_000;
    const benign = fit('a,b,c\n'.repeat(n / 6), n);
    const crafted = fit('"'.repeat(n / 2 - 1), n - 1, '"') + '"';
    const commas = fit(',\n"",'.repeat(n / 5), n);
    const work = (s: string) => {
      try {
        parseCsv(s, { maxFields: 1_000_000, maxFieldChars: 1_000_000 });
      } catch {
        // refused is fine: the time is what counts
      }
    };
    expect(await slowdownRatio(work, benign, crafted)).toBeLessThan(10);
    expect(await slowdownRatio(work, benign, commas)).toBeLessThan(10);
  });
});
